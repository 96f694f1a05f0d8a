struct in_t { int a; };
struct out_t { int b; };
translator struct out_t < struct in_t *P > { c = P->a; };
