BEGIN
{
	trace(10 / (5 - 5));
}
