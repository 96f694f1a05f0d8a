/* specsize exhaustion: two 16-byte records (the 12-byte record header and
 * an int) fit in 32 bytes, the third is a speculative drop, reported once
 * the speculation is committed. */
#pragma D option quiet
#pragma D option specsize=32

BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("%d\n", 1);
}

BEGIN
{
	speculate(s);
	printf("%d\n", 2);
}

BEGIN
{
	speculate(s);
	printf("%d\n", 3);
}

BEGIN
{
	commit(s);
}

BEGIN
{
	exit(0);
}
