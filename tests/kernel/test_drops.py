"""Drop and error counters as dtrace(1) reports them (dtrace-internals.md
4.5), for the kinds no other guest test shows: faults inside an ERROR
clause ("N errors in ERROR probe enabling") and dynamic variable drops; and
the stackframes option that bounds stack() (ustackframes: test_stacks)."""

from __future__ import annotations

import os
import re

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

FAULT = re.compile(
    r"^pydtrace: error on enabled probe ID \d+ \(ID \d+: dtrace:::BEGIN\): "
    r"invalid address \(0x8\) in action #1 at DIF offset \d+$",
    re.M,
)


def test_a_fault_in_an_error_clause_is_a_double_error() -> None:
    r = pydtrace(
        "-q", "-n",
        "BEGIN { trace(*(int *)8); } "
        "ERROR { trace(*(int *)16); } "
        'BEGIN { printf("after\\n"); exit(0); }',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "after\n\n"
    assert len(FAULT.findall(r.stderr)) == 1, r.stderr
    # the ERROR clause's own fault is not reported as an error: counted
    assert r.stderr.count("\n") == 2, r.stderr
    assert "pydtrace: 1 error in ERROR probe enabling\n" in r.stderr
    assert "0x10" not in r.stderr


def test_dynamic_variable_drops_are_reported() -> None:
    n = 64
    stores = " ".join(f"a[{i}] = {i};" for i in range(n))
    r = pydtrace(
        "-q", "-x", "dynvarsize=4k", "-n",
        f"BEGIN {{ {stores} }} "
        'BEGIN { printf("%d %d\\n", a[0], a[1]); exit(0); }',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0 1\n\n"  # the first stores found room
    m = re.fullmatch(r"pydtrace: (\d+) dynamic variable (drops?)\n", r.stderr)
    assert m, r.stderr
    assert 0 < int(m.group(1)) < n
    assert m.group(2) == ("drop" if m.group(1) == "1" else "drops")


def frames(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


def test_stackframes_bounds_stack() -> None:
    prog = "BEGIN { stack(); exit(0); }"
    full = pydtrace("-q", "-n", prog)
    assert full.returncode == 0, full.stderr
    assert len(frames(full.stdout)) > 2, full.stdout  # GO's ioctl path, at least
    short = pydtrace("-q", "-x", "stackframes=2", "-n", prog)
    assert short.returncode == 0, short.stderr
    assert frames(short.stdout) == frames(full.stdout)[:2]
    # an explicit depth wins over the option
    three = pydtrace("-q", "-x", "stackframes=2", "-n", "BEGIN { stack(3); exit(0); }")
    assert frames(three.stdout) == frames(full.stdout)[:3]
