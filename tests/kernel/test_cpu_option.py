"""The cpu option (dtrace-internals.md 4.9): only that CPU is traced.

Only its principal buffer exists; a firing on any other CPU is dropped
before its predicate runs (so it changes no variable and aggregates
nothing).  pydtrace runs GO and STOP on that CPU, so BEGIN and END are
traced.
"""

from __future__ import annotations

import errno
import os
import re

import pytest
from kutil import pydtrace
from progbuild import Consumer, bodies
from test_ioctl import begin_prog

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

CPUS = sorted(os.sched_getaffinity(0))
needs_two = pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")

PROG = (
    'BEGIN { printf("begin %d\\n", cpu); } '
    "profile-97 { @c[cpu] = count(); n++; } "
    "profile-97 /n == 20/ { exit(0); } "
    'END { printf("end %d\\n", cpu); printa("cpu %d %@d\\n", @c); }'
)


@needs_two
@pytest.mark.parametrize("which", [0, -1])
def test_only_that_cpu_fires_and_begin_end_run_there(which: int) -> None:
    cpu = CPUS[which]
    r = pydtrace("-q", "-x", f"cpu={cpu}", "-n", PROG)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    m = re.fullmatch(rf"begin {cpu}\nend {cpu}\ncpu {cpu} (\d+)\n\n", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) >= 20


@needs_two
def test_module_drops_firings_elsewhere() -> None:
    """GO on the first CPU with cpu= the second: BEGIN is dropped (no buffer
    there to read); the second CPU's buffer is the only one."""
    first, second = CPUS[0], CPUS[1]
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {first})
    try:
        with Consumer() as c:
            prog = begin_prog()
            prog.opts = [(lib.DTRACEOPT_CPU, second), (lib.DTRACEOPT_BUFSIZE, 64 << 10)]
            assert c.enable(prog.build()) == 1
            assert c.go() == first
            with pytest.raises(OSError) as e:
                c.bufsnap(first)
            assert e.value.errno == errno.ENOENT
            data, bd = c.bufsnap(second)
            assert data == b"" and bd.dtbd_drops == 0
            # the exit() of the dropped BEGIN never ran
            assert c.status().dtst_exiting == 0
        with Consumer() as c:
            prog = begin_prog()
            prog.opts = [(lib.DTRACEOPT_CPU, first), (lib.DTRACEOPT_BUFSIZE, 64 << 10)]
            assert c.enable(prog.build()) == 1
            assert c.go() == first
            data, _ = c.bufsnap(first)
            assert len(bodies(data, c)) == 1
            assert c.status().dtst_exiting == 1
    finally:
        os.sched_setaffinity(0, old)


def test_a_cpu_that_does_not_exist_is_refused() -> None:
    r = pydtrace("-q", "-x", "cpu=100000", "-n", "BEGIN { exit(0); }")
    assert r.returncode == 1
    assert r.stderr == "pydtrace: could not enable tracing: Invalid argument\n"
