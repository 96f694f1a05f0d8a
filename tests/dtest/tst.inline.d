inline int TEN = 10;
inline string NAME = "pydtrace";
inline int TWENTY = TEN * 2;
BEGIN
{
	trace(TEN + TWENTY);
	trace(NAME);
	exit(0);
}
