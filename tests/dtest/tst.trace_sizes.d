/* trace() of every integer size and of a string, non-quiet: the probe line
 * then each record in its default format (1 and 2 bytes read unsigned). */
BEGIN
{
	trace((char)-2);
	trace((short)-1);
	trace((int)-1);
	trace((long)-1);
	trace((unsigned char)200);
	trace(12345678);
	trace("hello");
	exit(0);
}
