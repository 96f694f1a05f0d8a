/* Sorting options: aggsortkey from a pragma, aggsortrev from -x.
 * @flags: -x aggsortrev */
#pragma D option quiet
#pragma D option aggsortkey

BEGIN
{
	@a[3] = sum(10); @a[1] = sum(30); @a[2] = sum(20); @a[4] = sum(5);
	exit(0);
}
