BEGIN
{
	trace(10 % 0);
}
