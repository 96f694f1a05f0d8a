typedef struct point {
	int x;
	int y;
} point_t;
typedef point_t *point_ptr_t;
typedef int vec_t[3];
BEGIN
{
	trace(sizeof (point_t));
	trace(sizeof (vec_t));
	p = (point_ptr_t)0;
	exit(0);
}
