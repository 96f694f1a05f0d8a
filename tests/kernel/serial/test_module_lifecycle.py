"""Module lifetime: use counts, rmmod/insmod, consumers killed mid-trace.

Runs inside the test VM (tests/vm) one test at a time: it unloads and
reloads the module, and always leaves it loaded.  PYDTRACE_KO names the
module file (default: <repo>/kmod/dtrace.ko).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
KO = os.environ.get("PYDTRACE_KO") or str(REPO / "kmod" / "dtrace.ko")
DEV = "/dev/dtrace"
REFCNT = Path("/sys/module/dtrace/refcnt")

pytestmark = pytest.mark.skipif(not os.path.exists(DEV), reason="needs /dev/dtrace (test VM)")

# A consumer that enables BEGIN/END/ERROR clauses, goes, and then waits to
# be killed; it says "ready" once tracing is running.
CHILD = f"""
import sys, time
sys.path.insert(0, {str(REPO / "tests" / "kernel")!r})
from test_ioctl import Consumer, Ecb, begin_prog
c = Consumer()
prog = begin_prog(extra=[Ecb(("", "", "", "END")), Ecb(("", "", "", "ERROR"))], value=5)
prog.ecbs[0].acts = (0, 1)  # no exit(): stay ACTIVE
assert c.enable(prog.build()) == 3
c.go()
assert c.status().dtst_activity == 2
print("ready", flush=True)
time.sleep(3600)
"""


def refcnt() -> int:
    return int(REFCNT.read_text())


def wait_for(path: str, present: bool = True, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path) == present:
            return True
        time.sleep(0.05)
    return os.path.exists(path) == present


def works() -> None:
    """A fresh consumer can trace BEGIN and read the record back."""
    sys.path.insert(0, str(REPO / "tests" / "kernel"))
    from test_ioctl import Consumer, begin_prog, bodies  # noqa: PLC0415

    c = Consumer()
    try:
        assert c.enable(begin_prog(value=77).build()) == 1
        cpu = c.go()
        data, _ = c.bufsnap(cpu)
        assert [r[1][:4] for r in bodies(data, c)] == [(77).to_bytes(4, "little")]
        c.stop()
    finally:
        c.close()


@pytest.fixture(autouse=True)
def module_loaded() -> Iterator[None]:
    yield
    if not os.path.exists("/sys/module/dtrace"):
        subprocess.run(["insmod", KO], check=True)
        wait_for(DEV)


def test_open_holds_a_reference() -> None:
    assert refcnt() == 0
    fd = os.open(DEV, os.O_RDWR)
    try:
        assert refcnt() == 1
        fd2 = os.open(DEV, os.O_RDWR)
        assert refcnt() == 2
        os.close(fd2)
        r = subprocess.run(["rmmod", "dtrace"], capture_output=True)
        assert r.returncode != 0  # in use
        assert os.path.exists("/sys/module/dtrace")
    finally:
        os.close(fd)
    assert refcnt() == 0


def test_open_needs_privilege() -> None:
    r = subprocess.run(
        [sys.executable, "-c", f"import os; os.setuid(65534); os.open({DEV!r}, os.O_RDWR)"],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0
    assert "PermissionError" in r.stderr
    assert oct(os.stat(DEV).st_mode & 0o777) == "0o600"


def test_sigkill_while_tracing() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        assert refcnt() == 1
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -9
    assert refcnt() == 0
    works()
    assert refcnt() == 0


CONSUMERS = Path("/sys/kernel/debug/dtrace/consumers")


def totals() -> dict[str, int]:
    """The consumers file's totals line and allocation count."""
    out: dict[str, int] = {}
    for line in CONSUMERS.read_text().splitlines():
        if line.startswith("total "):
            out.update((k, int(v)) for k, v in (f.split("=") for f in line.split()[1:]))
        elif line.startswith("allocations="):
            out["allocations"] = int(line.split("=")[1])
    return out


# Fires as fast as it can: profile on every CPU, the spinning child's
# syscalls; aggregates, keeps dynamic variables, speculates and traces.
FULL_RATE = (
    "BEGIN { printf(\"ready\\n\"); } "
    "profile-4999 { @p[cpu] = count(); self->n++; } "
    "syscall::getppid:entry /pid == SPINNER/ { @s = count(); a[tid] = timestamp; "
    "s = speculation(); } "
    "syscall::getppid:entry /pid == SPINNER/ { speculate(s); trace(arg0); } "
    "syscall::getppid:return /pid == SPINNER/ { trace(arg1); }"
)
SPIN = "import os\nwhile True: os.getppid()"


def test_sigkill_at_full_rate_frees_everything_and_unloads() -> None:
    warm = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-q", "-n", "BEGIN { exit(0); } profile-4999 { }"],
        capture_output=True, text=True, timeout=300,
    )
    assert warm.returncode == 0, warm.stderr
    before = totals()
    assert before["consumers"] == 0 and before["bytes"] == 0
    spin = subprocess.Popen([sys.executable, "-c", SPIN])
    tracer = subprocess.Popen(
        [sys.executable, "-m", "pydtrace", "-q", "-x", "nspec=4",
         "-n", FULL_RATE.replace("SPINNER", str(spin.pid))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert tracer.stdout is not None
        assert tracer.stdout.readline() == "ready\n", tracer.stderr and tracer.stderr.read()
        time.sleep(2)  # firing all along
        during = totals()
        assert during["consumers"] == 1 and during["bytes"] > 0
        assert during["allocations"] > before["allocations"]
        tracer.kill()
        assert tracer.wait(timeout=60) == -9
    finally:
        for p in (tracer, spin):
            if p.poll() is None:
                p.kill()
            p.wait()
    after = totals()
    assert after["consumers"] == 0 and after["bytes"] == 0
    assert after["allocations"] == before["allocations"]
    assert refcnt() == 0
    subprocess.run(["rmmod", "dtrace"], check=True)
    assert wait_for(DEV, present=False)


def test_rmmod_insmod() -> None:
    works()
    assert refcnt() == 0
    subprocess.run(["rmmod", "dtrace"], check=True)
    assert not os.path.exists("/sys/module/dtrace")
    assert wait_for(DEV, present=False)
    subprocess.run(["insmod", KO], check=True)
    assert wait_for(DEV)
    assert refcnt() == 0
    works()
    assert refcnt() == 0
