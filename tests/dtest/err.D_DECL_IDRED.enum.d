enum e1 { DUP };
enum e2 { DUP };
