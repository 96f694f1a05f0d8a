struct in_t {
	int a;
	int b;
};
struct out_t {
	int sum;
	long diff;
};
translator struct out_t < struct in_t *P > {
	sum = P->a + P->b;
	diff = P->a - P->b;
};
BEGIN
{
	exit(0);
}
