END
{
	clear(@nope);
}
