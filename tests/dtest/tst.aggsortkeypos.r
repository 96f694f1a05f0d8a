2 a 6
4 a 8
3 b 7
1 c 5

