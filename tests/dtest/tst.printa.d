/* printa with and without a format, several aggregations joined on keys,
 * normalize/denormalize, trunc and clear, in record order at END.
 * aggrate is short so that the END snapshot holds BEGIN's data. */
#pragma D option quiet
#pragma D option aggrate=1ms

BEGIN
{
	@n["x"] = sum(100); @n["y"] = sum(300); @n["z"] = sum(200);
	@c["x"] = count(); @c["y"] = count(); @c["y"] = count();
	exit(0);
}

END
{
	printa("%-4s %@5d\n", @n);
	printa("%s:%@d:%@d\n", @n, @c);
	printa(@c);
	normalize(@n, 100);
	printa("%s %@d\n", @n);
	denormalize(@n);
	printa("%s %@d\n", @n);
	trunc(@n, 1);
	printa("%s %@d\n", @n);
	clear(@c);
	printa("%s %@d\n", @c);
}
