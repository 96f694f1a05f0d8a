"""tracemem() against the real module: kernel bytes copied into the record
and printed as dtrace(1)'s hex dump, the dynamic size, and a bad address."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

HEAD = "\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=120, **kw)


def row(data: bytes) -> str:
    """One dump row of up to 16 bytes at offset 0, written out by hand."""
    hexes = "".join(f" {b:02x}" for b in data) + "   " * (16 - len(data))
    chars = "".join(chr(b) if 0x20 <= b <= 0x7E else "." for b in data)
    return f"         0:{hexes}  {chars}\n"


def test_tracemem_of_current_task_comm():
    # comm is the kernel's copy of execname: the dump must hold exactly
    # execname's bytes, NUL-padded to the 16 bytes of task_struct.comm
    p = pydtrace(
        "-q", "-n", 'BEGIN { tracemem(curthread->comm, 16); printf("|%s|", execname); exit(0); }'
    )
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"(.*)\|([^|]*)\|\n", p.stdout, re.S)
    assert m, p.stdout
    name = m.group(2).encode()
    assert 0 < len(name) < 16
    assert m.group(1) == HEAD + row(name.ljust(16, b"\0"))


def test_dynamic_size_prints_only_that_many_bytes():
    p = pydtrace(
        "-q",
        "-n",
        'BEGIN { tracemem(curthread->comm, 16, 1 + 2); printf("|%s|", execname); exit(0); }',
    )
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"(.*)\|([^|]*)\|\n", p.stdout, re.S)
    assert m, p.stdout
    assert m.group(1) == HEAD + row(m.group(2).encode()[:3])


def test_default_output_has_the_probe_line_first():
    p = pydtrace("-n", "BEGIN { tracemem(curthread->comm, 16, 2); exit(0); }")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert re.fullmatch(r" +\d+ +\d+ +:BEGIN ", lines[1]), p.stdout
    assert lines[2] == HEAD[1:-1]
    name = bytes(int(x, 16) for x in lines[3][11:17].split())
    assert lines[3] == row(name)[:-1]


def test_bad_address_faults_and_tracing_continues():
    p = pydtrace("-q", "-n", 'BEGIN { tracemem(0, 8); } BEGIN { printf("after"); exit(0); }')
    assert p.returncode == 0, p.stderr
    assert re.search(r"invalid address \(0x0\) in action #1", p.stderr), p.stderr
    assert p.stdout == "after\n"
