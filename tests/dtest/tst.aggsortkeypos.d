/* aggsortkeypos: with aggsortkey, rows are sorted by the key at that
 * position first (here the string), then by the others.
 * @flags: -x aggsortkey -x aggsortkeypos=1 */
#pragma D option quiet
#pragma D option aggrate=1ms

BEGIN
{
	@c[1, "c"] = sum(5); @c[2, "a"] = sum(6); @c[3, "b"] = sum(7);
	@c[4, "a"] = sum(8);
	exit(0);
}

END
{
	printa("%d %s %@d\n", @c);
}
