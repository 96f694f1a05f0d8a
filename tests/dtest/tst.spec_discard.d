/* A speculation discarded leaves nothing; its slot is free again, so the
 * next speculation() gets the same id, and that one is committed. */
#pragma D option quiet

BEGIN
{
	self->spec = speculation();
	printf("first %d\n", self->spec);
}

BEGIN
{
	speculate(self->spec);
	printf("discarded\n");
}

BEGIN
{
	discard(self->spec);
	self->spec = speculation();
	printf("second %d\n", self->spec);
}

BEGIN
{
	speculate(self->spec);
	printf("committed\n");
}

BEGIN
{
	commit(self->spec);
}

BEGIN
{
	exit(0);
}
