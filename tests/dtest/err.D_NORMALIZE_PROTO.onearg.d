BEGIN
{
	@a = count();
}

END
{
	normalize(@a);
}
