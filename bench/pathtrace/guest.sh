# Guest side of bench/pathtrace/trace.py: start the tracer (none, pydtrace
# or bpftrace) on PROGRAM, then run the workload in a loop until the host
# has traced one getppid() (it creates /tmp/vm/traced).
# Usage: guest.sh TOOL PROGRAM WORKLOAD
TOOL=$1 PROG=$2 W=$3 S=/tmp/vm
cat /proc/kallsyms > $S/kallsyms.tmp && mv $S/kallsyms.tmp $S/kallsyms
if [ "$TOOL" != none ]; then
	if [ "$TOOL" = pydtrace ]; then
		pydtrace -q -n "BEGIN { printf(\"READY\\n\"); } $PROG" > /tmp/tr.out 2>&1 &
	else
		bpftrace -e "BEGIN { printf(\"READY\\n\"); } $PROG" > /tmp/tr.out 2>&1 &
	fi
	while ! grep -q READY /tmp/tr.out; do sleep 0.2; done
fi
echo ready > $S/ready
while [ ! -e $S/traced ]; do echo g | $W 20000 1 --wait > /dev/null; done
