CPU     ID                    FUNCTION:NAME
  0      1                           :BEGIN  254 65535       -1               -1 200 12345678  hello                            

