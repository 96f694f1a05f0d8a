BEGIN
{
	a[1] = *curthread;
	trace(&a[1]);
}
