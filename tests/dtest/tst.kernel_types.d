/* @requires: btf */
BEGIN
{
	trace(curthread->pid);
	trace(stringof(curthread->comm));
	trace(sizeof (struct task_struct) > 1000);
	f = (struct file *)arg0;
	trace(sizeof (u64));
	exit(0);
}
