BEGIN
{
	p = (int *)arg0;
	q = p + 2;
	trace(q - p);
	trace(p == q);
	trace(p != 0);
	exit(0);
}
