/*
 * Every variable scope: global scalars (integer and string), a global
 * array, global associative arrays with tuple keys (deleted by assigning
 * 0), thread-local scalars and associative arrays, clause-locals shared
 * by the clauses of one firing; ++, -- and op= on each kind.  @flags: -q
 */
int arr[4];
self int t;
this int c;

BEGIN
{
	g = 10;
	g += 5;
	g--;
	s = "a global string";
	arr[1] = 7;
	arr[3] = arr[1] * 2;
	arr[3] <<= 1;
	names[1, "a"] = "one-a";
	names[2, "b"] = "two-b";
	counts["k", 1] = 5;
	counts["k", 1] *= 3;
	counts["k", 2]++;
	counts["k", 2]++;
	counts["gone", 0] = 9;
	counts["gone", 0] = 0;
	self->t = 3;
	self->t++;
	self->m[4, "x"] = 40;
	self->m[4, "x"] -= 1;
	this->c = g + self->t;
	this->str = strjoin(s, "!");
}

BEGIN
{
	printf("global %d %s\n", g, s);
	printf("array %d %d %d\n", arr[0], arr[1], arr[3]);
	printf("assoc %s %s %d %d %d %d\n", names[1, "a"], names[2, "b"],
	    counts["k", 1], counts["k", 2], counts["gone", 0], counts["k", 3]);
	printf("self %d %d %d\n", self->t, self->m[4, "x"], self->m[5, "x"]);
	printf("this %d %s\n", this->c, this->str);
	self->t = 0;
	self->m[4, "x"] = 0;
	printf("self deleted %d %d\n", self->t, self->m[4, "x"]);
	exit(0);
}
