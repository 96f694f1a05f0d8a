"""The profile provider against the real module (test VM, module loaded):
profile-N on every CPU, tick-N on one, DTrace's units, on-demand probes,
the 200us floor, arg0/arg1, and no timer left behind by a consumer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
KERNEL_MIN = 0xFFFF800000000000  # x86-64: kernel addresses are above this
USER_MAX = 0x0000800000000000


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def listed(pattern: str) -> list[list[str]]:
    """The rows of `pydtrace -l -n pattern` as split fields (header dropped)."""
    p = pydtrace("-l", "-n", pattern)
    assert p.returncode == 0, p.stderr
    return [line.split() for line in p.stdout.splitlines()[1:]]


def dtrace_timers() -> int:
    """Active hrtimers whose callback is the profile provider's."""
    with open("/proc/timer_list") as f:
        return f.read().count("dtrace_profile_fire")


def test_default_probes_are_listed_unanchored():
    rows = listed("profile:::")
    names = [r[-1] for r in rows]
    for rate in (97, 199, 499, 997, 1999, 4001, 4999):
        assert f"profile-{rate}" in names
    for rate in (1, 10, 100, 500, 1000, 5000):
        assert f"tick-{rate}" in names
    # ID PROVIDER NAME: module and function are empty
    assert all(len(r) == 3 and r[1] == "profile" for r in rows), rows
    assert [n for n in names if n.startswith("profile-")][:7] == [
        f"profile-{r}" for r in (97, 199, 499, 997, 1999, 4001, 4999)
    ]


def tagged(prog: str) -> Counter[str]:
    """Run a program whose clauses print one word per firing; count the words."""
    p = pydtrace("-qn", prog)
    assert p.returncode == 0, p.stderr
    return Counter(p.stdout.split())


def near_ratio(a: int, b: int, ratio: float) -> bool:
    """a/b is ratio within a factor of 1.5 (a wrong unit or rate is off by 2x
    or more).  Rates are compared with a reference timer of the same run, not
    with wall time: a vCPU the host deschedules misses ticks (as illumos's
    cyclics, a late timer skips to the next interval boundary), and the timers
    of one run miss them roughly alike."""
    return b > 0 and ratio / 1.5 <= a / b <= ratio * 1.5


def test_tick_fires_on_one_cpu_at_its_rate():
    # tick-50: 50 Hz, on one CPU; tick-10 the reference; tick-2s (created on
    # demand, unit s) ends the run
    c = tagged(
        'tick-50 { printf("cpu%d\\n", cpu); } tick-10 { printf("ref\\n"); } tick-2s { exit(0); }'
    )
    cpus = [k for k in c if k.startswith("cpu")]
    assert len(cpus) == 1, c
    n = c[cpus[0]]
    assert n <= 110, n  # never faster than 50 Hz over 2 s
    assert near_ratio(n, c["ref"], 5.0), c


def test_tick_units_and_on_demand_rates():
    # 40ms = 25 Hz and 25hz are the same rate; both created on demand; the
    # reference tick-5 fires 5 times a second
    c = tagged(
        'tick-40ms { printf("a\\n"); } tick-25hz { printf("b\\n"); } '
        'tick-5 { printf("ref\\n"); } tick-2000msec { exit(0); }'
    )
    assert c["a"] <= 55 and c["b"] <= 55, c
    assert near_ratio(c["a"], c["b"], 1.0), c
    assert near_ratio(c["a"], c["ref"], 5.0), c
    names = [r[-1] for r in listed("profile:::tick-*")]
    assert {"tick-40ms", "tick-25hz", "tick-2000msec"} <= set(names)


def test_profile_fires_on_every_cpu():
    ncpu = os.cpu_count() or 1
    c = tagged(
        'profile-50 { printf("cpu%d\\n", cpu); } tick-10 { printf("ref\\n"); } tick-2s { exit(0); }'
    )
    assert {k for k in c if k.startswith("cpu")} == {f"cpu{i}" for i in range(ncpu)}, c
    for cpu in range(ncpu):
        n = c[f"cpu{cpu}"]
        assert n <= 110, (cpu, n)
        assert near_ratio(n, c["ref"], 5.0), (cpu, c)


def created_on_demand(name: str) -> bool:
    """Name a probe in an enabling (BEGIN ends the run), then list it."""
    p = pydtrace("-qn", f"{name} {{ }} BEGIN {{ exit(0); }}")
    lst = pydtrace("-l", "-n", f"profile:::{name}")
    nlisted = lst.stdout.count("\n") - 1 if lst.returncode == 0 else 0
    if nlisted:  # created, or a glob matching probes that exist (tick-1*)
        assert p.returncode == 0, p.stderr
    else:  # as dtrace(1) without -Z: a description matching nothing fails
        assert p.returncode == 1 and "does not match any probes" in p.stderr, p.stderr
    return nlisted == 1


def test_valid_rates_are_created_on_demand():
    assert created_on_demand("tick-4999")  # 200.04us: just above the floor
    assert created_on_demand("profile-3DAY")  # units are case-insensitive


@pytest.mark.parametrize(
    "name", ["profile-199us", "tick-5001", "tick-0", "tick-10parsecs", "tick-", "tick-1*"]
)
def test_too_fast_or_malformed_rates_create_no_probe(name: str):
    assert not created_on_demand(name)


def test_args_are_kernel_or_user_pc():
    # a user-mode busy loop: its samples carry a user PC in arg1 and arg0 = 0
    busy = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    try:
        p = pydtrace(
            "-qn",
            f'profile-97 /pid == {busy.pid}/ {{ printf("%x %x\\n", arg0, arg1); }} '
            f'profile-97 /pid != {busy.pid}/ {{ printf("%x %x\\n", arg0, arg1); }} '
            "tick-2s { exit(0); }",
        )
    finally:
        busy.kill()
        busy.wait()
    assert p.returncode == 0, p.stderr
    pairs = [tuple(int(x, 16) for x in line.split()) for line in p.stdout.splitlines() if line]
    assert pairs
    for k, u in pairs:
        assert (k == 0) != (u == 0), (hex(k), hex(u))
        assert k == 0 or k >= KERNEL_MIN, hex(k)
        assert u < USER_MAX, hex(u)
    assert any(u for _, u in pairs), "no sample in user mode"
    assert any(k for k, _ in pairs), "no sample in kernel mode"


def test_timers_exist_only_while_enabled():
    assert dtrace_timers() == 0
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pydtrace",
            "-qn",
            'BEGIN { printf("ready\\n"); } profile-97 { } tick-1000 { }',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        ncpu = os.cpu_count() or 1
        assert dtrace_timers() >= ncpu  # one per CPU for profile-97, one tick
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=TIMEOUT)
    deadline = time.monotonic() + 5
    while dtrace_timers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dtrace_timers() == 0
    assert not re.search(r"\bdtrace_profile", open("/proc/timer_list").read())
