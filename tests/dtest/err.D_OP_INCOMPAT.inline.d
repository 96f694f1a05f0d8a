inline int I = "string";
