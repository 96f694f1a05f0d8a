"""Thread-local D scalar arrays against the module (test VM): each thread
gets its own array; stores through a pointer that leave the array's data
(into the dynamic variable chunk's keys or header, its padding, or
anywhere else in the dynamic variable space) are refused with DTrace's
invalid address error while tracing goes on and the kernel stays clean
(the harness fails the run on any oops or warning in dmesg).  The values
themselves are tests/dtest/tst.tlsarrays.d."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

ERROR = (r"pydtrace: error on enabled probe ID {epid} \(ID 1: dtrace:::BEGIN\): "
         r"invalid address \({addr}\) in action #{act} at DIF offset \d+\n")

# Two threads call getppid() three times each, taking turns.
CHILD = """
import os, threading
ev = [threading.Event() for _ in range(7)]
ev[0].set()
def run(t):
    for k in range(3):
        ev[2 * k + t].wait()
        os.getppid()
        ev[2 * k + t + 1].set()
ts = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
for x in ts:
    x.start()
for x in ts:
    x.join()
"""


def test_each_thread_has_its_own_array(tmp_path: Path) -> None:
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    script = tmp_path / "t.d"
    script.write_text(
        "self int a[2];\n"
        "syscall::getppid:entry /pid == $target/ { self->a[0]++; self->a[1] = tid; }\n"
        "syscall::getppid:return /pid == $target/"
        ' { printf("%d %d\\n", self->a[1] == tid, self->a[0]); }\n'
    )
    p = pydtrace("-q", "-c", f"{sys.executable} {child}", "-s", str(script), timeout=240)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr
    # per-CPU buffers: the order of lines from different CPUs is not kept
    assert sorted(p.stdout.split("\n")) == ["", "", "1 1", "1 1", "1 2", "1 2", "1 3", "1 3"]


def test_stores_outside_the_data_are_invalid_addresses() -> None:
    """Through a pointer to the array, the module's store check refuses
    one element past the end, the chunk's keys and header before the
    data, and an 8-byte store over the end (with the real address); a
    run-time index outside the bounds is 0x0 from the generated check.
    The stores inside the array went through; the clauses after each
    error still run."""
    p = pydtrace(
        "-qn",
        "self int a[3];"
        "BEGIN { self->a[0] = 1; q = (int *)self->a; q[2] = 5; q[3] = 1; }"
        "BEGIN { q[-1] = 2; }"
        "BEGIN { q[-10] = 3; }"
        "BEGIN { r = (long *)q; r[1] = 4; }"
        "BEGIN { i = 3; self->a[i] = 6; }"
        "BEGIN { i = 1; self->a[i] = 7; c = (char *)q; c[11] = 8;"
        " printf(\"%d %d %d\\n\", self->a[0], self->a[1], self->a[2] >> 24); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1 7 8\n\n"
    want = (ERROR.format(epid=1, addr="0x[0-9a-f]+", act=4)
            + ERROR.format(epid=2, addr="0x[0-9a-f]+", act=1)
            + ERROR.format(epid=3, addr="0x[0-9a-f]+", act=1)
            + ERROR.format(epid=4, addr="0x[0-9a-f]+", act=2)
            + ERROR.format(epid=5, addr="0x0", act=2))
    assert re.fullmatch(want, p.stderr), p.stderr
    addrs = [int(a, 16) for a in re.findall(r"invalid address \((0x[0-9a-f]+)\)", p.stderr)]
    base = addrs[0] - 12      # q[3] is 12 bytes after the data
    assert base >= 1 << 63
    assert addrs[:4] == [base + 12, base - 4, base - 40, base + 8]


def test_random_stores_into_the_dynamic_variable_space() -> None:
    """From a profile probe on every CPU, each firing stores a byte at a
    random offset of up to 4 KiB either side of its own array: most land
    in other chunks' headers and keys or between variables and are
    refused; the dynamic variables still work afterwards."""
    p = pydtrace(
        "-qn",
        "self char a[8]; self int b[4];"
        "profile-199 { self->a[0] = 1; q = (char *)self->a; n++;"
        " o = (int)(rand() % 8192) - 4096; q[o] = 0xff; }"
        "tick-1s { exit(0); }"
        "END { self->b[3] = 41; self->b[3]++; printf(\"%d %d\\n\", n > 0, self->b[3]); }",
        timeout=180,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1 42\n\n"
    lines = p.stderr.splitlines()
    assert lines and all(re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID \d+: profile:::profile-199\): "
        r"invalid address \(0x[0-9a-f]+\) in action #5 at DIF offset \d+", x) for x in lines), \
        lines[:3]
