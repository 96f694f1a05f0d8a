/* A speculation committed: its records reach the principal buffer, in
 * the order they were speculated, after the records traced before. */
#pragma D option quiet

BEGIN
{
	self->spec = speculation();
	printf("speculation %d\n", self->spec);
}

BEGIN
{
	speculate(self->spec);
	printf("speculated %d\n", 1);
}

BEGIN
{
	printf("not speculated\n");
}

BEGIN
{
	speculate(self->spec);
	printf("speculated %s\n", "two");
}

BEGIN
{
	commit(self->spec);
}

BEGIN
{
	printf("after commit\n");
	exit(0);
}
