global 14 a global string
assoc one-a two-b 15 2 0 0
self 4 39 0
this 18 a global string!
self deleted 0 0

