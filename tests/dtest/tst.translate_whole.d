/* trace() of a translated struct: built member by member in scratch memory,
 * untranslated members zero; recorded as its bytes. */
#pragma D option quiet

typedef struct out { int hi; char lo; char name[3]; short never; long big; } out_t;
translator out_t < int64_t V > {
	hi = V >> 8;
	lo = V;
	big = V * 0x100000000;
};

BEGIN
{
	trace(xlate<out_t>(0x1234));
	exit(0);
}
