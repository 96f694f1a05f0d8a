/* stack() is an action: not a value */
BEGIN
{
	x = stack();
}
