"""The fbt provider against the real module (test VM, module loaded):
probes created on demand for exact function names, entry arguments and
return values, kprobes registered only while a consumer runs, and the
dtrace module's own functions refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
KPROBES = Path("/sys/kernel/debug/kprobes/list")
COUNT = 3333  # an unusual read size, to pick the child's reads out

# The traced child: waits for "go", then preads its file argv[2] times.
CHILD = f"""
import os, sys
sys.stdin.readline()
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    os.pread(fd, {COUNT}, 0)
"""


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def kprobes_on(func: str) -> int:
    return sum(1 for line in KPROBES.read_text().splitlines() if f" {func}+0x0" in line)


def listed(func: str) -> list[list[str]]:
    p = pydtrace("-l", "-n", f"fbt::{func}:")
    return [line.split() for line in p.stdout.splitlines()[1:]] if p.returncode == 0 else []


def test_vfs_read_entry_args_and_return_value():
    data = b"x" * 1234
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(data)
        f.flush()
        n = 25
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, f.name, str(n)], stdin=subprocess.PIPE, text=True
        )
        prog = (
            'BEGIN { printf("ready\\n"); } '
            f'fbt::vfs_read:entry /pid == {child.pid} && arg2 == {COUNT}/ {{ printf("e\\n"); }} '
            f'fbt::vfs_read:return /pid == {child.pid}/ {{ printf("r %d %d\\n", arg0, arg1); }} '
            f"syscall::exit_group:entry /pid == {child.pid}/ {{ exit(0); }}"
        )
        tracer = subprocess.Popen(
            [sys.executable, "-m", "pydtrace", "-qn", prog],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert tracer.stdout is not None and child.stdin is not None
            assert tracer.stdout.readline() == "ready\n"
            during = (kprobes_on("vfs_read"), KPROBES.read_text())
            child.stdin.write("go\n")
            child.stdin.close()
            assert child.wait(timeout=TIMEOUT) == 0
            out, err = tracer.communicate(timeout=TIMEOUT)
        finally:
            child.kill()
            tracer.kill()
    assert tracer.returncode == 0, err
    lines = out.splitlines()
    assert lines.count("e") == n, out
    assert lines.count(f"r 0 {len(data)}") == n, out
    assert during[0] == 2, during[1]  # a kprobe and a kretprobe
    assert kprobes_on("vfs_read") == 0
    rows = listed("vfs_read")
    assert [r[1:] for r in rows] == [
        ["fbt", "vmlinux", "vfs_read", "entry"],
        ["fbt", "vmlinux", "vfs_read", "return"],
    ]


def created_on_demand(func: str) -> bool:
    p = pydtrace("-qn", f"fbt::{func}:entry {{ }} BEGIN {{ exit(0); }}")
    created = bool(listed(func))
    if created:
        assert p.returncode == 0, p.stderr
    else:  # as dtrace(1) without -Z: a description matching nothing fails
        assert p.returncode == 1 and "does not match any probes" in p.stderr, p.stderr
    return created


def test_existing_function_is_created_and_others_are_not():
    assert created_on_demand("vfs_write")
    assert not created_on_demand("no_such_function_pydtrace")
    # blacklisted for kprobes, and the tracer's own code
    assert not created_on_demand("do_int3")
    assert not created_on_demand("dtrace_enable")
    assert KPROBES.read_text() == ""  # the trial registrations are gone
