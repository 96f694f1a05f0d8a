BEGIN
{
	s = "abc";
	t = s;
	trace(s == t);
	trace(s < "abd");
	trace(s != "" ? s : "empty");
	exit(0);
}
