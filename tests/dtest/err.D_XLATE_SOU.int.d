/* translator output types are structs or unions */
struct in { int a; };
translator int < struct in *I > { a = 1; };
