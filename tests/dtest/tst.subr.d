/*
 * Every subroutine whose result does not depend on the system, with the
 * values DTrace documents (the copyin family, rand(), d_path() and the
 * lock subroutines: tests/kernel/test_subr.py).  @flags: -q
 */
BEGIN
{
	s = strjoin("abc", lltostr(123));
	printf("strjoin %s\n", s);
	printf("strlen %d %d\n", strlen(s), strlen(""));
	printf("substr %s %s [%s] %s\n", substr(s, 1), substr(s, -2, 1),
	    substr(s, 10), substr(s, 1, -2));
	printf("index %d %d %d\n", index(s, "c"), index(s, "z"), index(s, "1", 3));
	printf("rindex %d %d\n", rindex(s, "c", 5), rindex("abcabc", "bc"));
	printf("strstr %s\n", strstr(s, "c1"));
	printf("strchr %s %s\n", strchr(s, 'b'), strrchr("a/b/c", '/'));
	printf("case %s %s\n", toupper(s), tolower("ABC-Z"));
	printf("basename %s %s %s %s\n", basename("/a/b"), basename("/a/b/"),
	    basename("b"), basename("/"));
	printf("dirname %s %s %s %s\n", dirname("/a/b"), dirname("/a"),
	    dirname("b"), dirname("/"));
	printf("cleanpath %s %s\n", cleanpath("/a/../b"), cleanpath("/a//./b/"));
	printf("lltostr %s %s %s %s\n", lltostr(-42), lltostr(255, 16),
	    lltostr(8, 8), lltostr(5, 2));
	printf("strtoll %d %d %d %d\n", strtoll("0x10", 16), strtoll("-123"),
	    strtoll("777", 8), strtoll("z", 36));
	printf("hton %x %x %x\n", htons(0x1234), htonl(0x12345678),
	    htonll(0x0102030405060708));
	printf("ntoh %x %x %x\n", ntohs(0x1234), ntohl(0x12345678),
	    ntohll(0x0102030405060708));
	printf("strtok %s", strtok("a,,b", ","));
	printf(" %s\n", strtok(NULL, ","));
	printf("dev %d %d\n", getmajor(0x800003), getminor(0x800003));
	printf("progenyof %d %d %d\n", progenyof($pid), progenyof(1),
	    progenyof(-5));
}

BEGIN
{
	this->a = (uint8_t *)alloca(4);
	*(uint32_t *)this->a = htonl(0xc0a8010a);
	printf("inet_ntoa %s\n", inet_ntoa((uint32_t *)this->a));
	printf("inet_ntop %s\n", inet_ntop(2, this->a));
	this->copy = (uint8_t *)alloca(4);
	bcopy(this->a, this->copy, 4);
	printf("bcopy %s\n", inet_ntoa((uint32_t *)this->copy));

	this->b = (uint8_t *)alloca(16);
	this->b[0] = 0xfe;
	this->b[1] = 0x80;
	this->b[15] = 1;
	printf("inet_ntop %s\n", inet_ntop(10, this->b));
	this->c = (uint8_t *)alloca(16);
	this->c[10] = 0xff;
	this->c[11] = 0xff;
	this->c[12] = 127;
	this->c[15] = 1;
	printf("inet_ntop %s\n", inet_ntop(10, this->c));
	printf("inet_ntoa6 %s\n", inet_ntoa6((void *)this->c));
	this->d = (uint16_t *)alloca(16);
	this->d[0] = htons(0x1080);
	this->d[4] = htons(8);
	this->d[5] = htons(0x800);
	this->d[6] = htons(0x200c);
	this->d[7] = htons(0x417a);
	printf("inet_ntop %s\n", inet_ntop(10, this->d));
	exit(0);
}
