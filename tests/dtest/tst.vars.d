/*
 * Every variable scope: global scalars (integer and string), global
 * associative arrays with tuple keys (deleted by assigning 0),
 * thread-local scalars and associative arrays with tuple keys,
 * clause-locals shared by the clauses of one firing; ++, -- and op= on
 * each kind.  @flags: -q
 */
self int t;
this int c;

BEGIN
{
	g = 10;
	g += 5;
	g--;
	s = "a global string";
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
	printf("assoc %s %s %d %d %d %d\n", names[1, "a"], names[2, "b"],
	    counts["k", 1], counts["k", 2], counts["gone", 0], counts["k", 3]);
	printf("self %d %d %d\n", self->t, self->m[4, "x"], self->m[5, "x"]);
	printf("this %d %s\n", this->c, this->str);
	self->t = 0;
	self->m[4, "x"] = 0;
	printf("self deleted %d %d\n", self->t, self->m[4, "x"]);
	exit(0);
}
