BEGIN
{
	trace(0x7fffffff);
	trace(0xffffffffU);
	trace(017);
	trace(10l + 10L + 10ul + 10UL + 10lu + 10ll + 10LL + 10ull + 10ULL + 10llu);
	trace('a');
	trace('\n' + '\0' + '\x41' + '\101' + '\\' + '\'');
	trace('ab');
	trace("tab\tnl\n" "concat" "enated");
	exit(0);
}
