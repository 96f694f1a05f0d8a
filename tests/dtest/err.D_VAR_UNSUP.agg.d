BEGIN
{
	@c[execname] = count();
}
