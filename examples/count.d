/*
 * Integer arithmetic, comparisons and trace(): prints 42, then 1, then a
 * line of text, and exits.
 */
BEGIN
{
	trace(6 * 7);
	trace(6 * 7 == 42);
	printf("%s %d\n", "the answer is", 40 + 2);
	exit(0);
}
