struct pair {
	int a;
	char b;
	long c;
};
union either {
	char c[3];
	short s;
};
BEGIN
{
	trace(sizeof (char) + sizeof (short) + sizeof (int) + sizeof (long));
	trace(sizeof (long long) + sizeof (void *) + sizeof (uintptr_t));
	trace(sizeof (struct pair));
	trace(sizeof (union either));
	trace(sizeof (int [4][2]));
	trace(sizeof (string));
	trace(sizeof (x = 5));
	trace(offsetof(struct pair, c));
	exit(0);
}
