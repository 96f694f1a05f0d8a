-2 7 7 20
0 0 ffffffffffffffff
ok
3 1099511627776 0
-12 0
28
3

