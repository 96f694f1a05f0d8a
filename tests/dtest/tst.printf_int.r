42 -42 42
10 ff FF
010 0xff 0XFF
[   42] [42   ] [00042] [+42] [ 42]
[A] [str] [     right] [left      ] [tr] 100%
[     7] [7     ]
4294967295 ffffffff
-1 -2
1099511627776 ffffffffffffffff

