/* A constant index outside a string array's bounds (Oracle Linux DTrace). */
string s[4];

BEGIN
{
	s[4] = "x";
	exit(0);
}
