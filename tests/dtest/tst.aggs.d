/* Every aggregating function, keys, increments, and the aggregation actions. */
syscall:::entry
{
	@calls[probefunc] = count();
	@bytes[execname, pid] = sum(arg2);
	@avg = avg(arg2);
	@min = min(arg2);
	@max = max(arg2);
	@sd = stddev(arg2);
	@q = quantize(arg2);
	@qi[probefunc] = quantize(arg2, 2);
	@l = lquantize(arg2, 0, 1000, 100);
	@li = lquantize(arg2, 0, 1000, 100, 3);
	@ll = llquantize(arg2, 10, 0, 6, 20);
	@[execname] = count();
}

END
{
	normalize(@bytes, 1024);
	trunc(@calls, 10);
	printa(@calls);
	printa("%-20s %8d %@8d\n", @bytes);
	printa("%s %@d %@d\n", @calls, @qi);
	denormalize(@bytes);
	clear(@avg);
	trunc(@q);
	setopt("aggsortkey");
	setopt("aggsortpos", "1");
}
