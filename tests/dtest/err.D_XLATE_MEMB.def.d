/* a translator member the output type lacks */
struct in { int a; };
typedef struct out { int sum; } out_t;
translator out_t < struct in *I > { total = I->a; };
