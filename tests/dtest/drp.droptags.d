/* droptags: each drop message starts with its kind ([DTRACEDROP_PRINCIPAL]);
 * the drops of drp.switch.d: a tiny principal buffer and many records in one
 * firing of BEGIN. */
#pragma D option quiet
#pragma D option droptags
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
