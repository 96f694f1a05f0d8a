/*
 * The smallest D program: runs once when tracing starts, prints, exits.
 *   make demo                      (in the test VM)
 *   sudo pydtrace -s examples/hello.d   (on a host with the module loaded)
 */
BEGIN
{
	printf("hello from pydtrace\n");
	exit(0);
}
