/* speculate() takes an int */

BEGIN
{
	speculate("a");
}
