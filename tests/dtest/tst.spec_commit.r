speculation 1
not speculated
speculated 1
speculated two
after commit

