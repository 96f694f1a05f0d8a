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


def test_outwatch_counts_lines_per_pid_and_drop_reports(tmp_path: Path) -> None:
    out, err = tmp_path / "o", tmp_path / "e"
    out.write_bytes(b"READY\n7 7 100\n7 7 101\n8 8 5")  # the last line is incomplete
    err.write_bytes(b"")
    w = rb.OutWatch(out, err)
    w.poll()
    assert w.lines == {7: 2} and w.drops == [] and w.last_line_t > 0
    with open(out, "ab") as f:
        f.write(b"00\nLost 12 events\n")
    with open(err, "ab") as f:
        f.write(b"pydtrace: 3 drops on CPU 1\n")
    w.poll()
    assert w.lines == {7: 2, 8: 1}
    assert w.drops == ["Lost 12 events", "pydtrace: 3 drops on CPU 1"]


def _fake_trials(monkeypatch, limit: float, cap: float = 1e9) -> list[float]:
    """drain_trial stand-in: clean up to ``limit`` events/s; the workload
    reaches at most ``cap``."""
    tried: list[float] = []

    def trial(watch, exe, n, rate, quiet, settle):
        tried.append(rate)
        achieved = min(rate, cap)
        ok = achieved <= limit
        return {
            "rate": rate,
            "n": n,
            "achieved": achieved,
            "lines": n if ok else n // 2,
            "drops": [] if ok else ["1 drop on CPU 0"],
            "ok": ok,
        }

    monkeypatch.setattr(rb, "drain_trial", trial)
    return tried


def test_no_drop_search_doubles_then_bisects(monkeypatch) -> None:
    tried = _fake_trials(monkeypatch, limit=50_000)
    res = rb.no_drop_search(None, "wl", 1000, 10_000, 100, 10, 1.0, 0.0, "t")
    assert tried[:4] == [10_000, 20_000, 40_000, 80_000]
    assert 40_000 <= res["no_drop_rate"] <= 50_000
    assert res["lowest_dropping_rate"] > 50_000
    assert res["lowest_dropping_rate"] / res["no_drop_rate"] <= 1.25


def test_no_drop_search_halves_from_a_dropping_start_and_stops_at_the_floor(monkeypatch) -> None:
    tried = _fake_trials(monkeypatch, limit=2_000)
    res = rb.no_drop_search(None, "wl", 1000, 40_000, 2_000, 10, 1.0, 0.0, "t")
    assert tried[:4] == [40_000, 20_000, 10_000, 5_000]
    assert res["no_drop_rate"] is None and res["lowest_dropping_rate"] == 2_500
    _fake_trials(monkeypatch, limit=9_000)
    res = rb.no_drop_search(None, "wl", 1000, 40_000, 2_000, 10, 1.0, 0.0, "t")
    assert 7_200 <= res["no_drop_rate"] <= 9_000


def test_no_drop_search_stops_when_the_workload_cannot_go_faster(monkeypatch) -> None:
    tried = _fake_trials(monkeypatch, limit=1e9, cap=30_000)
    res = rb.no_drop_search(None, "wl", 1000, 20_000, 100, 10, 1.0, 0.0, "t")
    assert tried == [20_000, 40_000] and res["no_drop_rate"] == 30_000
    assert res["limited_by_workload"]


def test_render_has_the_drain_section() -> None:
    def rec(sat: float, best: float | None, bad: float) -> dict[str, Any]:
        return {
            "saturated": {"achieved": 90_000.0, "lines": 500, "drained_per_s": sat, "drops": ["x"]},
            "search": {
                "no_drop_rate": best,
                "lowest_dropping_rate": bad,
                "floor": 50.0,
                "runs": [{"rate": 1000.0, "ok": True}, {"rate": 2000.0, "ok": False}],
            },
        }

    res = {
        "meta": {"n": 10, "m": 5, "reps": 5},
        "drain": {
            "n": 1000,
            "programs": {"pydtrace": "P", "bpftrace": "B"},
            "pydtrace": rec(60_000.0, 40_000.0, 50_000.0),
            "bpftrace": rec(20_000.0, 10_000.0, 12_500.0),
        },
        "date": "today",
        "commit": "abc",
    }
    md = rp.render(res, host_profile=False)
    row = next(ln for ln in md.splitlines() if ln.startswith("| pydtrace | 90,000/s"))
    assert "| 60,000/s |" in row and "| 40,000/s |" in row and "1,000✓, 2,000✗" in row
    assert "saturated drain ratio pydtrace/bpftrace: 3.00" in md
    assert "no-drop rate ratio pydtrace/bpftrace: 4.00" in md and "— target ≥ 2: met" in md
    res["drain"]["pydtrace"] = rec(60_000.0, None, 100.0)
    md = rp.render(res, host_profile=False)
    assert "< 50/s (not searched below)" in md and "target ≥ 2: n/a" in md


def test_render_marks_lower_bounds() -> None:
    sat = {"n": 500, "achieved": 9.0e4, "lines": 500, "drained_per_s": 1.0e4, "drops": []}
    search = {
        "no_drop_rate": 3.0e4,
        "lowest_dropping_rate": None,
        "limited_by_workload": True,
        "floor": 5.0,
        "runs": [],
    }
    res = {
        "meta": {"n": 10, "m": 5, "reps": 5},
        "drain": {
            "n": 500,
            "programs": {"pydtrace": "P", "bpftrace": "B"},
            "pydtrace": {"saturated": sat, "search": search},
            "bpftrace": {},
        },
        "date": "today",
        "commit": "abc",
    }
    md = rp.render(res, host_profile=False)
    assert "≥ 10,000/s (kept up)" in md and "≥ 30,000/s (the workload's top paced rate)" in md


def test_render_bounds_the_ratio_when_bpftrace_always_dropped() -> None:
    def rec(best: float | None, bad: float) -> dict[str, Any]:
        return {
            "saturated": {},
            "search": {
                "no_drop_rate": best,
                "lowest_dropping_rate": bad,
                "floor": 500.0,
                "runs": [],
            },
        }

    res = {
        "meta": {"n": 10, "m": 5, "reps": 5},
        "drain": {
            "n": 500,
            "programs": {"pydtrace": "P", "bpftrace": "B"},
            "pydtrace": rec(40_000.0, 50_000.0),
            "bpftrace": rec(None, 1000.0),
        },
        "date": "today",
        "commit": "abc",
    }
    md = rp.render(res, host_profile=False)
    assert "ratio pydtrace/bpftrace: > 40.00 (bpftrace dropped at every rate tried)" in md
    assert "target ≥ 2: met" in md


def _wl(g: int, r: int) -> dict[str, Any]:
    return {"getppid": {"median": g}, "read": {"median": r}}


def test_icount_section_says_its_clock() -> None:
    run = {"untraced": _wl(417, 742), "workload": _wl(1056, 742 + 500), "count_ok": True}
    bpf = {"untraced": _wl(417, 742), "workload": _wl(1429, 742 + 900), "count_ok": True}
    cfg = {"name": "syscall-count", "target": 0.8, "programs": {}, "check": ["agg", "", 1, 1]}
    ic = {
        "icount": "shift=0,align=off,sleep=off",
        "meta": {"cpus": 1, "n": 1, "m": 1, "reps": 2},
        "configs": [{**cfg, "pydtrace": [run, run], "bpftrace": [bpf, bpf]}],
    }
    text = rp.render({}, host_profile=False, icount=ic)
    assert "instruction-count time" in text and "path length" in text
    # 639 / 1012 instructions, and the untraced runs' spread is the noise floor
    assert "| 639 (639 – 639) | 1012 (1012 – 1012) | 0.63 |" in text
    assert "getppid() 417 (417 – 417)" in text
    # the wall-clock boot's tables say theirs
    assert "Clock: host time" in rp.render({"configs": ic["configs"]}, host_profile=False)


def test_run_guest_argv_icount(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    class Proc:
        pid = 424242

        def __init__(self, argv: list[str], cwd: Path) -> None:
            seen.append(argv)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(rp, "WORKLOAD", tmp_path / "w")
    (tmp_path / "w").write_text("")
    monkeypatch.setattr(rp.subprocess, "Popen", Proc)
    with pytest.raises(SystemExit):  # no bench.json: the fake guest left none
        rp.run_guest(5, None, 2, "shift=0", "configs,idle", "syscall-count")
    argv = seen[0]
    assert "--icount=shift=0" in argv and argv.index("--icount=shift=0") < argv.index("--")
    tail = argv[argv.index("--") :]
    assert tail[tail.index("--only") + 1] == "configs,idle"
    assert tail[tail.index("--configs") + 1] == "syscall-count"
    assert tail[tail.index("-n") + 1] == "5" and "-m" not in tail
    assert "--tcg-thread" not in argv  # icount boots pick their own vCPU setup
    with pytest.raises(SystemExit):
        rp.run_guest(5, None, 2, "", "configs", "", "single")
    head = seen[1][: seen[1].index("--")]
    assert head[head.index("--tcg-thread") + 1] == "single"
    assert "threaded: both vCPUs take turns" in rp.clock_note({"tcg_thread": "single"})
    assert "a host thread per vCPU" in rp.clock_note({})


COUNTERS_TEXT = (
    "consumer id=3 pid=250 comm=pydtrace state=active ecbs=1 principal=8388608 "
    "aggregation=8388608 dynvar=1048576 speculation=0 static=0 ecb=136 program=912 "
    "meta=4096 bytes=17830936\n"
    "total consumers=1 bytes=17830936\n"
    "allocations=21\n"
)


def test_parse_counters_reads_the_modules_consumers_file() -> None:
    c = rb.parse_counters(COUNTERS_TEXT)
    assert c["total_consumers"] == 1 and c["total_bytes"] == 17830936
    assert c["allocations"] == 21
    (one,) = c["consumers"]
    assert one["principal"] == 8388608 and one["program"] == 912 and one["comm"] == "pydtrace"
    empty = rb.parse_counters("total consumers=0 bytes=0\nallocations=0\n")
    assert empty == {"consumers": [], "total_consumers": 0, "total_bytes": 0, "allocations": 0}


def test_memory_section_has_the_module_counters() -> None:
    idle0 = rb.parse_counters("total consumers=0 bytes=0\nallocations=0\n")
    res = {
        "meta": {"module_size": 1000},
        "configs": [
            {
                "name": "syscall-count",
                "pydtrace": [
                    {
                        "meminfo": {"Slab": 10},
                        "counters": rb.parse_counters(COUNTERS_TEXT),
                        "counters_after_workload": rb.parse_counters(COUNTERS_TEXT),
                    }
                ],
            }
        ],
        "idle": {
            "meminfo": {"no_module": {"Slab": 1}, "loaded": {"Slab": 2}, "after_exit": {"Slab": 2}},
            "counters": {"loaded": idle0, "after_exit": idle0},
        },
    }
    md = "\n".join(rp.section_memory(res))
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "consumer" in ln]
    ready = next(ln for ln in rows if "ready" in ln)
    assert "| 1 | 8,388,608 | 8,388,608 | 1,048,576 | 0 | 0 | 136 | 912 | 4,096 |" in ready
    assert "| 17,830,936 | 21 |" in ready
    after = next(ln for ln in rows if ln.startswith("| after the consumer exited"))
    assert after.endswith("| 0 | 0 |")
    assert "| one consumer (`syscall-count`, default options) | +0 | +9 |" in md


def test_fast_mode_takes_each_sides_lowest_run() -> None:
    # untraced runs in both host modes; the traced minimum is a fast-mode run
    runs = [
        {"untraced": wl(720), "workload": wl(2100)},
        {"untraced": wl(1350), "workload": wl(1300)},  # mixed modes: negative alone
        {"untraced": wl(730), "workload": wl(1250)},
        {"untraced": wl(100), "error": "no READY"},
    ]
    assert rp.fast_overhead(runs) == 1250 - 720
    assert rp.fast_overhead([{"untraced": wl(1), "error": "x"}]) is None
    res = {
        "configs": [
            {
                "name": "syscall-count",
                "target": 0.8,
                "pydtrace": runs,
                "bpftrace": [{"untraced": wl(720), "workload": wl(1720)}],
            }
        ]
    }
    row = next(ln for ln in rp.section_fast_mode(res) if ln.startswith("| `syscall-count`"))
    assert row == "| `syscall-count` | 530 | 1000 | 0.53 | ≤ 0.8 | met |"
    # icount boots have no fast mode
    assert not any("fast mode" in ln for ln in rp.section_configs({**res, "icount": "x"}))
    assert any("fast mode" in ln for ln in rp.section_configs(res))
