/* agghist: count() and sum() drawn as one histogram per variable, a bar per
 * key, under a header as wide as the keys. */
#pragma D option quiet
#pragma D option agghist

BEGIN
{
	@c["a"] = count(); @c["a"] = count(); @c["a"] = count();
	@c["bb"] = count();
	@s[1] = sum(20); @s[2] = sum(10);
	exit(0);
}
