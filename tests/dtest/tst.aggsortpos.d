/* aggsortpos: a printa of several aggregations sorted by the values of
 * the second one (position 1), not the first; aggsortkeypos: with
 * aggsortkey, sorted by the second key first.
 * @flags: -x aggsortpos=1 */
#pragma D option quiet
#pragma D option aggrate=1ms

BEGIN
{
	@a["x"] = sum(1); @a["y"] = sum(2); @a["z"] = sum(3);
	@b["x"] = sum(30); @b["y"] = sum(10); @b["z"] = sum(20);
	exit(0);
}

END
{
	printa("%s %@d %@d\n", @a, @b);
}
