struct inner {
	short s;
	long l;
};
struct outer {
	char c;
	struct inner in;
	struct inner *pin;
	int arr[4];
};
BEGIN
{
	o = (struct outer *)arg0;
	p = &o->in;
	trace(offsetof(struct outer, in) + offsetof(struct inner, l));
	trace(sizeof (o->arr));
	trace(sizeof (*o));
	exit(0);
}
