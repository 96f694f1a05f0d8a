CPU     ID                    FUNCTION:NAME
  0      1                           :BEGIN         5      267        0        1      267      267

