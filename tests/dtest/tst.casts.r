CPU     ID                    FUNCTION:NAME
  0      1                           :BEGIN   44 65535   1               -1               -1        1

