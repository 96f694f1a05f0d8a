CPU     ID                    FUNCTION:NAME
  0      1                           :BEGIN                15               24               16                4               32              256                4                8

