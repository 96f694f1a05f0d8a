/* tick-driven, with -x options on the command line.
 * @flags: -x quiet -x switchrate=20ms */
int i;

tick-10ms
/i < 3/
{
	printf("tick %d\n", ++i);
}

tick-10ms
/i == 3/
{
	exit(0);
}
