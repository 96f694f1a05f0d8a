/* aggregations may not follow speculate() */

BEGIN
{
	speculate(1);
	@a[1] = sum(2);
}
