"""A principal buffer past half full wakes the consumer (poll() on
/dev/dtrace, an irq_work from probe context): a burst bigger than the
buffer is drained as it comes, long before the switchrate, and nothing is
dropped.  dtrace(1) would wait its switchrate and drop the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

# getppid() n times, a 1 ms pause after every 20 (at most ~20 calls/ms)
WORKLOAD = """
import os, sys, time
for i in range(int(sys.argv[1])):
    os.getppid()
    if i % 20 == 19:
        time.sleep(0.001)
"""


def test_a_burst_bigger_than_the_buffer_is_drained_without_drops(tmp_path: Path) -> None:
    n = 20000  # >= 16 bytes a record: 5 buffers' worth of 64k
    script = tmp_path / "burst.py"
    script.write_text(WORKLOAD)
    r = pydtrace(
        "-q", "-x", "bufsize=64k", "-x", "switchrate=60s",
        "-c", f"{sys.executable} {script} {n}",
        "-n", 'syscall::getppid:entry /pid == $target/ { printf("%d\\n", pid); }',
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "drop" not in r.stderr, r.stderr
    lines = r.stdout.split()
    assert len(lines) == n, (len(lines), r.stderr)
    assert len(set(lines)) == 1  # all from the -c process


# On one CPU: poll() on the device before and after a buffer passes half
# full, and after the snapshot that switches it out.
POLLER = r"""
import io, os, select
from pydtrace.api import Consumer

os.sched_setaffinity(0, {0})
c = Consumer(out=io.BytesIO())
c.setopt("bufsize", "64k")
c.setopt("switchrate", "60s")
c.setopt("quiet")
c.enable(c.compile(
    'syscall::getppid:entry /pid == %d/ { printf("%%d\\n", pid); }' % os.getpid()))
c.go()
fd = c.device.fileno()
p = select.poll()
p.register(fd, select.POLLIN)
print("idle", p.poll(0))
k = 0
while k < 20000 and not p.poll(0):
    for _ in range(50):
        os.getppid()
    k += 50
print("readable after", k)
c.session.consume(force=True)
print("drained", p.poll(0))
c.close()
print("lines", c.out.getvalue().count(b"\n"))
"""


def test_the_device_is_readable_only_while_a_buffer_is_past_half() -> None:
    r = subprocess.run([sys.executable, "-c", POLLER], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "idle []" and lines[2:] == ["drained []", f"lines {lines[1].split()[-1]}"]
    k = int(lines[1].removeprefix("readable after "))
    # records of 12 to 64 bytes: readable once past 32k of the 64k, not before
    assert 32768 // 64 <= k <= 32768 // 12 + 50, k
