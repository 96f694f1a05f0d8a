"""Nothing left behind by the tracepoint providers (test VM, module loaded):
while a consumer has sdt, proc and sched probes enabled the module holds
tracepoint callbacks (and kprobes for sched:::on-cpu and proc:::exec); once
it exits none remain."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tputil import trace_child

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

STATUS = Path("/sys/kernel/debug/dtrace_sdt")
KPROBES = Path("/sys/kernel/debug/kprobes/list")
HOOKED = ("finish_task_switch", "bprm_execve", "enqueue_task_", "dequeue_task_")


def status() -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in STATUS.read_text().splitlines())}


def hook_kprobes() -> list[str]:
    return [line for line in KPROBES.read_text().splitlines() if any(f in line for f in HOOKED)]


def test_no_tracepoint_callbacks_or_kprobes_remain():
    assert status()["sdt_registered"] == 0 and status()["hooks_registered"] == 0
    assert hook_kprobes() == []
    out, during = trace_child(
        "sdt:sched::sched_switch, sdt:sched::sched_wakeup, sdt:irq:: { @[probename] = count(); } "
        "proc:::, sched:::, io::: { @[probename] = count(); }",
        "import subprocess, sys; sys.stdin.readline(); subprocess.run(['/bin/true'])",
        during=lambda: (status(), hook_kprobes()),
    )
    st, kps = during  # type: ignore[misc]
    assert st["sdt_registered"] >= 3, st  # sched_switch, sched_wakeup, the irq events
    # every tracepoint of proc, sched and io: fork, exec, exit, signal_generate,
    # signal_deliver, sched_switch, sched_wakeup, block_rq_issue, block_rq_complete
    assert st["hooks_registered"] == 9 + 10, st
    # finish_task_switch (on-cpu; start), bprm_execve (entry; return),
    # enqueue_task_ and dequeue_task_ of fair, rt, dl
    assert len(kps) == 10, kps
    assert status()["sdt_registered"] == 0, status()
    assert status()["hooks_registered"] == 0, status()
    assert hook_kprobes() == []


def test_listing_registers_nothing():
    import subprocess

    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-l"], capture_output=True, text=True, check=False
    )
    assert p.returncode == 0, p.stderr
    assert status()["probes"] > 0  # the sdt probes exist now
    assert status()["sdt_registered"] == 0 and status()["hooks_registered"] == 0
    assert hook_kprobes() == []


def test_a_modules_tracepoint_holds_the_module_while_enabled():
    # 9p's tracepoints are in 9pnet, which serves the guest's root file system
    refcnt = Path("/sys/module/9pnet/refcnt")
    before = int(refcnt.read_text())
    out, during = trace_child(
        'sdt:9p::9p_client_req { @n = count(); } END { printa("req %@d\\n", @n); }',
        "import os, sys; sys.stdin.readline(); os.listdir('/usr/lib')",
        during=lambda: int(refcnt.read_text()),
    )
    assert during == before + 1, (before, during)
    assert int(refcnt.read_text()) == before
    assert int(out.split("req ")[1].split()[0]) > 0, out
    assert status()["sdt_registered"] == 0
