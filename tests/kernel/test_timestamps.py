"""Per-record timestamps: every ECB record starts with a struct dtrace_rechdr
(EPID, the firing's time), the time the D variable `timestamp` reads in that
firing, on CLOCK_MONOTONIC; -O json's `timestamp` field (docs/json.md) is it.
Test VM, module loaded."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from progbuild import Builder, Consumer, builtin_difo, rechdr, records
from test_json import check
from test_variables import WORKER, arg0_is, new_magic

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

BEGIN = ("dtrace", "", "", "BEGIN")
END = ("dtrace", "", "", "END")
CLOSE = ("syscall", "", "close", "entry")
TIMEOUT = 300


def monotonic_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def nondecreasing(xs: list[int]) -> bool:
    return all(a <= b for a, b in zip(xs, xs[1:], strict=False))


@pytest.fixture
def dt() -> Iterator[Consumer]:
    with Consumer() as c:
        yield c


def test_headers_time_each_firing_as_timestamp_reads_it(dt: Consumer) -> None:
    """BEGIN twice, close(magic) from a worker on each CPU, END: every clause
    traces `timestamp`.  Each record's header has the traced value (the same
    firing, the same time), within clock_gettime(CLOCK_MONOTONIC) readings
    taken around the run, non-decreasing along each CPU's buffer."""
    magic, n = new_magic(), 30
    cpus = sorted(os.sched_getaffinity(0))[:2]
    b = Builder()
    ts = lib.DIF_VAR_TIMESTAMP
    b.clause(BEGIN, [b.expr(builtin_difo(ts))])
    b.clause(BEGIN, [b.expr(builtin_difo(ts))])
    b.clause(CLOSE, [b.expr(builtin_difo(ts))], pred=arg0_is(magic))
    b.clause(END, [b.expr(builtin_difo(ts))])
    if dt.enable(b) != 4:
        pytest.skip("no syscall::close:entry probe")
    t0 = monotonic_ns()
    dt.go()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(cpu), str(n), str(magic)], stdin=subprocess.PIPE
        )
        for cpu in cpus
    ]
    for w in workers:
        assert w.stdin is not None
        w.stdin.write(b"go\n")
        w.stdin.close()
    for w in workers:
        assert w.wait(timeout=TIMEOUT) == 0
    ncpu = os.cpu_count() or 1
    snaps = [dt.bufsnap(cpu)[0] for cpu in range(ncpu)]
    dt.stop()
    snaps = [s + dt.bufsnap(cpu)[0] for cpu, s in enumerate(snaps)]
    t1 = monotonic_ns()

    offset = {epid: dt.eprobe(epid)[1][0].dtrd_offset for epid in (1, 2, 3, 4)}
    byepid: dict[int, list[int]] = {1: [], 2: [], 3: [], 4: []}
    for cpu, data in enumerate(snaps):
        times = []
        for epid, rec in records(data, dt):
            hepid, stamp = rechdr(rec)
            assert hepid == epid
            (traced,) = struct.unpack_from("<q", rec, offset[epid])
            assert traced == stamp, (cpu, epid)  # `timestamp` of this firing
            assert t0 <= stamp <= t1, (cpu, epid, t0, stamp, t1)
            times.append(stamp)
            byepid[epid].append(stamp)
        assert nondecreasing(times), (cpu, times)
    assert len(byepid[1]) == len(byepid[2]) == len(byepid[4]) == 1
    assert byepid[1] == byepid[2]  # two clauses, one firing
    assert len(byepid[3]) == n * len(cpus)
    # END fired after everything else (one clock for all CPUs)
    assert byepid[4][0] >= max(byepid[1] + byepid[3])


def run_json(text: str, tmp_path: Path) -> tuple[list[dict], int, int]:
    """pydtrace -q -O json -s text pinned to one CPU (BEGIN, END and a
    commit() in END all run there): (the records, t0, t1) with CLOCK_MONOTONIC
    read before the command starts and after it ends."""
    cpu = sorted(os.sched_getaffinity(0))[0]
    script = tmp_path / "t.d"
    script.write_text(text)
    t0 = monotonic_ns()
    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-q", "-O", "json", "-s", str(script)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    t1 = monotonic_ns()
    assert p.returncode == 0, p.stderr
    return [check(json.loads(line)) for line in p.stdout.splitlines()], t0, t1


def test_json_timestamp_of_probe_and_error_records(tmp_path: Path) -> None:
    recs, t0, t1 = run_json(
        """
BEGIN { trace(timestamp); }
BEGIN { trace(*(int *)8); }
tick-10ms { n++; trace(timestamp); }
tick-10ms /n == 4/ { exit(0); }
""",
        tmp_path,
    )
    types = [r["type"] for r in recs]
    assert sorted(types[:-1]) == ["error"] + ["probe"] * 5 and types[-1] == "exit", recs
    timed = recs[:-1]
    for r in timed:
        assert isinstance(r["timestamp"], int) and t0 <= r["timestamp"] <= t1, (t0, r, t1)
        if r["type"] == "probe":
            assert r["output"] == [
                {"kind": "int", "size": 8, "signed": True, "value": r["timestamp"]}
            ]
    # the fault is reported after the firing that faulted
    (error,) = [r for r in timed if r["type"] == "error"]
    probes = [r for r in timed if r["type"] == "probe"]
    (begin,) = [r for r in probes if r["probe-description"]["name"] == "BEGIN"]
    assert begin["timestamp"] <= error["timestamp"]
    for cpu in {r["cpu"] for r in timed}:
        assert nondecreasing([r["timestamp"] for r in timed if r["cpu"] == cpu])
    # the ticks fire one after another: four distinct times
    ticks = [r["timestamp"] for r in probes if r["probe-description"]["name"] == "tick-10ms"]
    assert len(set(ticks)) == 4


def test_committed_speculation_keeps_the_time_it_fired(tmp_path: Path) -> None:
    """A record speculated in BEGIN and committed in END has BEGIN's time,
    not the time of the END firing that committed it (which the next END
    clause's record has)."""
    recs, t0, t1 = run_json(
        """
BEGIN { s = speculation(); }
BEGIN { speculate(s); trace(timestamp); }
tick-10ms { n++; }
tick-10ms /n == 3/ { exit(0); }
END { commit(s); }
END { trace(timestamp); }
""",
        tmp_path,
    )
    assert [r["type"] for r in recs] == ["probe", "probe", "exit"], recs
    begin, end = recs[0], recs[1]
    assert end["probe-description"]["name"] == "END"
    assert begin["probe-description"]["name"] == "BEGIN"
    for r in (end, begin):
        assert r["output"][0]["value"] == r["timestamp"]
        assert t0 <= r["timestamp"] <= t1
    assert begin["cpu"] == end["cpu"]
    assert begin["timestamp"] < end["timestamp"]
