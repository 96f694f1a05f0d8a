/* translators: members of xlate<T *>, xlate<T> and an inline translated
 * pointer, each evaluating its input once; the D library's constants. */
#pragma D option quiet

typedef struct out { int hi; int lo; char c; } out_t;
translator out_t < int64_t V > {
	hi = V >> 8;
	lo = V & 0xff;
	c = V;
};
inline out_t *o = xlate<out_t *>(n++);

BEGIN
{
	n = 0x703;
	printf("%d %d %d\n", xlate<out_t *>(0x703)->hi, xlate<out_t>(0x703).lo,
	    xlate<out_t *>(0x7ff)->c);
	printf("%d %d %d\n", o->lo, o->lo, n);
	printf("%d %d %d\n", SIGKILL, ENOENT, B_WRITE);
	exit(0);
}
