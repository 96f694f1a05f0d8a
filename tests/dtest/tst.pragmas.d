#!/usr/sbin/dtrace -s
#pragma D option quiet
#pragma D option strsize=512
#pragma D depends_on module vmlinux
#pragma D binding "1.0" foo
#pragma D attributes Evolving/Evolving/Common provider dtrace provider
#pragma ident "@(#)tst.pragmas.d"
#line 10
BEGIN
{
	exit(0);
}
