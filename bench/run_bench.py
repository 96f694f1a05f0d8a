#!/usr/bin/env python3
"""The pydtrace-vs-bpftrace benchmark; runs INSIDE the test VM, in one boot.

Started by ``bench/report.py --run`` (``make bench``) through
``tests/vm/run.py`` with the module loaded (its path in ``$PYDTRACE_KO``).
Standard library only.  For every configuration and both tracers it
alternates untraced and traced runs of ``bench/workload.c``; it also times
the tracers' startup, measures the idle cost of the module (no module,
loaded without a consumer, after a consumer exited, and an
untraced-vs-untraced pair for the noise floor), samples /proc/meminfo, and
checks every event count against the workload's call counts.

The raw results go to ``/tmp/vm/bench.json`` (the harness's writable share,
which the harness copies into ``.cache/vm/logs/``), or, without the share,
to stdout as one line prefixed ``BENCH-JSON``.  Problems (a count that
does not match, a tracer that failed) are printed loudly as they happen and
listed under "problems" in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SHARE = Path("/tmp/vm")
COMM = "workload"  # the workload binary's name, i.e. its execname/comm
READY_TIMEOUT = 240.0
STOP_TIMEOUT = 90.0

T0 = time.monotonic()
PROBLEMS: list[str] = []


def log(msg: str) -> None:
    print(f"bench [{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def problem(msg: str) -> None:
    PROBLEMS.append(msg)
    bar = "!" * 72
    print(f"{bar}\nBENCH PROBLEM: {msg}\n{bar}", file=sys.stderr, flush=True)


# --- configurations ---------------------------------------------------------


def configs(n: int, m: int) -> list[dict[str, Any]]:
    """name, the two programs (``{pid}`` is the workload's pid) and the count check.

    check: ("agg", key, lo, hi): the aggregation entry ``key`` ("" when
    unkeyed) must lie in [lo, hi]; ("lines", lo, hi): that many printf lines.
    """
    return [
        {
            "name": "syscall-count",
            "title": "syscall::getppid:entry count()",
            "pydtrace": "syscall::getppid:entry { @c = count(); }",
            "bpftrace": "tracepoint:syscalls:sys_enter_getppid { @c = count(); }",
            "check": ["agg", "", n, n],
            "target": 0.8,
        },
        {
            "name": "fbt-execname",
            "title": "fbt::__do_sys_getppid:entry @[execname] = count()",
            "pydtrace": "fbt::__do_sys_getppid:entry { @[execname] = count(); }",
            "bpftrace": "kprobe:__do_sys_getppid { @[comm] = count(); }",
            "check": ["agg", COMM, n, n],
            "target": 0.8,
        },
        {
            "name": "syscall-all",
            "title": "syscall:::entry @[execname] = count()",
            "pydtrace": "syscall:::entry { @[execname] = count(); }",
            "bpftrace": "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }",
            # the N getppid and M read, plus the few calls around them
            # (the go read's return is not an entry; write, exit_group, ...)
            "check": ["agg", COMM, n + m, n + m + 32],
            "target": 0.8,
        },
        {
            "name": "false-predicate",
            "title": "syscall::getppid:entry /pid == 0/ count()",
            "pydtrace": "syscall::getppid:entry /pid == 0/ { @c = count(); }",
            "bpftrace": "tracepoint:syscalls:sys_enter_getppid /pid == 0/ { @c = count(); }",
            "check": ["agg", "", 0, 0],
            "target": 0.8,
        },
        {
            "name": "printf3",
            "title": "syscall::getppid:entry /pid == $target/ printf of 3 values",
            "pydtrace": (
                "syscall::getppid:entry /pid == {pid}/ "
                '{{ printf("%d %d %d\\n", pid, tid, timestamp); }}'
            ),
            "bpftrace": (
                "tracepoint:syscalls:sys_enter_getppid /pid == {pid}/ "
                '{{ printf("%d %d %d\\n", pid, tid, nsecs); }}'
            ),
            "check": ["lines", n, n],
            "target": None,
        },
    ]


def tracer_argv(tool: str, program: str) -> list[str]:
    """The tracer's command line; a BEGIN clause says READY once the probes are on."""
    if tool == "pydtrace":
        return ["pydtrace", "-q", "-n", 'BEGIN { printf("READY\\n"); } ' + program]
    return ["bpftrace", "-e", 'BEGIN { printf("READY\\n"); } ' + program]


# --- the workload -----------------------------------------------------------


class Workload:
    """One workload process, started first (its pid is known), run on go();
    rate > 0 paces its getppid() calls at that many per second."""

    def __init__(self, exe: str, n: int, m: int, rate: float = 0) -> None:
        self.proc = subprocess.Popen(
            [exe, str(n), str(m), "--wait"] + (["--rate", f"{rate:.0f}"] if rate > 0 else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.pid = self.proc.pid

    def go(self) -> dict[str, Any]:
        out, _ = self.proc.communicate(b"g", timeout=600)
        for line in out.decode().splitlines():
            if line.startswith("WORKLOAD "):
                return json.loads(line[len("WORKLOAD ") :])
        raise RuntimeError(f"workload exited {self.proc.returncode} without its line")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def untraced(exe: str, n: int, m: int) -> dict[str, Any]:
    return Workload(exe, n, m).go()


# --- a tracer around one workload run ---------------------------------------


AGG_PYD = re.compile(r"^\s*(?:(\S+)\s+)?(\d+)\s*$")
AGG_BPF = re.compile(r"^@\w*(?:\[(.*)\])?: (\d+)\s*$")
PRINTF_LINE = re.compile(r"^\d+ \d+ \d+$")


def parse_aggs(tool: str, text: str) -> dict[str, int]:
    rx = AGG_PYD if tool == "pydtrace" else AGG_BPF
    out: dict[str, int] = {}
    for line in text.splitlines():
        if PRINTF_LINE.match(line.strip()):
            continue
        mt = rx.match(line)
        if mt:
            out[mt.group(1) or ""] = int(mt.group(2))
    return out


def wait_ready(proc: subprocess.Popen[bytes], out: Path, timeout: float) -> float:
    """Seconds until the tracer printed READY; raises if it died or timed out."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if b"READY" in out.read_bytes():
            return time.monotonic() - t
        if proc.poll() is not None:
            raise RuntimeError(f"tracer exited {proc.returncode} before READY")
        time.sleep(0.05)
    raise RuntimeError(f"no READY after {timeout:.0f}s")


def count_lines(out: Path) -> int:
    return sum(1 for ln in out.read_text(errors="replace").splitlines() if PRINTF_LINE.match(ln))


def wait_drained(
    out: Path, want: int, quiet: float = 20.0, limit: float = 300.0
) -> tuple[int, float]:
    """Wait until the tracer printed ``want`` lines or stopped printing for ``quiet`` s.

    Returns the lines seen and the seconds from the workload's end to the last new line.
    """
    t0 = time.monotonic()
    last_n, last_t = count_lines(out), t0
    while last_n < want and time.monotonic() - last_t < quiet and time.monotonic() - t0 < limit:
        time.sleep(0.5)
        n = count_lines(out)
        if n != last_n:
            last_n, last_t = n, time.monotonic()
    return last_n, last_t - t0


def stop(tr: subprocess.Popen[bytes], name: str, tool: str) -> int:
    """SIGINT (the tracer prints its aggregations); escalate if it does not exit."""
    tr.send_signal(signal.SIGINT)
    try:
        return tr.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        problem(f"{name} {tool}: still running {STOP_TIMEOUT:.0f}s after SIGINT; SIGTERM")
    tr.terminate()
    try:
        return tr.wait(timeout=30)
    except subprocess.TimeoutExpired:
        tr.kill()
        return tr.wait()


def meminfo() -> dict[str, int]:
    keep = ("MemFree", "MemAvailable", "Slab", "VmallocUsed", "Percpu")
    out: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in keep:
            out[k] = int(v.split()[0])
    return out


COUNTERS = Path("/sys/kernel/debug/dtrace/consumers")


def parse_counters(text: str) -> dict[str, Any]:
    """The module's consumers file: each consumer's bytes by kind, the totals
    and the count of live allocations (kmod/state.c dtrace_states_show)."""
    out: dict[str, Any] = {"consumers": []}
    for line in text.splitlines():
        word = line.split(" ", 1)[0]
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        nums = {k: int(v) for k, v in fields.items() if v.lstrip("-").isdigit()}
        if word == "consumer":
            out["consumers"].append(nums | {"comm": fields.get("comm", "")})
        elif word == "total":
            out["total_consumers"] = nums.get("consumers", 0)
            out["total_bytes"] = nums.get("bytes", 0)
        elif "allocations" in nums:
            out["allocations"] = nums["allocations"]
    return out


def counters() -> dict[str, Any] | None:
    """The module's own memory counters, or None without debugfs/the module."""
    try:
        return parse_counters(COUNTERS.read_text())
    except OSError:
        return None


def traced(
    tool: str, cfg: dict[str, Any], exe: str, n: int, m: int, tmp: Path, sample_mem: bool = False
) -> dict[str, Any]:
    """Start the workload, then the tracer on it; go; stop the tracer; check counts."""
    wl = Workload(exe, n, m)
    program = cfg[tool].format(pid=wl.pid) if "{pid}" in cfg[tool] else cfg[tool]
    argv = tracer_argv(tool, program)
    out, err = tmp / f"{tool}.out", tmp / f"{tool}.err"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(out, "wb") as fo, open(err, "wb") as fe:
        t_start = time.monotonic()
        tr = subprocess.Popen(argv, stdout=fo, stderr=fe, env=env)
    rec: dict[str, Any] = {"argv": argv}
    try:
        rec["ready_s"] = wait_ready(tr, out, READY_TIMEOUT)
        if sample_mem:
            rec["meminfo"] = meminfo()
            if tool == "pydtrace":
                rec["counters"] = counters()
        rec["workload"] = wl.go()
        if sample_mem and tool == "pydtrace":  # nothing grows with events
            rec["counters_after_workload"] = counters()
        if cfg["check"][0] == "lines":  # let the tracer drain before stopping it
            rec["drain_lines"], rec["drain_s"] = wait_drained(out, cfg["check"][2])
        t_stop = time.monotonic()
        rec["rc"] = stop(tr, cfg["name"], tool)
        rec["stop_s"] = time.monotonic() - t_stop
        rec["total_s"] = time.monotonic() - t_start
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        rec["error"] = str(e)
        problem(f"{cfg['name']} {tool}: {e}; stderr: {err.read_text(errors='replace')[-400:]}")
        wl.kill()
        if tr.poll() is None:
            tr.kill()
            tr.wait()
        return rec
    text = out.read_text(errors="replace")
    etext = err.read_text(errors="replace")
    rec["stderr_tail"] = etext[-600:]
    # pydtrace reports drops on stderr, bpftrace "Lost N events" on stdout
    rec["drops"] = [
        ln for ln in (etext + "\n" + text).splitlines() if re.search(r"drops? on|[Ll]ost \d", ln)
    ]
    kind = cfg["check"][0]
    if kind == "agg":
        _, key, lo, hi = cfg["check"]
        aggs = parse_aggs(tool, text)
        got = aggs.get(key, 0)
        rec["aggs"] = aggs
    else:
        _, lo, hi = cfg["check"]
        got = sum(1 for ln in text.splitlines() if PRINTF_LINE.match(ln.strip()))
    rec["count"] = got
    rec["count_ok"] = lo <= got <= hi
    if not rec["count_ok"]:
        problem(
            f"{cfg['name']} {tool}: {got} events counted, expected "
            f"{lo if lo == hi else f'{lo}..{hi}'} (pid {wl.pid}); drops: {rec['drops'][:3]}"
        )
    if rec["rc"] not in (0, -signal.SIGINT):
        problem(f"{cfg['name']} {tool}: exit status {rec['rc']}: {etext[-300:]}")
    return rec


# --- the phases ---------------------------------------------------------------


def timed(argv: list[str]) -> float:
    t = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    dt = time.monotonic() - t
    if r.returncode != 0:
        problem(f"{argv[0]} startup run exited {r.returncode}: {r.stderr.decode()[-300:]}")
    return dt


def phase_startup(reps: int) -> dict[str, list[float]]:
    cmds = {
        "pydtrace": ["pydtrace", "-n", "BEGIN { exit(0); }"],
        "bpftrace": ["bpftrace", "-e", "BEGIN { exit(); }"],
    }
    for argv in cmds.values():  # warm the 9p page cache; not counted
        timed(argv)
    res: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(reps):
        for tool, argv in cmds.items():
            res[tool].append(timed(argv))
        log(f"startup {i + 1}/{reps}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in res.items()))
    return res


def phase_configs(
    exe: str, n: int, m: int, reps: int, tmp: Path, only: str = ""
) -> list[dict[str, Any]]:
    out = []
    for cfg in configs(n, m):
        if only and cfg["name"] not in only.split(","):
            continue
        res: dict[str, Any] = {k: cfg[k] for k in ("name", "title", "check", "target")}
        res["programs"] = {t: cfg[t] for t in ("pydtrace", "bpftrace")}
        for tool in ("pydtrace", "bpftrace"):
            runs = []
            for i in range(reps):
                u = untraced(exe, n, m)
                t = traced(tool, cfg, exe, n, m, tmp, sample_mem=(i == 0))
                runs.append({"untraced": u, **t})
                tw = t.get("workload", {}).get("getppid", {}).get("median")
                log(
                    f"{cfg['name']} {tool} {i + 1}/{reps}: getppid median "
                    f"{u['getppid']['median']} -> {tw} ns, count {t.get('count')}"
                )
            res[tool] = runs
        out.append(res)
    return out


# --- the printf drain phase: saturated drain rate and the no-drop rate -------

# One tracer serves every trial of a search: the predicate is on the
# workload's name, and each trial's lines are told apart by its pid.
DRAIN_PROGRAMS = {
    "pydtrace": (
        'syscall::getppid:entry /execname == "workload"/ '
        '{ printf("%d %d %d\\n", pid, tid, timestamp); }'
    ),
    "bpftrace": (
        'tracepoint:syscalls:sys_enter_getppid /comm == "workload"/ '
        '{ printf("%d %d %d\\n", pid, tid, nsecs); }'
    ),
}
DROP_LINE = re.compile(r"drops? on CPU|[Ll]ost \d+ events")


class OutWatch:
    """Follows a tracer's stdout and stderr files: printf lines per pid (the
    first field), drop reports, and when the last printf line arrived."""

    def __init__(self, out: Path, err: Path) -> None:
        self.files = [out, err]
        self.offsets = [0, 0]
        self.partial = [b"", b""]
        self.lines: dict[int, int] = {}
        self.drops: list[str] = []
        self.last_line_t = 0.0

    def poll(self) -> None:
        for i, path in enumerate(self.files):
            with open(path, "rb") as f:
                f.seek(self.offsets[i])
                data = f.read()
            if not data:
                continue
            self.offsets[i] += len(data)
            chunks = (self.partial[i] + data).split(b"\n")
            self.partial[i] = chunks.pop()
            seen = False
            for ln in chunks:
                text = ln.decode(errors="replace").strip()
                if PRINTF_LINE.match(text):
                    pid = int(text.split()[0])
                    self.lines[pid] = self.lines.get(pid, 0) + 1
                    seen = True
                elif DROP_LINE.search(text):
                    self.drops.append(text)
            if seen:
                self.last_line_t = time.monotonic()


def drain_trial(
    watch: OutWatch, exe: str, n: int, rate: float, quiet: float, settle: float
) -> dict[str, Any]:
    """One workload run of n getppid() calls at rate (0: unpaced) under the
    running tracer: lines out, drops reported, rates achieved and drained."""
    wl = Workload(exe, n, 1, rate)
    drops_before = len(watch.drops)
    t_go = time.monotonic()
    try:
        stats = wl.go()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        wl.kill()
        return {"rate": rate, "error": str(e)}
    t_end = time.monotonic()
    last_n, last_t = -1, t_end
    while True:  # until all lines are out, or none came for `quiet` s
        watch.poll()
        got = watch.lines.get(wl.pid, 0)
        if got != last_n:
            last_n, last_t = got, time.monotonic()
        if got >= n or time.monotonic() - last_t >= quiet:
            break
        time.sleep(0.2)
    time.sleep(settle)  # a drop report comes after the pass that saw the drops
    watch.poll()
    got = watch.lines.get(wl.pid, 0)
    wall = stats["getppid"]["wall"] / 1e9
    span = max(watch.last_line_t - t_go, 1e-9)
    drops = watch.drops[drops_before:]
    return {
        "rate": rate,
        "n": n,
        "achieved": n / wall if wall > 0 else 0.0,
        "lines": got,
        "drops": drops,
        "ok": got == n and not drops,
        "drained_per_s": got / span,
        "drain_tail_s": round(max(watch.last_line_t - t_end, 0.0), 2),
    }


def no_drop_search(
    watch: OutWatch,
    exe: str,
    n: int,
    start: float,
    floor: float,
    trials: int,
    quiet: float,
    settle: float,
    log_prefix: str,
) -> dict[str, Any]:
    """The highest paced rate with all n lines out and no drop reported:
    double (or halve) from start until the outcome flips, then bisect
    geometrically while the bracket is wider than 25%, in at most `trials`
    runs.  Rates below floor are not tried (a trial would be too long)."""
    runs: list[dict[str, Any]] = []
    ok_rate: float | None = None  # highest requested rate that was clean
    bad_rate: float | None = None  # lowest requested rate that was not
    best: float | None = None  # highest achieved rate of a clean run
    limited = False  # the workload could not reach a rate asked for, without drops
    rate = max(start, floor)
    for _ in range(trials):
        r = drain_trial(watch, exe, n, rate, quiet, settle)
        runs.append(r)
        log(
            f"{log_prefix} rate {rate:.0f}/s: achieved {r.get('achieved', 0):.0f}/s, "
            f"{r.get('lines')}/{n} lines, {len(r.get('drops', []))} drop reports"
        )
        if "error" in r:
            problem(f"{log_prefix}: workload at {rate:.0f}/s: {r['error']}")
            break
        if r["ok"]:
            ok_rate = rate if ok_rate is None else max(ok_rate, rate)
            best = r["achieved"] if best is None else max(best, r["achieved"])
            if r["achieved"] < 0.8 * rate:
                limited = True  # the workload cannot go faster under this tracer
                break
        else:
            bad_rate = rate if bad_rate is None else min(bad_rate, rate)
        if bad_rate is None:
            rate *= 2
        elif ok_rate is None:
            if rate / 2 < floor:
                break
            rate /= 2
        elif bad_rate / ok_rate <= 1.25:
            break
        else:
            rate = (ok_rate * bad_rate) ** 0.5
    return {
        "no_drop_rate": best,
        "lowest_dropping_rate": bad_rate,
        "limited_by_workload": limited,
        "floor": floor,
        "runs": runs,
    }


def phase_drain(exe: str, n: int, trials: int, tmp: Path, quiet: float = 10.0) -> dict[str, Any]:
    """Per tracer: the saturated drain rate (an unpaced workload; lines out
    per second from its start to the last line), then the no-drop search
    starting from that rate, all under one tracer process."""
    res: dict[str, Any] = {"n": n, "programs": DRAIN_PROGRAMS}
    floor = n / 60.0  # no trial longer than a minute
    for tool, program in DRAIN_PROGRAMS.items():
        argv = tracer_argv(tool, program)
        out, err = tmp / f"drain-{tool}.out", tmp / f"drain-{tool}.err"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(out, "wb") as fo, open(err, "wb") as fe:
            tr = subprocess.Popen(argv, stdout=fo, stderr=fe, env=env)
        rec: dict[str, Any] = {"argv": argv}
        try:
            rec["ready_s"] = wait_ready(tr, out, READY_TIMEOUT)
            watch = OutWatch(out, err)
            settle = 2.0  # > the 1 s switchrate of both
            sat = drain_trial(watch, exe, n, 0, quiet, settle)
            rec["saturated"] = sat
            log(
                f"drain {tool} saturated: workload {sat.get('achieved', 0):.0f}/s, "
                f"{sat.get('lines')}/{n} lines, drained {sat.get('drained_per_s', 0):.0f} lines/s, "
                f"{len(sat.get('drops', []))} drop reports"
            )
            start = min(sat.get("drained_per_s", floor), sat.get("achieved", floor))
            rec["search"] = no_drop_search(
                watch, exe, n, start, floor, trials, quiet, settle, f"drain {tool}"
            )
            log(f"drain {tool}: no-drop rate {rec['search']['no_drop_rate']}")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            rec["error"] = str(e)
            problem(f"drain {tool}: {e}; stderr: {err.read_text(errors='replace')[-400:]}")
        finally:
            if tr.poll() is None:
                rec["rc"] = stop(tr, "drain", tool)
        res[tool] = rec
    return res


def module_loaded() -> bool:
    return any(ln.split()[0] == "dtrace" for ln in Path("/proc/modules").read_text().splitlines())


def run_ok(argv: list[str]) -> None:
    r = subprocess.run(argv, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.decode()[-300:]}")


def phase_idle(exe: str, n: int, m: int, reps: int, ko: str) -> dict[str, Any]:
    """Per alternation: no module (twice: the noise floor), loaded, after a consumer."""
    runs = []
    mem: dict[str, dict[str, int]] = {}
    consumer = ["pydtrace", "-q", "-n", "syscall:::entry { @c = count(); } BEGIN { exit(0); }"]
    for i in range(reps):
        run_ok(["rmmod", "dtrace"])
        if i == 0:
            mem["no_module"] = meminfo()
            cnt: dict[str, Any] = {}
        a = untraced(exe, n, m)
        b = untraced(exe, n, m)
        run_ok(["insmod", ko])
        if i == 0:
            mem["loaded"] = meminfo()
            cnt["loaded"] = counters()
        loaded = untraced(exe, n, m)
        run_ok(consumer)
        if i == 0:
            mem["after_exit"] = meminfo()
            cnt["after_exit"] = counters()
        after = untraced(exe, n, m)
        runs.append({"no_module_a": a, "no_module_b": b, "loaded": loaded, "after_exit": after})
        log(
            f"idle {i + 1}/{reps}: getppid median no-module {a['getppid']['median']}/"
            f"{b['getppid']['median']}, loaded {loaded['getppid']['median']}, "
            f"after-exit {after['getppid']['median']} ns"
        )
    return {"runs": runs, "meminfo": mem, "counters": cnt}


def module_size() -> int | None:
    for ln in Path("/proc/modules").read_text().splitlines():
        f = ln.split()
        if f[0] == "dtrace":
            return int(f[1])
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", required=True, help="the workload binary")
    ap.add_argument("-n", type=int, default=300000, help="getppid() calls per run")
    ap.add_argument("-m", type=int, default=200000, help="1-byte reads per run")
    ap.add_argument("--reps", type=int, default=5, help="alternations (>= 5 for the report)")
    ap.add_argument("--only", default="", help="comma-separated phases: startup,configs,drain,idle")
    ap.add_argument("--configs", default="", help="comma-separated configurations (default all)")
    ap.add_argument("--drain-n", type=int, default=300000, help="getppid() calls per drain trial")
    ap.add_argument("--drain-trials", type=int, default=6, help="runs of the no-drop search")
    ap.add_argument("--out", default=str(SHARE / "bench.json"))
    args = ap.parse_args()
    ko = os.environ.get("PYDTRACE_KO", "")
    phases = set(args.only.split(",")) if args.only else {"startup", "configs", "drain", "idle"}
    if not module_loaded():
        problem("the dtrace module is not loaded at the start")
    tmp = Path("/tmp/bench")
    tmp.mkdir(parents=True, exist_ok=True)
    bpf_ver = subprocess.run(["bpftrace", "--version"], capture_output=True, text=True)
    res: dict[str, Any] = {
        "meta": {
            "kernel": platform.release(),
            "n": args.n,
            "m": args.m,
            "reps": args.reps,
            "cpus": os.cpu_count(),
            "bpftrace": bpf_ver.stdout.strip(),
            "python": platform.python_version(),
            "module_size": module_size(),
        },
    }
    try:
        if "startup" in phases:
            log("phase startup")
            res["startup"] = phase_startup(args.reps)
        if "configs" in phases:
            log("phase configs")
            res["configs"] = phase_configs(
                args.workload, args.n, args.m, args.reps, tmp, args.configs
            )
        if "drain" in phases:
            log("phase drain")
            res["drain"] = phase_drain(args.workload, args.drain_n, args.drain_trials, tmp)
            res["meta"]["drain_n"] = args.drain_n
        if "idle" in phases:
            log("phase idle")
            if not ko:
                problem("PYDTRACE_KO is not set: idle phase skipped")
            else:
                res["idle"] = phase_idle(args.workload, args.n, args.m, args.reps, ko)
    except Exception as e:  # report what we have, loudly
        problem(f"benchmark aborted: {type(e).__name__}: {e}")
    finally:
        if ko and not module_loaded():
            subprocess.run(["insmod", ko], check=False)
            if not module_loaded():
                problem("could not reload the module at the end")
    res["meta"]["guest_seconds"] = round(time.monotonic() - T0, 1)
    res["problems"] = PROBLEMS
    text = json.dumps(res)
    if Path(args.out).parent.is_dir():
        Path(args.out).write_text(text)
        log(f"raw results in {args.out} ({len(text)} bytes)")
    else:
        print("BENCH-JSON " + text, flush=True)
    log(f"done, {len(PROBLEMS)} problem(s)")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
