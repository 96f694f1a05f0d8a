struct s { int a[2]; };
BEGIN
{
	x = ((struct s *)0)->a;
}
