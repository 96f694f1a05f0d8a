strjoin abc123
strlen 6 0
substr bc123 2 [] bc1
index 2 -1 3
rindex 2 4
strstr c123
strchr bc123 /c
case ABC123 abc-z
basename b b b /
dirname /a / . /
cleanpath /b /a/b/
lltostr -42 0xff 010 101
strtoll 16 -123 511 35
hton 3412 78563412 807060504030201
ntoh 3412 78563412 807060504030201
strtok a b
dev 8 3
progenyof 1 1 0
inet_ntoa 192.168.1.10
inet_ntop 192.168.1.10
bcopy 192.168.1.10
inet_ntop fe80::1
inet_ntop ::ffff:127.0.0.1
inet_ntoa6 127.0.0.1
inet_ntop 1080::8:800:200c:417a

