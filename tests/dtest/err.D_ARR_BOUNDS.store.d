/* A constant index outside a D array's bounds (Oracle Linux DTrace). */
int a[4];

BEGIN
{
	a[4] = 1;
	exit(0);
}
