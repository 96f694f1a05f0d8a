/* trace() in quiet mode: no probe line, no padding. @flags: -q */
BEGIN
{
	trace((char)-2);
	trace(" ");
	trace((short)-1);
	trace(" ");
	trace((int)-1);
	trace(" ");
	trace((long)-1);
	trace(" ");
	trace("end");
	exit(0);
}
