top.mid = { "legs": "feet" }
top.mid.legs = feet
top.number = 9
top.array[1] = 1
top.array.1 = 1
top.array[2].a = true
top.array[2].bb = [1, 2.5e3, null, { "x": "yz" }]
top.array[2].bb[1] = 2.5e3
top.array[2].bb[2] = null
top.array[2].bb[3].x = yz
top.array[2].bb[4] = <NULL>
top.nothere = <NULL>
top.number.deeper = <NULL>
0 = fine
2 = <NULL>

