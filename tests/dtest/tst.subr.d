/* Every string subroutine the interpreter implements, with optional args. */
BEGIN
{
	s = strjoin("abc", lltostr(123));
	trace(strlen(s));
	trace(substr(s, 1));
	trace(substr(s, -2, 1));
	trace(index(s, "c"));
	trace(rindex(s, "c", 5));
	trace(strstr(s, "c1"));
	trace(strchr(s, 'b'));
	trace(strrchr(s, 'b'));
	trace(toupper(s));
	trace(tolower("ABC"));
	trace(basename("/a/b"));
	trace(dirname("/a/b"));
	trace(cleanpath("/a/../b"));
	trace(lltostr(255, 16));
	trace(strtoll("0x10", 16));
	trace(htons(1) + htonl(1) + htonll(1) + ntohs(1) + ntohl(1) + ntohll(1));
	trace(strtok("a,b", ","));
	trace(strtok(NULL, ","));
	trace(copyinstr(arg0));
	trace(copyinstr(arg0, 10));
	trace(rand());
	trace(progenyof(1));
	trace(getmajor(0) + getminor(0));
	bcopy(alloca(8), alloca(8), 8);
	exit(0);
}
