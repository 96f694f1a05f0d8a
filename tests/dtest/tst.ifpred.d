BEGIN
/1/
{
	if (pid != 0) {
		y = 1;
		if (y)
			trace(y);
	}
	exit(0);
}
