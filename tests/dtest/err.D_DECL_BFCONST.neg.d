struct s { int c : -1; };
