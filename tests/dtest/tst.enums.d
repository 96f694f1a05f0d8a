enum color { RED, GREEN = 5, BLUE, };
enum { ANON_A = -2, ANON_B };
BEGIN
{
	trace(RED);
	trace(BLUE);
	trace(ANON_B);
	c = GREEN;
	trace(c == GREEN);
	trace(sizeof (enum color));
	exit(0);
}
