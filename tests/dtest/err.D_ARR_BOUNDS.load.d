/* A negative constant index, in the second dimension. */
int m[2][3];

BEGIN
{
	trace(m[1][-1]);
	exit(0);
}
