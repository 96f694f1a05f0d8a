/* the translator does not define never */
struct in { int a; int b; };
typedef struct out { int sum; int diff; long never; } out_t;
translator out_t < struct in *I > { sum = I->a + I->b; diff = I->a - I->b; };

BEGIN
{
	trace(xlate<out_t *>((struct in *)0)->never);
}
