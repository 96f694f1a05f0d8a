struct never_defined;
BEGIN
{
	trace(((struct never_defined *)0)->x);
}
