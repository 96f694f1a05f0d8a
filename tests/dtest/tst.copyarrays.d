/*
 * String and struct copies into elements of D arrays and members of D
 * struct variables (global, clause-local and thread-local): a string
 * element holds the string up to its NUL, a shorter string over a longer
 * one reads back as itself, one longer than strsize is truncated to
 * strsize - 1 bytes; a struct element copy copies every member; members
 * of struct variables take stores and op= (a thread-local struct is
 * created zero-filled by its first member store).  Comparisons, %s and
 * trace() read the elements back; the globals keep their values into END.
 */
#pragma D option quiet
#pragma D option strsize=16

struct pt {
	int x;
	long y;
	char tag[4];
};

struct rec {
	int n;
	string name;
};

string s[3];
this string t[2];
self string u[2];
struct pt p[3];
struct pt g;
this struct pt l;
self struct pt st;
self struct pt sp[2];
struct rec r[2];

BEGIN
{
	s[0] = "left";
	s[2] = "right";
	s[1] = "hello, world";
	s[1] = "hi";
	i = 2;
	this->t[1] = strjoin(s[1], "!");
	self->u[0] = "0123456789abcdefghij";
	self->u[i - 1] = s[i];
	printf("%s %s %s|%s|\n", s[0], s[1], s[2], this->t[0]);
	printf("%s %s %s %d\n", this->t[1], self->u[0], self->u[1], strlen(self->u[0]));
	printf("%d %d %d %d\n", s[1] == "hi", s[0] < s[2], self->u[1] == s[2],
	    this->t[1] != "hi!");

	p[1].x = 3;
	p[1].y = 1 << 40;
	p[1].tag[0] = 'o';
	p[1].tag[1] = 'k';
	p[2] = p[1];
	p[2].x++;
	g = p[2];
	g.y += 2;
	this->l.x = 7;
	this->l.y = -1;
	self->st.x = 41;
	self->st.x++;
	self->st.tag[0] = 'x';
	j = 1;
	self->sp[j] = g;
	p[0] = self->st;
	r[1].name = "one";
	r[1].n = 1;
	r[0] = r[1];
	r[0].name = "zero";
	printf("%d %d %s\n", p[2].x, p[2].y, stringof(p[2].tag));
	printf("%d %d %d %d\n", g.x, g.y, p[1].x, p[1].y);
	printf("%d %d\n", this->l.x, this->l.y);
	printf("%d %s %d %d\n", self->st.x, stringof(self->st.tag), self->sp[1].y,
	    self->sp[0].x);
	printf("%d %s %d %s\n", p[0].x, stringof(p[0].tag), r[1].n, r[0].name);
	trace(s[1]);
	trace(" ");
	trace(self->u[0]);
	trace(" ");
	trace(r[1].name);
	printf("\n");
	exit(0);
}

END
{
	printf("%s %s %s %d\n", s[1], s[2], r[1].name, g.y);
}
