BEGIN
{
	trace(args[arg0]);
}
