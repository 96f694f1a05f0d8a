"""-F (flowindent) against the real module (test VM): syscall entry/return
print as "=> func" / "<= func", fbt's as "-> func" / "<- func", nested calls
indented by two, under dtrace(1)'s CPU/FUNCTION header."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 180
NCALLS = 3

# The -c target: pinned to one CPU (its lines then come out in order), then
# getppid() NCALLS times.
CHILD = f"""
import os
os.sched_setaffinity(0, {{min(os.sched_getaffinity(0))}})
for _ in range({NCALLS}):
    os.getppid()
"""

# dtrace(1)'s chew(): "%3s %-41s\n" header, "%3d %-41s " per record
HEADER = f"{'CPU':>3} {'FUNCTION':<41}\n"


def row(cpu: int, text: str) -> str:
    return f"{cpu:>3} {text:<41} \n"


def flow(tmp_path: Path, *clauses: str) -> tuple[str, int]:
    """pydtrace -F on the clauses with CHILD as -c; stdout and the CPU of
    the first record."""
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-F", *clauses, "-c", f"{sys.executable} {child}"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert re.search(r"^pydtrace: pid \d+ has exited$", p.stderr, re.M), p.stderr
    assert p.stdout.startswith(HEADER), p.stdout
    m = re.match(r" *(\d+) ", p.stdout[len(HEADER) :])
    assert m, p.stdout
    return p.stdout, int(m.group(1))


def test_syscall_entry_and_return(tmp_path: Path):
    out, cpu = flow(
        tmp_path, "-n", "syscall::getppid:entry,syscall::getppid:return /pid == $target/ {}"
    )
    calls = row(cpu, " => getppid") + row(cpu, " <= getppid")
    assert out == HEADER + calls * NCALLS + "\n"


def test_fbt_nests_inside_the_syscall(tmp_path: Path):
    func = "__x64_sys_getppid"
    out, cpu = flow(
        tmp_path,
        "-n",
        "syscall::getppid:entry,syscall::getppid:return /pid == $target/ {}",
        "-n",
        f"fbt::{func}:entry,fbt::{func}:return /pid == $target/ {{}}",
    )
    calls = (
        row(cpu, " => getppid")
        + row(cpu, f"   -> {func}")
        + row(cpu, f"   <- {func}")
        + row(cpu, " <= getppid")
    )
    assert out == HEADER + calls * NCALLS + "\n"
