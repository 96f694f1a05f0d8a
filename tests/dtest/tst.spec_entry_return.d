/* A speculation spanning entry and return (self->spec), committed or
 * discarded at return: this process's own ioctl() calls (it is pinned to
 * one CPU).  The first and third are committed, the second discarded. */
#pragma D option quiet

int n;

syscall::ioctl:entry
/pid == $pid && n < 3/
{
	self->spec = speculation();
}

syscall::ioctl:entry
/self->spec/
{
	speculate(self->spec);
	printf("%d %s:%s\n", n, probefunc, probename);
}

syscall::ioctl:return
/self->spec/
{
	speculate(self->spec);
	printf("%d %s:%s\n", n, probefunc, probename);
}

syscall::ioctl:return
/self->spec && n != 1/
{
	commit(self->spec);
}

syscall::ioctl:return
/self->spec && n == 1/
{
	discard(self->spec);
}

syscall::ioctl:return
/self->spec/
{
	self->spec = 0;
	n++;
}

syscall::ioctl:return
/n == 3/
{
	exit(0);
}
