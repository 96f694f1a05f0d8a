"""A consumer SIGKILLed while speculations are active on every CPU and being
committed: everything it held (speculation slots and buffers included) is
freed, the module's allocation count returns to where it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

CONSUMERS = Path("/sys/kernel/debug/dtrace/consumers")
TIMEOUT = 120
PROGRAM = """
#pragma D option quiet
#pragma D option nspec=4
#pragma D option specsize=8k
profile-199 { s = speculation(); }
profile-199 /s/ { speculate(s); printf("%d %d\\n", cpu, s); }
profile-199 /s && (timestamp & 1)/ { commit(s); }
profile-199 /s && !(timestamp & 1)/ { discard(s); }
"""


def totals() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in CONSUMERS.read_text().splitlines():
        kind, *fields = line.split()
        if kind == "total":
            out.update({k: int(v) for k, v in (f.split("=", 1) for f in fields)})
        elif kind.startswith("allocations="):
            out["allocations"] = int(kind.split("=", 1)[1])
    return out


def run_and_kill(tmp_path: Path) -> None:
    path = tmp_path / "spec.d"
    path.write_text(PROGRAM)
    p = subprocess.Popen([sys.executable, "-m", "pydtrace", "-s", str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT
    while totals().get("consumers", 0) == 0:
        assert p.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(2)  # speculating, committing and discarding on every CPU
    p.send_signal(signal.SIGKILL)
    assert p.wait(timeout=TIMEOUT) == -signal.SIGKILL
    p.communicate(timeout=TIMEOUT)
    while totals()["consumers"] != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_killed_speculating_consumer_frees_everything(tmp_path: Path) -> None:
    run_and_kill(tmp_path)  # the first run creates the profile probe
    before = totals()
    assert before["consumers"] == 0 and before["bytes"] == 0
    run_and_kill(tmp_path)
    after = totals()
    assert after == before
