BEGIN
/pid > 0 && execname != "" || (uid == 0 ? 1 : 0)/
{
	exit(0);
}
