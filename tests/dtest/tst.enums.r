CPU     ID                    FUNCTION:NAME
  0      1                           :BEGIN         0        6       -1        1                4

