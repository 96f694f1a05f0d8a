"""The benchmark's pure parts: output parsing (bench/run_bench.py) and the report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


rb = _load("run_bench")
rp = _load("report")


def test_parse_aggs_pydtrace() -> None:
    unkeyed = "READY\n\n              300000\n\n"
    assert rb.parse_aggs("pydtrace", unkeyed) == {"": 300000}
    keyed = "READY\n\n  bash                    12\n  workload            500017\n"
    assert rb.parse_aggs("pydtrace", keyed) == {"bash": 12, "workload": 500017}


def test_parse_aggs_bpftrace() -> None:
    text = "Attaching 2 probes...\nREADY\n\n\n@c: 300000\n"
    assert rb.parse_aggs("bpftrace", text) == {"": 300000}
    text = "@[sshd]: 3\n@[workload]: 300000\n"
    assert rb.parse_aggs("bpftrace", text) == {"sshd": 3, "workload": 300000}


def test_parse_aggs_ignores_printf_lines() -> None:
    assert rb.parse_aggs("pydtrace", "12 12 345\n") == {}


def test_count_lines_and_drain(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.write_text("READY\n1 1 5\n1 1 6\nLost 3 events\n")
    assert rb.count_lines(out) == 2
    # already complete: returns at once with what it saw
    assert rb.wait_drained(out, 2, quiet=0.1)[0] == 2
    # stalls short of the goal: gives up after the quiet time
    assert rb.wait_drained(out, 5, quiet=0.1)[0] == 2


def test_configs_checks_follow_n_and_m() -> None:
    cfgs = {c["name"]: c for c in rb.configs(100, 7)}
    assert cfgs["syscall-count"]["check"] == ["agg", "", 100, 100]
    assert cfgs["fbt-execname"]["check"][1:3] == [rb.COMM, 100]
    assert cfgs["syscall-all"]["check"][2] == 107
    assert cfgs["printf3"]["check"] == ["lines", 100, 100]
    prog = cfgs["printf3"]["pydtrace"].format(pid=42)
    assert "/pid == 42/" in prog and prog.count("{") == prog.count("}")
    argv = rb.tracer_argv("pydtrace", prog)
    assert argv[:3] == ["pydtrace", "-q", "-n"] and "READY" in argv[3] and prog in argv[3]


def wl(getppid: float, read: float = 0.0, wall: float = 1e9) -> dict[str, Any]:
    return {"getppid": {"median": getppid, "wall": wall}, "read": {"median": read, "wall": wall}}


def test_overheads_and_ratio() -> None:
    runs = [
        {"untraced": wl(100), "workload": wl(150)},
        {"untraced": wl(110), "workload": wl(170)},
        {"untraced": wl(100), "error": "no READY"},  # a failed run counts for nothing
    ]
    assert rp.overheads(runs) == [50, 60]
    assert rp.stat([50, 60, 40]) == (50, 40, 60)
    assert rp.ratio((40, 0, 0), (50, 0, 0)) == pytest.approx(0.8)
    assert rp.ratio((40, 0, 0), (0, 0, 0)) is None
    assert rp.verdict(0.8, 0.8) == "met"
    assert rp.verdict(1.6, 0.8).startswith("MISSED by 2.00")
    assert rp.verdict(3.0, 2.0, higher_is_better=True) == "met"


def test_within_noise() -> None:
    assert rp.within_noise([3, -2, 4], [5, -1, 2])
    assert not rp.within_noise([30, 25, 40], [5, -6, 2])
    assert rp.within_noise([-30, -25, -40], [5, -6, 2])  # faster is not a cost


def test_parse_importtime_and_min_profile() -> None:
    a = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |     pydtrace.lang.ast\n"
        "import time:       300 |        900 |   pydtrace.compiler\n"
        "import time:        50 |       1000 | pydtrace.cli\n"
    )
    b = a.replace("300 |        900", "200 |        950")
    pa, pb = rp.parse_importtime(a), rp.parse_importtime(b)
    assert pa[0] == ("pydtrace.lang.ast", 100, 100, 2)
    assert pa[2] == ("pydtrace.cli", 50, 1000, 0)
    best = rp.min_profile([pa, pb])
    assert best["pydtrace.compiler"] == (200, 900, 1)


def test_render_has_the_table_and_the_problems() -> None:
    runs_p = [{"untraced": wl(100), "workload": wl(140), "count": 10, "count_ok": True}] * 5
    runs_b = [{"untraced": wl(100), "workload": wl(200), "count": 9, "count_ok": False}] * 5
    res = {
        "meta": {"n": 10, "m": 5, "reps": 5, "kernel": "6.1.0-test"},
        "configs": [
            {
                "name": "syscall-count",
                "title": "t",
                "check": ["agg", "", 10, 10],
                "target": 0.8,
                "programs": {"pydtrace": "p", "bpftrace": "b"},
                "pydtrace": runs_p,
                "bpftrace": runs_b,
            }
        ],
        "startup": {"pydtrace": [2.0, 3.0, 2.5], "bpftrace": [1.0, 1.0, 1.0]},
        "problems": ["syscall-count bpftrace: 9 events counted, expected 10"],
        "date": "today",
        "commit": "abc123",
    }
    md = rp.render(res, host_profile=False)
    assert "## PROBLEMS" in md and "9 events counted" in md
    row = next(ln for ln in md.splitlines() if ln.startswith("| `syscall-count`"))
    assert "| 0.40 |" in row and "met" in row and "0/5 exact; wrong: 9" in row
    assert "Ratio pydtrace/bpftrace: 2.50" in md and "MISSED by 2.50" in md
    assert "abc123" in md and "6.1.0-test" in md
