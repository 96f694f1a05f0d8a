"""bufresize (dtrace-internals.md 4.5) seen from the command line.

With bufresize=auto a buffer that does not fit is halved until it does, and
pydtrace says so after GO as dtrace(1) does ("buffer size lowered to 64m",
"aggregation size ...", "speculation size ...", "dynamic variable size
..."); the program then runs with the smaller buffer.  With
bufresize=manual tracing does not start: "could not enable tracing:
Cannot allocate memory".  The module never tries more than a quarter of
RAM for one kind of buffer, so 1t always gets lowered (to the largest
halving of 1t within that bound, unless memory is short).  Rates the module
changes are reported too, and grabanon (no anonymous state here) fails GO.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIB = 1 << 40
UNITS = {" ": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
NOMEM = "pydtrace: could not enable tracing: Cannot allocate memory\n"


def possible_cpus() -> int:
    n = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def quarter_ram() -> int:
    """The module's bound: a quarter of totalram (MemTotal)."""
    m = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    assert m
    return int(m.group(1)) * 1024 // 4


def lowered(stderr: str, name: str) -> int:
    """The size of the one "<name> lowered to N<unit>" line."""
    found = re.findall(rf"^pydtrace: {name} lowered to (\d+)([ kmg])$", stderr, re.M)
    assert len(found) == 1, stderr
    return int(found[0][0]) * UNITS[found[0][1]]


def check_lowered(size: int, nbufs: int) -> None:
    """1t halved: a power of two, within the bound, at most one halving
    below its largest fitting value (a busy guest may need one more)."""
    bound = quarter_ram() // nbufs
    assert size & (size - 1) == 0 and size <= bound, (size, bound)
    assert size * 4 > bound, (size, bound)


def test_principal_buffer_lowered() -> None:
    r = pydtrace("-q", "-b", "1t", "-n", 'BEGIN { printf("ok %d\\n", 7); exit(0); }')
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok 7\n\n"
    check_lowered(lowered(r.stderr, "buffer size"), 2 * possible_cpus())
    assert r.stderr.count("\n") == 1, r.stderr


def test_aggregation_buffer_lowered() -> None:
    r = pydtrace(
        "-q", "-x", "aggsize=1t", "-n",
        'BEGIN { @a["x"] = count(); @a["x"] = count(); exit(0); } '
        'END { printa("%s %@d\\n", @a); }',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "x 2\n\n"
    check_lowered(lowered(r.stderr, "aggregation size"), 2 * possible_cpus())
    assert "buffer size" not in r.stderr


def test_dynamic_variable_space_lowered() -> None:
    r = pydtrace(
        "-q", "-x", "dynvarsize=1t", "-n",
        'BEGIN { self->v = 41; a["k"] = 1; } '
        'BEGIN { printf("%d\\n", self->v + a["k"]); exit(0); }',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "42\n\n"
    check_lowered(lowered(r.stderr, "dynamic variable size"), 1)


def test_speculation_buffer_lowered() -> None:
    r = pydtrace(
        "-q", "-x", "specsize=1t", "-n",
        "BEGIN { s = speculation(); } "
        'BEGIN { speculate(s); printf("spec\\n"); } '
        "BEGIN { commit(s); } BEGIN { exit(0); }",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "spec\n\n"
    check_lowered(lowered(r.stderr, "speculation size"), possible_cpus())


def test_sizes_that_fit_say_nothing() -> None:
    r = pydtrace(
        "-q", "-b", "64k", "-x", "aggsize=64k", "-x", "dynvarsize=64k", "-x", "specsize=4k",
        "-n",
        "BEGIN { s = speculation(); self->v = 1; @c = count(); } "
        'BEGIN { speculate(s); printf("%d\\n", self->v); } BEGIN { commit(s); } '
        'BEGIN { exit(0); } END { printa("%@d\\n", @c); }',
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout == "1\n1\n\n"


def test_aggsize_and_specsize_with_no_such_buffer_say_nothing() -> None:
    r = pydtrace("-q", "-x", "aggsize=1t", "-x", "specsize=1t", "-n", "BEGIN { exit(0); }")
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize(
    ("opt", "prog"),
    [
        ("bufsize=1t", "BEGIN { exit(0); }"),
        ("aggsize=1t", "BEGIN { @ = count(); exit(0); }"),
        ("dynvarsize=1t", "BEGIN { self->x = 1; exit(0); }"),
        ("specsize=1t", "BEGIN { s = speculation(); speculate(s); trace(1); }"),
    ],
)
def test_bufresize_manual_fails_as_dtrace(opt: str, prog: str) -> None:
    r = pydtrace("-q", "-x", "bufresize=manual", "-x", opt, "-n", prog)
    assert r.returncode == 1
    assert r.stderr == NOMEM
    assert r.stdout == ""


@pytest.mark.parametrize(
    ("opt", "prog"),
    [
        ("bufsize=4", "BEGIN { exit(0); }"),
        ("aggsize=8", "BEGIN { @ = count(); exit(0); }"),
    ],
)
def test_a_size_too_small_to_use_fails_as_dtrace(opt: str, prog: str) -> None:
    r = pydtrace("-q", "-x", opt, "-n", prog)
    assert r.returncode == 1
    assert r.stderr == "pydtrace: could not enable tracing: Enabling exceeds size of buffer\n"


def test_grabanon_finds_no_anonymous_state() -> None:
    r = pydtrace("-q", "-x", "grabanon", "-n", "BEGIN { exit(0); }")
    assert r.returncode == 1
    assert r.stderr == "pydtrace: could not enable tracing: No anonymous tracing state\n"
    # "no" unsets it
    r = pydtrace("-q", "-x", "grabanon=no", "-n", 'BEGIN { printf("x\\n"); exit(0); }')
    assert r.returncode == 0 and r.stdout == "x\n\n", r.stderr


def test_rates_the_module_changes_are_reported() -> None:
    r = pydtrace(
        "-q", "-x", "cleanrate=1ns", "-x", "statusrate=1h", "-n",
        'BEGIN { self->x = 1; printf("go\\n"); exit(0); }',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "go\n\n"
    assert r.stderr == (
        "pydtrace: cleaning rate reduced to 5000 hz\n"
        "pydtrace: status rate increased to once every 10 seconds\n"
    )
