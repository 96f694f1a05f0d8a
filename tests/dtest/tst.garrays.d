/*
 * D scalar arrays in variables: global arrays of several element types
 * (struct members and two dimensions too) and a clause-local array,
 * zero-filled, written element by element and read back; the globals keep
 * their values into END.
 */
#pragma D option quiet

struct pt {
	int x;
	long y;
};

int a[4];
uint64_t u[3];
char buf[8];
struct pt p[2];
int m[2][3];
this int t[2];

BEGIN
{
	a[1] = 7;
	a[2] = a[1] + 1;
	a[3]++;
	a[3] += 40;
	i = 0;
	a[i] = -1;
	u[2] = 0xffffffffffffffff;
	buf[0] = 'o';
	buf[1] = 'k';
	p[1].y = 1 << 40;
	p[1].x = 3;
	m[1][2] = 12;
	this->t[1] = 5;
	printf("%d %d %d %d\n", a[0], a[1], a[2], a[3]);
	printf("%u %u %x\n", u[0], u[1], u[2]);
	printf("%s\n", stringof(buf));
	printf("%d %d %d\n", p[1].x, p[1].y, p[0].y);
	printf("%d %d\n", m[1][2], m[0][2]);
	printf("%d\n", this->t[1]);
	exit(0);
}

END
{
	printf("%d %d\n", a[2], a[3]);
}
