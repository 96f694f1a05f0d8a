struct a { int x; };
struct b { int y; };
BEGIN
{
	trace(xlate<struct a>((struct b *)0).x);
}
