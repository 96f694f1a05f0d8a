/* A constant index outside a thread-local D array's bounds (Oracle Linux DTrace). */
self int a[4];

BEGIN
{
	self->a[4]++;
	exit(0);
}
