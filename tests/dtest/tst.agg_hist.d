/* quantize, lquantize and llquantize histograms printed at the end. */
#pragma D option quiet

BEGIN
{
	@q = quantize(1); @q = quantize(1); @q = quantize(3);
	@q = quantize(5); @q = quantize(7);
	@l = lquantize(-1, 0, 10, 2); @l = lquantize(0, 0, 10, 2);
	@l = lquantize(3, 0, 10, 2); @l = lquantize(3, 0, 10, 2);
	@l = lquantize(11, 0, 10, 2);
	@ll = llquantize(5, 10, 0, 1, 10); @ll = llquantize(50, 10, 0, 1, 10);
	@ll = llquantize(500, 10, 0, 1, 10);
	exit(0);
}
