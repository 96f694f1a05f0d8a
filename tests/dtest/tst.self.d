/* Thread-local scalars and arrays, in predicates and actions. */
self int depth;

syscall::read:entry
{
	self->ts = timestamp;
	self->depth++;
	self->fds[arg0] = 1;
}

syscall::read:return
/self->ts && self->fds[0]/
{
	trace(timestamp - self->ts);
	self->ts = 0;
	self->depth--;
}
