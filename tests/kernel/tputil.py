"""Tracing a workload child in the kernel tests of the tracepoint providers:
the child waits for "go" on stdin, so the tracer is enabled (its BEGIN has
printed "ready") before the child does what is traced."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

TIMEOUT = 180

PREAD_COUNT = 3333  # an unusual read size, to pick the child's reads out

# A child for trace_child: waits for "go", then preads its file argv[1]
# argv[2] times, PREAD_COUNT bytes each.
PREAD_CHILD = f"""
import os, sys
sys.stdin.readline()
fd = os.open(sys.argv[1], os.O_RDONLY)
for _ in range(int(sys.argv[2])):
    os.pread(fd, {PREAD_COUNT}, 0)
"""


def trace_child(
    clauses: str,
    child_code: str,
    *child_args: str,
    during: Callable[[], object] | None = None,
    end: str = "proc:::exit",
) -> tuple[str, object]:
    """Run child_code (python) under clauses (CHILD stands for its pid); the
    tracer ends when the child's process exits (the probe end, proc:::exit
    by default).  Returns the tracer's output and what during() returned
    while it was tracing."""
    child = subprocess.Popen(
        [sys.executable, "-c", child_code, *child_args], stdin=subprocess.PIPE, text=True
    )
    prog = (
        'BEGIN { printf("ready\\n"); } '
        + clauses.replace("CHILD", str(child.pid))
        + f" {end} /pid == {child.pid}/ {{ exit(0); }}"
    )
    tracer = subprocess.Popen(
        [sys.executable, "-m", "pydtrace", "-qn", prog],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: object = None
    try:
        assert tracer.stdout is not None and child.stdin is not None
        first = tracer.stdout.readline()
        assert first == "ready\n", (first, tracer.stderr.read() if tracer.stderr else "")
        if during is not None:
            seen = during()
        child.stdin.write("go\n")
        child.stdin.close()
        assert child.wait(timeout=TIMEOUT) == 0
        out, err = tracer.communicate(timeout=TIMEOUT)
    finally:
        child.kill()
        tracer.kill()
    assert tracer.returncode == 0, err
    return out, seen


def aggs(out: str) -> dict[str, int]:
    """printa lines "key value" (or a lone value, key "") of -q output."""
    found: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if not parts or not parts[-1].lstrip("-").isdigit():
            continue
        found[" ".join(parts[:-1])] = int(parts[-1])
    return found


def syscall_names_from_headers() -> list[str] | None:
    """The running kernel's system calls in number order, from its headers'
    syscalls_64.h; None without the headers."""
    hdr = Path(
        f"/usr/src/linux-headers-{platform.release()}/arch/x86/include/generated/asm/syscalls_64.h"
    )
    if not hdr.exists():
        return None
    names = re.findall(r"__SYSCALL\(\d+, sys_(\w+)\)", hdr.read_text())
    return [n for n in names if n != "ni_syscall"]
