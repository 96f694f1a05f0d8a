BEGIN
{
	self->t = *curthread;
	self->t = 0;
}
