"""The fbt provider against the real module (test VM, module loaded):
probes created on demand for exact function names, entry arguments and
return values, kprobes registered only while a consumer runs, and the
dtrace module's own functions refused."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tputil
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
KPROBES = Path("/sys/kernel/debug/kprobes/list")
COUNT = tputil.PREAD_COUNT
CHILD = tputil.PREAD_CHILD


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def kprobes_on(func: str) -> int:
    return sum(1 for line in KPROBES.read_text().splitlines() if f" {func}+0x0" in line)


def listed(func: str) -> list[list[str]]:
    p = pydtrace("-l", "-n", f"fbt::{func}:")
    return [line.split() for line in p.stdout.splitlines()[1:]] if p.returncode == 0 else []


def test_vfs_read_entry_args_and_return_value():
    data = b"x" * 1234
    n = 25
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(data)
        f.flush()
        out, seen = tputil.trace_child(
            f'fbt::vfs_read:entry /pid == CHILD && arg2 == {COUNT}/ {{ printf("e\\n"); }} '
            'fbt::vfs_read:return /pid == CHILD/ { printf("r %d %d\\n", arg0, arg1); }',
            CHILD,
            f.name,
            str(n),
            during=lambda: (kprobes_on("vfs_read"), KPROBES.read_text()),
            end="syscall::exit_group:entry",
        )
    during = seen
    assert isinstance(during, tuple)
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
