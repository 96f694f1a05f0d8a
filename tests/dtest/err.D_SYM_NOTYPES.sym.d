BEGIN
{
	trace(`_stext);
}
