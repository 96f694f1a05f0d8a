/*
 * Struct-valued variables declared by their first assignment: a
 * clause-local, a thread-local and a global take the struct type of
 * *curthread and hold a copy of it; so do elements of global and
 * thread-local associative arrays.  Members are loaded from and stored
 * into the variable's own copy (the task is untouched); an element never
 * assigned reads as zeros.  A translated struct (*curpsinfo,
 * xlate<struct tinfo>(curthread), *xlate<struct tinfo *>(curthread))
 * assigned to a variable is translated member by member into it; members
 * the translator leaves out are zero.  Associative arrays of arrays
 * (int n[int][4], self string s[string, int][2]) hold an array in each
 * element.  The global copies keep their values into END.
 *
 * @requires: btf
 */
#pragma D option quiet

struct tinfo {
	int pid;
	int tgid;
	char comm[16];
	long unset;
};

translator struct tinfo < struct task_struct *T > {
	pid = T->pid;
	tgid = T->tgid;
	comm = T->comm;
};

int n[int][4];
self string s[string, int][2];

BEGIN
{
	this->t = *curthread;
	self->t = *curthread;
	g = *curthread;
	a[pid] = *curthread;
	self->a["me", 1] = *curthread;
	printf("%d %d %d %d %d\n", this->t.tgid == pid, self->t.pid == tid,
	    g.pid == tid, a[pid].tgid == pid, self->a["me", 1].pid == tid);
	printf("%d %d\n", stringof(g.comm) == execname,
	    this->t.real_parent->tgid == ppid);

	g.pid = 12345;
	a[pid].tgid++;
	a[pid].tgid += 10;
	this->u = g;
	self->a["copy", 2] = a[pid];
	printf("%d %d %d %d\n", g.pid, curthread->pid == tid, this->u.pid,
	    self->a["copy", 2].tgid - pid);
	printf("%d %d %d\n", a[0].pid, a[0].tgid, self->a["none", 0].pid);

	this->ps = *curpsinfo;
	self->ti = xlate<struct tinfo>(curthread);
	b[1] = *xlate<struct tinfo *>(curthread);
	printf("%d %d %d %d\n", this->ps.pr_pid == pid, this->ps.pr_ppid == ppid,
	    stringof(this->ps.pr_fname) == execname, this->ps.pr_dmodel);
	printf("%d %d %d %d %d\n", self->ti.pid == tid, self->ti.tgid == pid,
	    stringof(b[1].comm) == execname, b[1].tgid == pid, b[1].unset);

	n[1][2] = 5;
	n[1][3] = n[1][2] * 2;
	n[2][0] = n[1][3] + 1;
	self->s["a", 1][1] = execname;
	self->s["b", 2][0] = "bee";
	printf("%d %d %d %d %d %s %d\n", n[1][2], n[1][3], n[2][0], n[1][0], n[3][1],
	    self->s["b", 2][0], self->s["a", 1][1] == execname);
	exit(0);
}

END
{
	printf("%d %d %d\n", g.pid, g.tgid == pid, a[pid].tgid - pid);
}
