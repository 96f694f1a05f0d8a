BEGIN
{
	@a = count();
}

END
{
	trunc(@a, "x");
}
