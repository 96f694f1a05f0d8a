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


def kallsyms_address(name: str, module: str | None = None) -> int:
    """name's address in /proc/kallsyms (of vmlinux, or of [module])."""
    want = [f"[{module}]"] if module else []
    with open("/proc/kallsyms") as f:
        for line in f:
            fields = line.split()
            if fields[2] == name and fields[3:] == want:
                return int(fields[0], 16)
    raise AssertionError(f"{name} {module or 'vmlinux'} not in /proc/kallsyms")


def test_module_names_starting_with_a_digit():
    # the guest mounts its root over 9p: 9pnet (and 9p) are loaded; every
    # module has a __this_module (its struct module), so the scope decides
    mods = [m for m in ("9pnet", "9p") if os.path.exists(f"/sys/module/{m}/initstate")]
    assert "9pnet" in mods
    for mod in mods:
        p = pydtrace(
            "-qn",
            "extern struct module __this_module; "
            f'BEGIN {{ printf("%d %s\\n", (uint64_t)&{mod}`__this_module, '
            f"stringof({mod}`__this_module.name)); exit(0); }}",
        )
        assert p.returncode == 0, p.stderr
        assert p.stdout == f"{kallsyms_address('__this_module', mod)} {mod}\n\n"
    # a symbol of vmlinux is not 9pnet's
    p = pydtrace("-e", "-n", "BEGIN { trace(9pnet`jiffies); }")
    assert p.returncode == 1
    assert p.stderr.endswith("failed to resolve 9pnet`jiffies: Unknown symbol name\n")


def test_per_cpu_variables_are_this_cpus_instance():
    # types from BTF's .data..percpu; on every CPU cpu_number and the run
    # queue's cpu are that CPU, and this_cpu_off (a CPU's per-CPU offset) is
    # what was added to the kallsyms offset to find it
    off = kallsyms_address("this_cpu_off")
    p = pydtrace(
        "-qn",
        "profile-97 { @[cpu, `cpu_number, `runqueues.cpu, "
        "(uint64_t)&`this_cpu_off - `this_cpu_off] = count(); n++; } "
        "profile-97 /n >= 40/ { exit(0); } "
        'END { printa("%d %d %d %d\\n", @); }',
    )
    assert p.returncode == 0, p.stderr
    rows = [tuple(int(x) for x in line.split()) for line in p.stdout.split("\n") if line]
    assert rows, p.stdout
    for c, number, rq_cpu, delta in rows:
        assert c == number == rq_cpu and delta == off, rows
    if possible_cpus() > 1:
        assert len({r[0] for r in rows}) > 1, rows  # ran on more than one CPU
