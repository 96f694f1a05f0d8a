int a[0 - 1];
