#!/usr/bin/env python3
"""Per-event cost of `syscall::getppid:entry { trace(execname); }` under two
builds of the module, alternating in one guest boot (strsize 256 and 4096).

Runs INSIDE the test VM; the consumer drains every 3 s so it does not run
during the workload.  Build the other module in a copy of kmod/ first, e.g.

    cp -r kmod .cache/ab/kmod && git show main:kmod/probe.c > .cache/ab/kmod/probe.c
    make -C .cache/ab/kmod KDIR=/usr/src/linux-headers-$(tests/vm/run.py --print-abi)
    make .cache/bench/workload
    tests/vm/run.py -- python3 bench/ab_strtail.py .cache/ab/kmod/dtrace.ko \
        kmod/dtrace.ko .cache/bench/workload 20000 5

argv: old.ko new.ko workload N reps.  Prints one line per run and the median,
min and max of traced-minus-untraced median getppid() time per build.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bench as rb  # noqa: E402

OLD, NEW, EXE, N, REPS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
PROG = "syscall::getppid:entry { trace(execname); }"
TMP = Path("/tmp/strbench")
TMP.mkdir(exist_ok=True)


def load(ko: str) -> None:
    subprocess.run(["rmmod", "dtrace"], check=False)
    subprocess.run(["insmod", ko], check=True)


def traced(n: int, strsize: int) -> dict:
    wl = rb.Workload(EXE, n, 1)
    out, err = TMP / "out", TMP / "err"
    argv = [
        "pydtrace",
        "-q",
        "-x",
        "bufsize=16m",
        "-x",
        "switchrate=3s",
        "-x",
        f"strsize={strsize}",
        "-n",
        'BEGIN { printf("READY\\n"); } ' + PROG,
    ]
    with open(out, "wb") as fo, open(err, "wb") as fe:
        tr = subprocess.Popen(
            argv, stdout=fo, stderr=fe, env=dict(os.environ, PYTHONUNBUFFERED="1")
        )
    rb.wait_ready(tr, out, 240)
    w = wl.go()
    time.sleep(1.0)
    tr.send_signal(signal.SIGINT)
    tr.wait(timeout=120)
    text = out.read_bytes()
    return {
        "median": w["getppid"]["median"],
        "count": text.count(b"workload"),
        "stderr": err.read_text(errors="replace")[-300:],
    }


CONFIGS = [(256, N), (4096, max(N // 8, 1000))]
res: dict[str, list] = {}
for rep in range(REPS):
    for name, ko in (("old", OLD), ("new", NEW)) if rep % 2 == 0 else (("new", NEW), ("old", OLD)):
        load(ko)
        for strsize, n in CONFIGS:
            u = rb.untraced(EXE, n, 1)["getppid"]["median"]
            t = traced(n, strsize)
            row = {
                "untraced": u,
                "traced": t["median"],
                "delta": t["median"] - u,
                "count": t["count"],
                "n": n,
            }
            if t["stderr"].strip():
                row["stderr"] = t["stderr"]
            res.setdefault(f"{name}-{strsize}", []).append(row)
            print(f"rep {rep} {name} strsize={strsize}: {row}", flush=True)
load(NEW)
for key in sorted(res):
    d = [r["delta"] for r in res[key]]
    print(
        f"{key}: per-event overhead median {statistics.median(d):.0f} ns "
        f"(min {min(d):.0f}, max {max(d):.0f}); counts {[r['count'] for r in res[key]]}"
    )
print("STRBENCH-JSON " + json.dumps(res))
