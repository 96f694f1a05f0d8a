#pragma D option quiet
typedef long my_long_t;
my_long_t count_v;
int *ptr;
static int st;
this int cl;
string name;
extern int printk(const char *, ...);
BEGIN
{
	count_v = 1;
	st = 2;
	this->cl = 3;
	name = "n";
	ptr = (int *)0;
	trace(count_v + st + this->cl);
	exit(0);
}
