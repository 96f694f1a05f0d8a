END
{
	printa(@nope);
}
