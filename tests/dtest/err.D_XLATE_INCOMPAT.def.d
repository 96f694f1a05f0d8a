/* an int member assigned a pointer */
struct in { int a; };
typedef struct out { int sum; } out_t;
translator out_t < struct in *I > { sum = I; };
