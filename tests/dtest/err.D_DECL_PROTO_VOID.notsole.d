extern int f(void, int);
