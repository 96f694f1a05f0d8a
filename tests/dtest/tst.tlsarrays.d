/*
 * Thread-local D scalar arrays: element stores (=, op=, ++, --, constant
 * and run-time indexes, struct members, two dimensions) create the
 * thread's storage zero-filled on the first store and keep it for later
 * clauses of the same thread; a store through a pointer inside the array
 * is allowed.  Every thread doing a read(2) gets its own array, so each
 * sees 2 after its first read.  (Loading an element before the thread's
 * first store is an invalid address, as in DTrace: ldts gives 0.)
 */
#pragma D option quiet

struct pt {
	int x;
	long y;
};

self int a[4];
self uint64_t u[3];
self char buf[8];
self struct pt p[2];
self short m[2][3];
self int n[2];

BEGIN
{
	self->a[1] = 7;
	self->a[2] += self->a[1];
	self->a[3]++;
	++self->a[3];
	i = 0;
	self->a[i] = -1;
	self->a[i]--;
	self->u[2] = 0xffffffffffffffff;
	self->buf[0] = 'o';
	self->buf[1] = 'k';
	self->p[1].y = 1 << 40;
	self->p[1].x = 3;
	j = 2;
	self->m[1][j] = -12;
	q = (int *)self->a;
	q[3] *= 10;
	printf("%d %d %d %d\n", self->a[0], self->a[1], self->a[2], self->a[3]);
	printf("%u %u %x\n", self->u[0], self->u[1], self->u[2]);
	printf("%s\n", stringof(self->buf));
	printf("%d %d %d\n", self->p[1].x, self->p[1].y, self->p[0].y);
	printf("%d %d\n", self->m[1][2], self->m[0][2]);
}

BEGIN
{
	self->a[2] <<= 2;
	printf("%d\n", self->a[2]);
}

syscall::read:entry
{
	self->n[1] += 2;
}

syscall::read:entry
/self->n[1] == 2/
{
	self->n[0] = self->n[1] + 1;
	ok = self->n[0];
}

tick-10ms
/ok/
{
	exit(0);
}

END
{
	printf("%d\n", ok);
}
