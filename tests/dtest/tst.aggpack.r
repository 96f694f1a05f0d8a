

              key  min .------. max  | count
                a    0 : xX   : 16   | 5
                b    0 :    X : 16   | 2

     min .----. max      | count
     < 0 : Xx : >= 2     | 4
