/* @args: 41 hello */
BEGIN
{
	trace($1 + 1);
	trace($$2);
	trace($pid != 0);
	trace($ppid >= 0);
	trace($uid >= 0);
	trace($gid + $euid + $egid + $sid + $pgid);
	trace($target);
	trace($$0);
	exit(0);
}
