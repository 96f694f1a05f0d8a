first 1
second 1
committed

