"""Many consumers at once (dtrace-internals.md 4.8), and what each one holds.

Eight ``pydtrace`` processes trace the same probes at once, each with its
own program, options and buffer sizes; each prints exactly its own answer.
While they run, /sys/kernel/debug/dtrace/consumers lists each of them (id,
pid, comm, activity, ECBs, bytes by kind); one of them is SIGKILLed in the
middle and the others carry on; after they exit the file lists none and the
module's allocation count is back where it was.

Runs inside the test VM (tests/vm), one test at a time (serial/): it needs
no other consumer to come or go while it counts.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parents[3]
CONSUMERS = Path("/sys/kernel/debug/dtrace/consumers")
TIMEOUT = 300.0
NOPID = 987654  # no such process in the guest
N1, N2 = 25, 17  # getppid calls before and after the kill
KIB = 1024

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

# The traced process: N1 getppid calls on "go", says "half", N2 more on the
# next line, then exits (exit_group, which ends every consumer).
CHILD = """
import os, sys
for n in sys.argv[1:]:
    sys.stdin.readline()
    for _ in range(int(n)):
        os.getppid()
    print("half", flush=True)
"""

# Every consumer says "ready" from BEGIN and exits when the child does.
# init: BEGIN's assignments, which declare the program's variables.
READY = 'BEGIN { INIT printf("ready\\n"); } syscall::exit_group:entry /pid == CHILD/ { exit(0); } '


@dataclass
class Spec:
    """One consumer: its program, options, and what it must print."""

    name: str
    clauses: str
    nclauses: int  # ECBs: one per clause, each clause matching one probe
    bufsize: int
    options: tuple[str, ...] = ()
    aggsize: int = 0  # > 0: it aggregates, with this aggsize
    dynvarsize: int = 0  # > 0: it has dynamic variables, this many bytes
    expect: str = ""  # output after "ready"
    init: str = ""  # BEGIN's first statements

    def argv(self, child: int) -> list[str]:
        prog = READY.replace("INIT", self.init) + self.clauses
        prog = prog.replace("CHILD", str(child))
        prog = prog.replace("PARENT", str(os.getpid()))  # the child's parent
        argv = [pydtrace_path(), "-q", "-b", f"{self.bufsize // KIB}k", *self.options]
        if self.aggsize:
            argv += ["-x", f"aggsize={self.aggsize // KIB}k"]
        if self.dynvarsize:
            argv += ["-x", f"dynvarsize={self.dynvarsize // KIB}k"]
        return [*argv, "-n", prog]


TOTAL = N1 + N2
SPECS = [
    Spec(
        "global",
        'syscall::getppid:entry /pid == CHILD/ { n++; } END { printf("A %d\\n", n); }',
        4,
        32 * KIB,
        expect=f"A {TOTAL}\n",
        init="n = 0;",
    ),
    Spec(
        "count",
        'syscall::getppid:entry /pid == CHILD/ { @c = count(); } END { printa("B %@d\\n", @c); }',
        4,
        64 * KIB,
        aggsize=64 * KIB,
        expect=f"B {TOTAL}\n",
    ),
    Spec(
        "thread-local",
        "syscall::getppid:entry /pid == CHILD/ { self->n++; } "
        f"syscall::getppid:entry /pid == CHILD && self->n == {TOTAL}/ "
        '{ printf("C %d\\n", self->n); }',
        4,
        96 * KIB,
        dynvarsize=256 * KIB,
        expect=f"C {TOTAL}\n",
        init="self->n = 0;",
    ),
    Spec(
        "sum",
        'syscall::getppid:entry /pid == CHILD/ { @s = sum(3); } END { printa("D %@d\\n", @s); }',
        4,
        128 * KIB,
        aggsize=96 * KIB,
        expect=f"D {3 * TOTAL}\n",
    ),
    Spec(
        "nobody",
        f'syscall::getppid:entry /pid == {NOPID}/ {{ n++; }} END {{ printf("E %d\\n", n); }}',
        4,
        160 * KIB,
        expect="E 0\n",
        init="n = 0;",
    ),
    Spec(
        "ticks",
        'tick-200ms /i < 3/ { i++; } END { printf("F %d\\n", i); }',
        4,
        192 * KIB,
        expect="F 3\n",
        init="i = 0;",
    ),
    Spec(
        "return",
        "syscall::getppid:return /pid == CHILD && arg0 == PARENT/ { @r = count(); } "
        "syscall::getppid:return /pid == CHILD && arg0 != PARENT/ { @w = count(); } "
        'END { printa("G %@d\\n", @r); printa("G wrong %@d\\n", @w); }',
        5,
        224 * KIB,
        aggsize=128 * KIB,
        expect=f"G {TOTAL}\n",
    ),
    Spec(  # SIGKILLed after the child's first N1 calls, while profile fires
        "victim",
        "profile-997 { @p = count(); } syscall::getppid:entry /pid == CHILD/ { n++; }",
        4,
        256 * KIB,
        aggsize=32 * KIB,
        init="n = 0;",
    ),
]


def pydtrace_path() -> str:
    venv = REPO / ".venv" / "bin" / "pydtrace"
    return str(venv) if venv.exists() else (shutil.which("pydtrace") or "pydtrace")


def possible_cpus() -> int:
    n = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def consumers() -> tuple[list[dict[str, str]], dict[str, int]]:
    """The consumers file: one dict per consumer line, and the totals."""
    lines: list[dict[str, str]] = []
    totals: dict[str, int] = {}
    for line in CONSUMERS.read_text().splitlines():
        kind, *fields = line.split()
        kv = dict(f.split("=", 1) for f in fields) if kind in ("consumer", "total") else {}
        if kind == "consumer":
            lines.append(kv)
        elif kind == "total":
            totals.update({k: int(v) for k, v in kv.items()})
        else:
            key, _, value = kind.partition("=")
            totals[key] = int(value)
    return lines, totals


def readline(stream: IO[bytes], deadline: float, what: str) -> str:
    """One line from a pipe, failing (not hanging) at the deadline."""
    fd = stream.fileno()
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"{what}: no line in time (got {buf!r})"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1)
            if not chunk:
                break  # EOF: the caller says why
            buf += chunk
    return buf.decode()


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def test_consumers_file_exists_and_is_empty_when_idle() -> None:
    lines, totals = consumers()
    assert lines == []
    assert totals["consumers"] == 0 and totals["bytes"] == 0
    assert totals["allocations"] > 0  # the probe table, at least


def test_an_open_device_is_listed_inactive() -> None:
    fd = os.open("/dev/dtrace", os.O_RDWR)
    try:
        lines, totals = consumers()
    finally:
        os.close(fd)
    assert totals["consumers"] == 1, lines
    (c,) = lines
    assert int(c["pid"]) == os.getpid()
    assert c["state"] == "inactive" and c["ecbs"] == "0"
    assert c["principal"] == c["aggregation"] == c["dynvar"] == c["static"] == "0"
    assert int(c["bytes"]) == totals["bytes"] > 0
    assert consumers()[0] == []


def own_line() -> dict[str, str]:
    (c,) = [c for c in consumers()[0] if int(c["pid"]) == os.getpid()]
    return c


PARTS = ("principal", "aggregation", "dynvar", "speculation", "static", "ecb", "program", "meta")


def test_program_memory_is_charged_and_returned() -> None:
    """The enablings (program copy with its DIF and string tables, DIFO,
    clause and action tables) and the variable tables are charged to the
    consumer as "program"; closing it returns every byte and allocation."""
    from pydtrace.api import Consumer as ApiConsumer

    lines, before = consumers()
    assert lines == [] and before["bytes"] == 0
    c = ApiConsumer()
    try:
        c.open()
        assert int(own_line()["program"]) == 0
        small = c.compile("BEGIN { n = 1; trace(n); }")
        assert c.enable(small) == 1
        line = own_line()
        p1 = int(line["program"])
        assert p1 >= len(small.data), (p1, len(small.data))
        assert int(line["bytes"]) == sum(int(line[k]) for k in PARTS), line
        # 40 more clauses, each with its own string: the charge grows by at
        # least the size of that program
        big = c.compile(" ".join(f'BEGIN {{ trace("string number {i}"); }}' for i in range(40)))
        assert c.enable(big) == 40
        line = own_line()
        p2 = int(line["program"])
        assert p2 - p1 >= len(big.data), (p1, p2, len(big.data))
        assert int(line["ecbs"]) == 41
        assert int(line["bytes"]) == sum(int(line[k]) for k in PARTS), line
        # GO adds the state's buffers, not program memory... except the
        # by-ref descriptions, none here: the program charge stays
        c.go()
        line = own_line()
        assert int(line["program"]) >= p2
        assert int(line["bytes"]) == sum(int(line[k]) for k in PARTS), line
    finally:
        c.close()
    lines, after = consumers()
    assert lines == [] and after["bytes"] == 0
    assert after["allocations"] == before["allocations"]


def test_eight_consumers_at_once(tmp_path: Path) -> None:
    ncpu = possible_cpus()
    # Create every on-demand probe (tick-200ms) before counting allocations.
    warm = run([pydtrace_path(), "-qn", "BEGIN { exit(0); } tick-200ms { } profile-997 { }"])
    assert warm.returncode == 0, warm.stderr
    before_lines, before = consumers()
    assert before_lines == [] and before["consumers"] == 0

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(N1), str(N2)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    procs: list[subprocess.Popen] = []
    errs: list[Path] = []
    try:
        for spec in SPECS:
            err = tmp_path / f"{spec.name}.err"
            errs.append(err)
            with err.open("wb") as ef:
                procs.append(
                    subprocess.Popen(spec.argv(child.pid), stdout=subprocess.PIPE, stderr=ef)
                )
        deadline = time.monotonic() + TIMEOUT
        for spec, p, err in zip(SPECS, procs, errs, strict=True):
            assert p.stdout is not None
            first = readline(p.stdout, deadline, spec.name)
            assert first == "ready\n", (spec.name, first, err.read_text())

        # All eight are running: one line each, with what its options asked.
        lines, totals = consumers()
        assert totals["consumers"] == len(SPECS), lines
        by_pid = {int(c["pid"]): c for c in lines}
        assert sorted(by_pid) == sorted(p.pid for p in procs)
        assert len({c["id"] for c in lines}) == len(SPECS)
        for spec, p in zip(SPECS, procs, strict=True):
            c = by_pid[p.pid]
            assert c["comm"] == "pydtrace", c
            assert c["state"] == "active", (spec.name, c)
            # and one for the library's own ERROR clause, as libdtrace's
            assert int(c["ecbs"]) == spec.nclauses + 1, (spec.name, c)
            assert int(c["principal"]) == 2 * spec.bufsize * ncpu, (spec.name, c)
            assert int(c["aggregation"]) == 2 * spec.aggsize * ncpu, (spec.name, c)
            assert int(c["dynvar"]) == spec.dynvarsize, (spec.name, c)
            assert int(c["bytes"]) == sum(int(c[k]) for k in PARTS), c
            assert int(c["program"]) > 0, (spec.name, c)
        assert int(by_pid[procs[0].pid]["static"]) >= 8  # the global n
        assert totals["bytes"] == sum(int(c["bytes"]) for c in lines)
        assert totals["allocations"] > before["allocations"]

        # The child's first half; then the victim dies mid-run.
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert readline(child.stdout, deadline, "child") == "half\n"
        victim = procs[-1]
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=TIMEOUT) == -signal.SIGKILL
        lines, totals = consumers()
        assert totals["consumers"] == len(SPECS) - 1, lines
        assert victim.pid not in {int(c["pid"]) for c in lines}
        assert all(c["state"] == "active" for c in lines), lines

        # The second half; the child's exit ends the seven others.  First
        # let "ticks" see its three tick-200ms firings (a busy guest may get
        # here in less than 600 ms).
        time.sleep(1.5)
        child.stdin.write(b"go\n")
        child.stdin.close()
        assert readline(child.stdout, deadline, "child") == "half\n"
        assert child.wait(timeout=TIMEOUT) == 0
        for spec, p, err in zip(SPECS[:-1], procs[:-1], errs[:-1], strict=True):
            assert p.stdout is not None
            out = p.stdout.read().decode()
            assert p.wait(timeout=TIMEOUT) == 0, (spec.name, err.read_text())
            # then the blank line dtrace(1) ends with
            assert out == spec.expect + "\n", (spec.name, out, err.read_text())
    finally:
        for p in [*procs, child]:
            if p.poll() is None:
                p.kill()
            p.wait()

    lines, after = consumers()
    assert lines == [] and after["consumers"] == 0 and after["bytes"] == 0
    assert after["allocations"] == before["allocations"]
