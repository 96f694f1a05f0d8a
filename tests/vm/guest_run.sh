#!/bin/bash
# Runs inside the test VM, chrooted into the host's (read-only) root, as
# started by tests/vm/init.sh.  /tmp/vm is the host's per-run share:
#   in:  job.env (REPO, MODULE, MODULE_ARGS, DISK), cmd.sh (the command to run)
#   out: output.log (the command's output), status (its exit status),
#        dmesg.txt (the kernel log after the command)
# The host reads status to tell "ran and finished" from "crashed".
set -u

vm=/tmp/vm
# shellcheck source=/dev/null
. "$vm/job.env"

export HOME=/tmp
export PATH="$REPO/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
export PYDTRACE_KO="${MODULE:-}"
export PYDTRACE_VM=1
export PYDTRACE_DISK="${DISK:-}"	# the blank virtio disk (run.py --disk), or ""
export TERM=dumb
cd "$REPO" || exit 1

finish() {
	dmesg >"$vm/dmesg.txt" 2>&1
	echo "$1" >"$vm/status"
	sync
	echo "pydtrace-vm: done status=$1"
}

echo "pydtrace-vm: start"
if [[ -n "${MODULE:-}" ]]; then
	# MODULE_ARGS is a list of name=value words, left unquoted on purpose.
	# shellcheck disable=SC2086
	insmod "$MODULE" ${MODULE_ARGS:-} 2>&1 | tee -a "$vm/output.log"
	if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
		{ echo "pydtrace-vm: insmod $MODULE failed; dmesg says:"
		  dmesg | tail -n 5; } | tee -a "$vm/output.log"
		finish 1
		exit 0
	fi
fi

bash "$vm/cmd.sh" 2>&1 | tee -a "$vm/output.log"
finish "${PIPESTATUS[0]}"
