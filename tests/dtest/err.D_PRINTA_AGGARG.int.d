END
{
	printa(1);
}
