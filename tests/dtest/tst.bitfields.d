struct flags {
	unsigned int a : 1;
	unsigned int b : 3;
	unsigned int : 0;
	int c : 12;
	char d;
};
BEGIN
{
	trace(sizeof (struct flags));
	trace(offsetof(struct flags, d));
	exit(0);
}
