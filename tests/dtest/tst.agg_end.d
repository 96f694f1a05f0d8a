/* count sum avg min max stddev printed at the end of the run, in variable
 * order, each sorted by value then key. */
#pragma D option quiet

BEGIN
{
	@c = count(); @c = count(); @c = count();
	@s["b"] = sum(10); @s["a"] = sum(20); @s["b"] = sum(15);
	@a = avg(1); @a = avg(2); @a = avg(4);
	@mn = min(5); @mn = min(-3);
	@mx = max(5); @mx = max(-3);
	@sd = stddev(2); @sd = stddev(4); @sd = stddev(4); @sd = stddev(4);
	@sd = stddev(5); @sd = stddev(5); @sd = stddev(7); @sd = stddev(9);
	@k[3] = sum(1); @k[1] = sum(3); @k[2] = sum(2);
	exit(0);
}
