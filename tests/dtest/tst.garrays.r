-1 7 8 41
0 0 ffffffffffffffff
ok
3 1099511627776 0
12 0
5
8 41

