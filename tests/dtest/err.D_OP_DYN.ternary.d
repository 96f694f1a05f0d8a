/* a translated pointer is no ?: operand */
struct in { int a; int b; };
typedef struct out { int sum; int diff; long never; } out_t;
translator out_t < struct in *I > { sum = I->a + I->b; diff = I->a - I->b; };

BEGIN
{
	trace(1 ? xlate<out_t *>((struct in *)0) : xlate<out_t *>((struct in *)0));
}
