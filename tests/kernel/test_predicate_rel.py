"""Predicates of the form `pid|tid|cpu <relop> constant`, which the module
runs without DIF (probe.c, dtrace_pred_rel()): every relational operator,
signed and unsigned, true and false, must decide as the DIF would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
U64 = 0xFFFFFFFFFFFFFFFF


def clause(pred: str, n: int) -> str:
    return f"syscall::getppid:entry /{pred}/ {{ @[{n}, pid] = count(); }}"


def test_relop_predicates() -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time\nend = time.time() + 60\nwhile time.time() < end: os.getppid()",
        ]
    )
    try:
        p = child.pid
        clauses = []
        expect = set()
        n = 0
        for var in ("pid", "tid"):
            for op, fn in OPS.items():
                for c in (p - 1, p, p + 1):
                    n += 1
                    clauses.append(clause(f"{var} {op} {c}", n))
                    if fn(p, c):
                        expect.add(n)
            # an unsigned compare: U64 is -1 as a signed value
            for op, fn in (("<", True), (">", False), ("<=", True), (">=", False)):
                n += 1
                clauses.append(clause(f"{var} {op} {U64:#x}", n))
                if fn:
                    expect.add(n)
        cpu = (("<", 100000, True), (">=", 100000, False), (">=", 0, True), ("!=", 100000, True))
        for op, c, fn in cpu:
            n += 1
            clauses.append(clause(f"cpu {op} {c}", n))
            if fn:
                expect.add(n)
        prog = "\n".join(clauses) + '\ntick-1s { exit(0); }\nEND { printa("%d %d %@d\\n", @); }\n'
        r = pydtrace("-q", "-n", prog, timeout=120)
    finally:
        child.kill()
        child.wait()
    assert r.returncode == 0, r.stderr
    seen = set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and int(parts[1]) == p:
            assert int(parts[2]) > 0
            seen.add(int(parts[0]))
    assert seen == expect, (sorted(seen - expect), sorted(expect - seen))
