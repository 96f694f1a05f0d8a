BEGIN
{
	trace(`nosuch_symbol_xyz);
}
