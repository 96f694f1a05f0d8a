/* one translator per pair of types */
struct in { int a; int b; };
typedef struct out { int sum; int diff; long never; } out_t;
translator out_t < struct in *I > { sum = I->a + I->b; diff = I->a - I->b; };
translator out_t < struct in *J > { sum = 0; };
