/* Associative arrays: tuple keys, string keys and values, ++, compound. */
int counts[string, int];

BEGIN
{
	counts[execname, pid] = 1;
	counts[execname, pid]++;
	counts[execname, pid] += 2;
	names[pid] = execname;
	names[pid + 1] = strjoin(names[pid], "!");
	trace(counts[execname, pid]);
	trace(names[pid + 1]);
	names[pid] = 0;
	exit(0);
}
