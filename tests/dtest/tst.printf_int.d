/* printf integer, character and string conversions with flags, widths,
 * precision and dynamic * widths. */
#pragma D option quiet

BEGIN
{
	printf("%d %i %u\n", 42, -42, 42);
	printf("%o %x %X\n", 8, 255, 255);
	printf("%#o %#x %#X\n", 8, 255, 255);
	printf("[%5d] [%-5d] [%05d] [%+d] [% d]\n", 42, 42, 42, 42, 42);
	printf("[%c] [%s] [%10s] [%-10s] [%.2s] 100%%\n", 'A', "str", "right", "left", "trunc");
	printf("[%*d] [%-*d]\n", 6, 7, 6, 7);
	printf("%u %x\n", -1, -1);
	printf("%d %d\n", (char)-1, (short)-2);
	printf("%lld %llx\n", 1LL << 40, -1LL);
	exit(0);
}
