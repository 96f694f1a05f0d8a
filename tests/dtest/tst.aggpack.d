/* aggpack: quantize() one line per key over the variable's shared range,
 * lquantize() over its whole range; aggzoom; ASCII cells. */
#pragma D option quiet
#pragma D option aggpack
#pragma D option aggzoom
#pragma D option encoding=ascii

BEGIN
{
	@q["a"] = quantize(1);
	@q["a"] = quantize(2, 4);
	@q["b"] = quantize(8, 2);
	@l = lquantize(0, 0, 2, 1, 3);
	@l = lquantize(1, 0, 2, 1);
	exit(0);
}
