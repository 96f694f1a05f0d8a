typedef unsigned char u8_t;
BEGIN
{
	trace((char)300);
	trace((unsigned short)-1);
	trace((u8_t)257);
	trace((long long)(int)-1);
	trace((uint64_t)(int8_t)-1);
	trace((void *)0 == (void *)0);
	p = (int *)0;
	q = (char **)p;
	exit(0);
}
