"""D scalar arrays in variables against the module (test VM, module loaded):
an element store outside the array is refused with DTrace's error line,
tracing goes on, the neighbouring variable keeps its value, and the kernel
stays clean (the harness fails the run on any oops or warning in dmesg).
The values themselves are tests/dtest/tst.garrays.d."""

from __future__ import annotations

import os
import re

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

ERROR = (r"pydtrace: error on enabled probe ID {epid} \(ID 1: dtrace:::BEGIN\): "
         r"invalid address \({addr}\) in action #{act} at DIF offset \d+\n")


def test_out_of_bounds_stores_are_invalid_addresses() -> None:
    """A run-time index outside the bounds (past the end: into where the
    next variable is; negative: the header) is an invalid address (0x0)
    from the generated check; a store through a pointer just past the
    array reaches the module's store check, which refuses it with the
    real address.  The clauses after each error still run."""
    p = pydtrace(
        "-qn",
        "int a[4]; int b[4];"
        "BEGIN { b[0] = 5; i = 6; a[i] = 1; printf(\"not reached\\n\"); }"
        "BEGIN { i = -1; a[i] = 2; }"
        "BEGIN { q = (int *)a; q[3] = 4; q[4] = 3; }"
        "BEGIN { printf(\"%d %d %d %d\\n\", b[0], b[1], a[0], a[3]); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "5 0 0 4\n\n"   # dtrace ends with a newline
    want = (ERROR.format(epid=1, addr="0x0", act=3) + ERROR.format(epid=2, addr="0x0", act=2)
            + ERROR.format(epid=3, addr="0x[0-9a-f]+", act=3))
    assert re.fullmatch(want, p.stderr), p.stderr
    addr = re.findall(r"invalid address \((0x[0-9a-f]+)\)", p.stderr)[-1]
    assert int(addr, 16) >= 1 << 63      # the kernel address after a[3], not 0


def test_array_stores_from_many_firings() -> None:
    """Stores into a global array from a profile probe on every CPU, with
    an out-of-bounds store faulting after each: the counts add up, the
    errors are reported, and nothing else is written."""
    p = pydtrace(
        "-qn",
        "long a[2]; long b[2];"
        "profile-199 { a[cpu & 1]++; i = (cpu & 1) + 3; a[i] = 1; }"
        "tick-1s { exit(0); }"
        "END { printf(\"%d %d %d\\n\", a[0] + a[1] > 0, b[0], b[1]); }",
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1 0 0\n\n"
    lines = p.stderr.splitlines()
    assert lines and all(re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID \d+: profile:::profile-199\): "
        r"invalid address \(0x0\) in action #3 at DIF offset \d+", x) for x in lines), lines[:3]


def test_array_larger_than_a_global_may_be_is_refused_cleanly() -> None:
    """A by-reference global is at most 16 KiB (dtrace_global_maxsize): the
    module's validator refuses a bigger array and pydtrace says so."""
    p = pydtrace("-qn", "int a[5000]; BEGIN { a[1] = 1; exit(0); }")
    assert p.returncode != 0
    assert p.stderr.startswith("pydtrace: ") and "Traceback" not in p.stderr, p.stderr
    print(p.stderr)
