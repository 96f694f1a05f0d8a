BEGIN
{
	trace('abcde');
}
