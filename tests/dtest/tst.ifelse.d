BEGIN
{
	x = 3;
	if (x > 2) {
		trace("big");
	} else if (x > 1) {
		trace("medium");
	} else
		trace("small");
	if (x == 3)
		trace("three");
	trace("after");
	exit(0);
}
