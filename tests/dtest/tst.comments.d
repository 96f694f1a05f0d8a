/* a block
   comment */
BEGIN // a line comment
{
	trace(1 /* inside */ + 2);
	exit(0);
}
