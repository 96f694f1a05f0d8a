/* op= on a string element: strings take no arithmetic. */
string s[2];

BEGIN
{
	s[1] += "x";
	exit(0);
}
