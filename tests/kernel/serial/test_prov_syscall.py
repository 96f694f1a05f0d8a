"""The syscall provider against the real module (test VM, module loaded):
every 64-bit system call listed under the kernel's names, exact entry counts,
arguments and return values, and the tracepoints registered only while a
consumer has syscall probes enabled."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tputil
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
STATUS = Path("/sys/kernel/debug/dtrace_syscall")
NOPID = 987654  # no such process in the guest

# The traced child: waits for "go", makes the calls, exits (exit_group).
CHILD = f"""
import os, sys
sys.stdin.readline()
for _ in range(int(sys.argv[1])):
    os.getppid()
try:
    os.kill({NOPID}, 0)
except OSError:
    pass
"""


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def status() -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in STATUS.read_text().splitlines())}


def trace_child(clauses: str, ncalls: int) -> tuple[str, dict[str, int]]:
    """Run CHILD under clauses (CHILD stands for its pid) until its
    exit_group(); the tracer's output, and the provider's status while the
    tracer was running."""
    out, during = tputil.trace_child(
        clauses, CHILD, str(ncalls), during=status, end="syscall::exit_group:entry"
    )
    assert isinstance(during, dict)
    return out, during


def test_every_syscall_is_listed_under_the_kernels_name():
    p = pydtrace("-l", "-n", "syscall:::")
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    assert all(r[1:3] == ["syscall", "vmlinux"] for r in rows), rows[:3]
    probes = [(r[3], r[4]) for r in rows]
    assert ("newfstatat", "entry") in probes and ("newfstatat", "return") in probes
    assert ("getppid", "entry") in probes and ("fstatat", "entry") not in probes
    # entry then return, for each call in syscall-number order
    assert probes[:4] == [
        ("read", "entry"),
        ("read", "return"),
        ("write", "entry"),
        ("write", "return"),
    ]
    names = tputil.syscall_names_from_headers()
    if names is not None:
        assert probes == [(n, d) for n in names for d in ("entry", "return")]


def test_nothing_registered_without_a_consumer():
    assert status() == {
        "sys_enter_registered": 0,
        "sys_exit_registered": 0,
        "entry_enabled": 0,
        "return_enabled": 0,
    }


def test_entry_counts_exactly_the_calls_made():
    n = 1234
    out, during = trace_child('syscall::getppid:entry /pid == CHILD/ { printf("e\\n"); }', n)
    assert out.split().count("e") == n
    # getppid and exit_group entries: only sys_enter is hooked
    assert during["sys_enter_registered"] == 1 and during["entry_enabled"] == 2
    assert during["sys_exit_registered"] == 0 and during["return_enabled"] == 0
    assert status()["sys_enter_registered"] == 0


def test_arguments_and_return_values():
    out, during = trace_child(
        'syscall::kill:entry /pid == CHILD/ { printf("kill-entry %d %d\\n", arg0, arg1); } '
        'syscall::kill:return /pid == CHILD/ { printf("kill-return %d %d\\n", arg0, arg1); } '
        'syscall::kill:return /pid == CHILD/ { printf("kill-errno %d\\n", errno); } '
        'syscall::getppid:return /pid == CHILD/ { printf("ppid %d %d %d\\n", arg0, arg1, errno); }',
        3,
    )
    lines = out.splitlines()
    me = os.getpid()
    assert lines.count(f"ppid {me} {me} 0") == 3, out
    assert f"kill-entry {NOPID} 0" in lines, out
    # the kernel's return value: -errno on failure, in both arg0 and arg1
    assert f"kill-return {-errno.ESRCH} {-errno.ESRCH}" in lines, out
    # errno: the positive error number inside a failed call's return probe
    assert f"kill-errno {errno.ESRCH}" in lines, out
    assert during["sys_exit_registered"] == 1
    after = status()
    assert after["sys_enter_registered"] == 0 and after["sys_exit_registered"] == 0


def test_every_entry_enabled_at_once():
    n = 200
    out, during = trace_child('syscall:::entry /pid == CHILD/ { printf("%s\\n", probefunc); }', n)
    assert out.split().count("getppid") == n
    assert "exit_group" in out.split()
    # one probe per listed syscall, all behind one registration
    names = tputil.syscall_names_from_headers()
    if names is not None:
        assert during["entry_enabled"] == len(names)
    assert during["sys_enter_registered"] == 1
    assert status()["entry_enabled"] == 0 and status()["sys_enter_registered"] == 0
