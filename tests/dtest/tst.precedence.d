/* C precedence and associativity, folded and run-time */
BEGIN
{
	a = 1 + 2 * 3 - 4 / 2 % 3;
	b = a << 2 >> 1 & 0xff | 0x100 ^ 0x3;
	c = a < b == b > a != (a <= b) >= 0;
	d = a && b || !c ^^ 1;
	e = a ? b : c ? d : 0;
	f = (a, b);
	trace(a); trace(b); trace(c); trace(d); trace(e); trace(f);
	exit(0);
}
