"""The backquote operator against the running kernel (test VM): kernel
variables at their /proc/kallsyms addresses, typed by the D library's
ksyms.d, read in probe context."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=120, **kw)


def possible_cpus() -> int:
    with open("/sys/devices/system/cpu/possible") as f:
        return int(f.read().strip().split("-")[-1]) + 1


def test_kernel_variables_read_in_probe_context():
    p = pydtrace(
        "-qn",
        'BEGIN { printf("%d|%d|%s|%s|%d\\n", `init_task.pid, `nr_cpu_ids, '
        "stringof(`init_uts_ns.name.release), stringof(`init_task.comm), "
        "vmlinux`jiffies != 0); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"0|{possible_cpus()}|{os.uname().release}|swapper/0|1\n\n"


def test_jiffies_advance_and_the_address_is_kallsyms():
    with open("/proc/kallsyms") as f:
        addr = next(int(line.split()[0], 16) for line in f if line.split()[2:3] == ["jiffies"])
    p = pydtrace(
        "-qn",
        "BEGIN { start = `jiffies; } "
        'tick-1s { printf("%d %d\\n", `jiffies - start > 0, (uint64_t)&`jiffies); exit(0); }',
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"1 {addr}\n\n"


def test_unknown_and_untyped_symbols_fail_to_compile():
    p = pydtrace("-e", "-n", "BEGIN { trace(`no_such_kernel_symbol); }")
    assert p.returncode == 1
    assert p.stderr.endswith("failed to resolve `no_such_kernel_symbol: Unknown symbol name\n")
    p = pydtrace("-e", "-n", "BEGIN { trace(`_stext); }")
    assert p.returncode == 1
    assert p.stderr.endswith("no symbolic type information is available for `_stext\n")
