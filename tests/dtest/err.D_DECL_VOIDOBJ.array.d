void v[2];
