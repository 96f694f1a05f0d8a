/* exit() records data: it may not follow commit() */

BEGIN
{
	commit(1);
	exit(0);
}
