struct s { char *c : 3; };
