"""Buffer policies (dtrace-internals.md 4.5) through the pydtrace command: fill
stops tracing by itself when a CPU's buffer is full and END is still recorded;
ring keeps only the newest whole records, printed oldest first; switch is
unchanged.  The records come from a worker pinned to one CPU calling
close(MAGIC) in a loop, so their order is the order of the counter.  Test VM,
module loaded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from kutil import pydtrace as run_pydtrace

from pydtrace.abi import ffi

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 300
RECHDR = ffi.sizeof("struct dtrace_rechdr")  # every record's header (EPID, timestamp)

LOOP = """
import os, sys
os.sched_setaffinity(0, {int(sys.argv[1])})
while True:
    try:
        os.close(int(sys.argv[2]))
    except OSError:
        pass
"""

_magics = iter(range(25))


def new_magic() -> int:
    """An fd number nobody else closes (the other guest tests use the same scheme)."""
    return 1_500_000 + (os.getpid() % 40_000) * 25 + next(_magics)


@pytest.fixture
def worker() -> Iterator[tuple[int, int]]:
    """(cpu, magic): a process on the last CPU closing magic forever."""
    cpu = sorted(os.sched_getaffinity(0))[-1]
    magic = new_magic()
    p = subprocess.Popen([sys.executable, "-c", LOOP, str(cpu), str(magic)])
    try:
        yield cpu, magic
    finally:
        p.kill()
        p.wait()


def pydtrace(*args: str) -> subprocess.CompletedProcess:
    return run_pydtrace("-q", *args, timeout=TIMEOUT)


def counting(magic: int, extra: str = "") -> str:
    """Each close(magic) prints "cpu counter"; END prints "end counter"."""
    return (
        "BEGIN { i = 0; }\n"
        f'syscall::close:entry /arg0 == {magic}/ {{ printf("%d %d\\n", cpu, i); i++; }}\n'
        f"{extra}"
        'END { printf("end %d\\n", i); }\n'
    )


def parse(out: str) -> tuple[list[tuple[int, int]], list[str], int]:
    """(cpu, counter) lines, the other lines, END's counter."""
    lines = out.split("\n")
    nums: list[tuple[int, int]] = []
    other: list[str] = []
    end = -1
    for line in lines:
        if m := re.fullmatch(r"(\d+) (\d+)", line):
            nums.append((int(m.group(1)), int(m.group(2))))
        elif m := re.fullmatch(r"end (\d+)", line):
            assert end == -1, out
            end = int(m.group(1))
        elif line:
            other.append(line)
    assert end >= 0, out
    return nums, other, end


def test_fill_stops_by_itself_with_the_first_records_and_end(worker):
    cpu, magic = worker
    p = pydtrace("-b", "1k", "-x", "bufpolicy=fill", "-n", counting(magic))
    assert p.returncode == 0, p.stderr
    assert "drop" not in p.stderr
    nums, other, end = parse(p.stdout)
    assert other == []
    assert {c for c, _ in nums} == {cpu}
    values = [v for _, v in nums]
    # the first records, all of them: a full fill buffer drops the ECB
    # before its actions run, so the counter stops with the buffer
    assert values == list(range(len(values)))
    assert end == len(values)
    # 20-byte records (header, cpu, int i) fill the 1k buffer but for the
    # room kept for END (its 16-byte record: header, i; and 4 of alignment)
    assert len(values) == (1024 - (RECHDR + 4 + 4)) // (RECHDR + 8)
    assert p.stdout.rstrip("\n").endswith(f"end {end}")


def test_ring_keeps_the_newest_whole_records_oldest_first(worker):
    cpu, magic = worker
    last = 400
    # records of two sizes (20 and 272 bytes), so the ring wraps at
    # different places and the oldest record is found by walking sizes
    extra = (
        f'syscall::close:entry /arg0 == {magic} && i % 7 == 0/ {{ printf("s %s\\n", "x"); }}\n'
        f"syscall::close:entry /arg0 == {magic} && i == {last}/ {{ exit(0); }}\n"
    )
    p = pydtrace("-b", "4k", "-x", "bufpolicy=ring", "-n", counting(magic, extra))
    assert p.returncode == 0, p.stderr
    nums, other, end = parse(p.stdout)
    assert end == last
    assert set(other) <= {"s x"}
    assert {c for c, _ in nums} == {cpu}
    values = [v for _, v in nums]
    # only the newest: consecutive, ending at the last value, the oldest gone
    assert values == list(range(values[0], last))
    assert values[0] > 0
    # what is left is about a buffer's worth: 20-byte counter records and
    # string records of 268 bytes and more (header and a 256-byte string)
    used = len(values) * (RECHDR + 8) + len(other) * (RECHDR + 256)
    assert 4096 - 1024 < used <= 4096
    # whole records in their order: "s x" follows every multiple of 7 - 1
    seen = [line for line in p.stdout.split("\n") if line and not line.startswith("end")]
    for prev, line in zip(seen, seen[1:], strict=False):
        if line == "s x":
            assert prev != "s x" and (int(prev.split()[1]) + 1) % 7 == 0, prev
    for prev, line in zip(seen, seen[1:], strict=False):
        if prev != "s x" and (int(prev.split()[1]) + 1) % 7 == 0:
            assert line == "s x", prev


def test_switch_is_unchanged(worker):
    cpu, magic = worker
    last = 300
    extra = f"syscall::close:entry /arg0 == {magic} && i == {last}/ {{ exit(0); }}\n"
    p = pydtrace("-x", "bufpolicy=switch", "-x", "switchrate=10hz", "-n", counting(magic, extra))
    assert p.returncode == 0, p.stderr
    nums, other, end = parse(p.stdout)
    assert (other, end) == ([], last)
    assert nums == [(cpu, v) for v in range(last)]
