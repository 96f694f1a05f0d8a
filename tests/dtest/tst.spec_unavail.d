/* nspec=2: a third speculation() while two are active returns 0, counted
 * as a failed speculation; speculate(0) drops the clause silently. */
#pragma D option quiet
#pragma D option nspec=2

BEGIN
{
	a = speculation();
	b = speculation();
	c = speculation();
	printf("%d %d %d\n", a, b, c);
}

BEGIN
{
	speculate(c);
	printf("never\n");
}

BEGIN
{
	speculate(b);
	printf("b\n");
}

BEGIN
{
	commit(b);
	discard(a);
}

BEGIN
{
	exit(0);
}
