"""Speculations in the module (dtrace-internals.md 3.7): data speculated on
every CPU and committed by the cleaner, busy and unavailable speculations,
ILLOP for an id past nspec, the intake checks, and what the consumers file
charges for the speculation buffers.  (tests/dtest/tst.spec_* cover the
one-CPU cases byte for byte.)"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kutil import pydtrace as run_pydtrace
from progbuild import Act, Builder, Consumer, const_difo

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
CONSUMERS = Path("/sys/kernel/debug/dtrace/consumers")
BEGIN = ("dtrace", "", "", "BEGIN")


def pydtrace(*args: str) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT)


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "t.d"
    path.write_text(text)
    return str(path)


def online_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def test_speculation_on_every_cpu_is_committed_by_the_cleaner(tmp_path: Path) -> None:
    """profile-N speculates once on each CPU (ACTIVEMANY); commit() in tick
    copies its own CPU's part and leaves COMMITTINGMANY, during which
    speculation() fails as busy; the cleaner commits the other CPUs'
    parts and frees the slot."""
    cpus = online_cpus()
    all_seen = " && ".join(f"seen[{c}]" for c in cpus)
    text = f"""
#pragma D option quiet
int seen[int];
int done;
BEGIN {{ s = speculation(); }}
profile-199 /s && !seen[cpu]/ {{ speculate(s); printf("cpu %d\\n", cpu); }}
profile-199 /s && !seen[cpu]/ {{ seen[cpu] = 1; }}
tick-20ms /{all_seen} && !done/ {{ commit(s); }}
tick-20ms /{all_seen} && !done/ {{ printf("during %d\\n", speculation()); done = 1; }}
tick-20ms /done/ {{ done++; }}
tick-20ms /done > 25/ {{ printf("after %d\\n", speculation()); exit(0); }}
"""
    p = pydtrace("-s", script(tmp_path, text))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert sorted(x for x in lines if x.startswith("cpu ")) == [f"cpu {c}" for c in cpus]
    assert "during 0" in lines
    assert "after 1" in lines  # the cleaner freed the slot
    if len(cpus) > 1:
        assert p.stderr == "pydtrace: 1 failed speculation (available buffer(s) still busy)\n"


def test_discard_on_many_cpus_frees_the_slot(tmp_path: Path) -> None:
    cpus = online_cpus()
    all_seen = " && ".join(f"seen[{c}]" for c in cpus)
    text = f"""
#pragma D option quiet
int seen[int];
int done;
BEGIN {{ s = speculation(); }}
profile-199 /s && !seen[cpu]/ {{ speculate(s); printf("cpu %d\\n", cpu); }}
profile-199 /s && !seen[cpu]/ {{ seen[cpu] = 1; }}
tick-20ms /{all_seen} && !done/ {{ discard(s); done = 1; }}
tick-20ms /done/ {{ done++; }}
tick-20ms /done > 25/ {{ printf("after %d\\n", speculation()); exit(0); }}
"""
    p = pydtrace("-s", script(tmp_path, text))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "after 1\n\n"


@pytest.mark.parametrize("action", ["speculate", "commit", "discard"])
def test_id_past_nspec_is_an_illegal_operation(action: str) -> None:
    after = "trace(1);" if action == "speculate" else ""
    p = pydtrace("-q", "-x", "nspec=2", "-n", f"BEGIN {{ {action}(3); {after} }}",
                 "-n", "BEGIN { exit(0); }")
    assert p.returncode == 0
    assert re.fullmatch(
        r"pydtrace: error on enabled probe ID \d+ \(ID \d+: dtrace:::BEGIN\): "
        r"illegal operation in action #1\n",
        p.stderr,
    ), p.stderr
    assert p.stdout == "\n"


def test_speculate_zero_drops_silently() -> None:
    p = pydtrace("-q", "-n", 'BEGIN { speculate(0); printf("no\\n"); }',
                 "-n", 'BEGIN { printf("yes\\n"); exit(0); }')
    assert (p.returncode, p.stdout, p.stderr) == (0, "yes\n\n", "")


def test_lone_speculate_records_the_epid(tmp_path: Path) -> None:
    """speculate() alone still records its EPID: committed, the probe's
    default line appears (before exit()'s own line)."""
    text = """
BEGIN { s = speculation(); }
BEGIN { speculate(s); }
BEGIN { commit(s); }
BEGIN { exit(0); }
"""
    p = pydtrace("-s", script(tmp_path, text))
    assert p.returncode == 0, p.stderr
    line = r" +\d+ +\d+ +:BEGIN \n"
    assert re.fullmatch(r"CPU +ID +FUNCTION:NAME\n" + line * 2 + "\n", p.stdout), p.stdout


def _prog(acts: list[Act], b: Builder) -> Builder:
    b.clause(BEGIN, acts)
    return b


def _refused(b: Builder) -> None:
    with Consumer() as c:
        rc, de = c.enable_raw(b.build())
        assert rc == errno.EINVAL
        assert de.de_err == lib.DTRACE_EPROG_ACTION


def test_intake_refuses_bad_orders() -> None:
    def spec(b: Builder, kind: int) -> Act:
        return b.expr(const_difo(1, 4), kind)

    b = Builder()  # a record before speculate()
    _refused(_prog([b.expr(const_difo(1)), spec(b, lib.DTRACEACT_SPECULATE)], b))
    b = Builder()  # two commits
    _refused(_prog([spec(b, lib.DTRACEACT_COMMIT), spec(b, lib.DTRACEACT_COMMIT)], b))
    b = Builder()  # a record after commit()
    _refused(_prog([spec(b, lib.DTRACEACT_COMMIT), b.expr(const_difo(1))], b))
    b = Builder()  # an aggregation in a clause that speculates
    _refused(_prog([spec(b, lib.DTRACEACT_SPECULATE),
                    *b.agg(lib.DTRACEAGG_COUNT, [])], b))
    b = Builder()  # ... or commits
    _refused(_prog([*b.agg(lib.DTRACEAGG_COUNT, []), spec(b, lib.DTRACEACT_COMMIT)], b))
    b = Builder()  # no DIFO
    _refused(_prog([Act(lib.DTRACEACT_DISCARD)], b))
    b = Builder()  # accepted: speculate, records, discard
    with Consumer() as c:
        c.enable(_prog([spec(b, lib.DTRACEACT_SPECULATE), b.expr(const_difo(1)),
                        spec(b, lib.DTRACEACT_DISCARD)], b))


def _consumer_line(pid: int) -> dict[str, str] | None:
    for line in CONSUMERS.read_text().splitlines():
        kind, *fields = line.split()
        kv = dict(f.split("=", 1) for f in fields)
        if kind == "consumer" and kv.get("pid") == str(pid):
            return kv
    return None


def possible_cpus() -> int:
    n = 0
    for part in Path("/sys/devices/system/cpu/possible").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


@pytest.mark.parametrize("speculates", [True, False])
def test_consumers_file_charges_speculation_buffers(tmp_path: Path, speculates: bool) -> None:
    """nspec x specsize per possible CPU, only when a clause speculates."""
    clause = "tick-1s /0/ { speculate(s); }" if speculates else ""
    text = f"""
#pragma D option nspec=3
#pragma D option specsize=4k
BEGIN {{ s = speculation(); }}
{clause}
tick-100ms {{ n++; }}
tick-100ms /n == 100/ {{ exit(0); }}
"""
    p = subprocess.Popen([sys.executable, "-m", "pydtrace", "-q", "-s", script(tmp_path, text)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        line = None
        while time.monotonic() < deadline:
            line = _consumer_line(p.pid)
            if line is not None and line["state"] == "active":
                break
            assert p.poll() is None, p.communicate()
            time.sleep(0.2)
        assert line is not None and line["state"] == "active"
        want = 3 * 4096 * possible_cpus() if speculates else 0
        assert int(line["speculation"]) == want, line
        parts = ("principal", "aggregation", "dynvar", "speculation", "static", "ecb",
                 "program", "meta")
        assert int(line["bytes"]) == sum(int(line[k]) for k in parts), line
    finally:
        p.kill()
        p.communicate(timeout=TIMEOUT)
    deadline = time.monotonic() + 30
    while _consumer_line(p.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _consumer_line(p.pid) is None
