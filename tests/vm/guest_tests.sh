#!/bin/bash
# The kernel test suite, run inside the test VM by `make vmtest`
# (tests/vm/run.py -- bash tests/vm/guest_tests.sh), from the repo root,
# with the module already loaded and PYDTRACE_KO naming its .ko file.
#   1. tests/kernel except tests/kernel/serial, in parallel on both CPUs;
#   2. tests/kernel/serial one test at a time (global state: may rmmod and
#      insmod the module; they must leave it loaded).
# With arguments (tests/vm/run.py --tests -- tests/kernel/test_x.py -k y),
# runs one pytest with those arguments instead.
# Exits non-zero when either pytest run fails.  "No tests collected" (5) is
# not a failure: the suite may be empty while the project grows.
set -u

py=python3
[[ -x .venv/bin/python ]] && py=.venv/bin/python

# Importing hypothesis's pytest plugin costs ~10 s of guest time per process;
# tests that use hypothesis still work without it.
plugins=(-p no:cacheprovider -p no:hypothesispytest)

run_pytest() {
	"$py" -m pytest "${plugins[@]}" "$@"
	local rc=$?
	if [[ $rc -eq 5 ]]; then
		echo "pydtrace-vm: no tests collected in $*"
		rc=0
	fi
	return $rc
}

# Each test's time, written as it ends (tests/kernel/conftest.py), into the
# host's share: a run cut by its timeout still shows where the time went.
export PYDTRACE_TEST_TIMES=/tmp/vm/test-times.txt

rc=0
if [[ $# -gt 0 ]]; then
	run_pytest -q "$@" || rc=1
elif [[ -d tests/kernel ]]; then
	par=()
	if "$py" -c 'import xdist' 2>/dev/null; then
		par=(-n 2)
	fi
	echo "pydtrace-vm: pytest tests/kernel (parallel)"
	run_pytest -q --durations=25 "${par[@]}" tests/kernel --ignore=tests/kernel/serial || rc=1
	if [[ -d tests/kernel/serial ]]; then
		echo "pydtrace-vm: pytest tests/kernel/serial"
		run_pytest -q --durations=10 tests/kernel/serial || rc=1
	fi
else
	echo "pydtrace-vm: no tests/kernel directory"
fi
exit $rc
