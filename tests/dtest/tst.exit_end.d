/* exit() from BEGIN and again from END: END runs, the last status wins.
 * @status: 3 */
#pragma D option quiet

BEGIN
{
	printf("begin\n");
	exit(1);
}

END
{
	printf("end\n");
	exit(3);
}
