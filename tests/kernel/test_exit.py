"""exit() edge cases (dtrace-internals.md 4.7): exit() in BEGIN suppresses the
later BEGIN clauses and every other probe, exactly one exit() wins among
many firings, and END may exit() again.  Test VM, module loaded."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest
from progbuild import Act, Builder, Consumer, bodies, const_difo
from test_variables import WORKER, arg0_is, new_magic

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

BEGIN = ("dtrace", "", "", "BEGIN")
END = ("dtrace", "", "", "END")
CLOSE = ("syscall", "", "close", "entry")


@pytest.fixture
def dt() -> Iterator[Consumer]:
    with Consumer() as c:
        yield c


def exit_act(b: Builder, status: int) -> Act:
    return Act(lib.DTRACEACT_EXIT, b.difo(const_difo(status, size=4)))


def snap_all(dt: Consumer) -> list[tuple[int, bytes]]:
    out = []
    for cpu in sorted(os.sched_getaffinity(0)):
        out += bodies(dt.bufsnap(cpu)[0], dt)
    return out


def test_exit_in_begin_suppresses_later_clauses_and_probes(dt: Consumer) -> None:
    magic = new_magic()
    b = Builder()
    b.clause(BEGIN, [exit_act(b, 3)])
    b.clause(BEGIN, [b.expr(const_difo(1))])
    b.clause(CLOSE, [b.expr(const_difo(2))], pred=arg0_is(magic))
    b.clause(END, [exit_act(b, 5)])
    dt.enable(b)
    dt.go()
    st = dt.status()
    assert st.dtst_exiting == 1 and st.dtst_activity == lib.DTRACE_ACTIVITY_DRAINING
    try:
        os.close(magic)
    except OSError:
        pass
    assert snap_all(dt) == [(1, struct.pack("<i", 3))]
    # END runs while draining, and its exit() is accepted
    end = dt.stop()
    assert bodies(dt.bufsnap(end)[0], dt) == [(4, struct.pack("<i", 5))]
    assert dt.status().dtst_activity == lib.DTRACE_ACTIVITY_STOPPED


def test_one_exit_wins_among_many_cpus(dt: Consumer) -> None:
    magic = new_magic()
    cpus = sorted(os.sched_getaffinity(0))
    b = Builder()
    b.clause(CLOSE, [b.expr(const_difo(9)), exit_act(b, 0)], pred=arg0_is(magic))
    if dt.enable(b) == 0:
        pytest.skip("no syscall::close:entry probe")
    dt.go()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(cpu), "200", str(magic)],
            stdin=subprocess.PIPE,
        )
        for cpu in cpus[:2]
    ]
    for w in workers:
        assert w.stdin is not None
        w.stdin.write(b"go\n")
        w.stdin.close()
    for w in workers:
        assert w.wait(timeout=120) == 0
    assert snap_all(dt) == [(1, struct.pack("<IqI", 0, 9, 0))]  # pad, 9, exit(0)
    assert dt.status().dtst_exiting == 1
