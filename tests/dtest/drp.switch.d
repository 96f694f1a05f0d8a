/* switch policy drops: a tiny principal buffer and many records in one
 * firing of BEGIN; the exit() in tick is dropped until a switch makes room. */
#pragma D option quiet
#pragma D option bufsize=1k
#pragma D option switchrate=100ms

BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }
BEGIN { printf("%s", ""); }

tick-50ms
{
	exit(0);
}
