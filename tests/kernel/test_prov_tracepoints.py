"""The tracepoint providers against the real module (test VM): sdt lists
every tracepoint of tracefs's available_events and fires with typed args[];
proc, sched and io fire in the contexts DTrace documents for a workload the
test drives; fbt's args[] are typed from BTF."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace
from tputil import TIMEOUT, aggs, trace_child

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

EVENTS = Path("/sys/kernel/tracing/available_events")


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def listing(*args: str) -> list[list[str]]:
    p = pydtrace("-l", *args)
    assert p.returncode == 0, p.stderr
    return [line.split() for line in p.stdout.splitlines()[1:]]


def test_sdt_lists_every_tracepoint_of_available_events():
    # the "syscalls" events are ftrace's views of sys_enter/sys_exit, not tracepoints
    events = {line for line in EVENTS.read_text().splitlines() if not line.startswith("syscalls:")}
    rows = listing("-P", "sdt")
    assert all(len(r) == 4 and r[1] == "sdt" for r in rows), rows[:5]
    assert len(rows) == len(events)
    assert {f"{r[2]}:{r[3]}" for r in rows} == events
    # the whole listing has them too
    assert sum(1 for r in listing() if r[1] == "sdt") == len(events)


def test_static_providers_are_listed_with_dtrace_names():
    names = {(r[1], r[-1]) for r in listing("-P", "proc", "-P", "sched", "-P", "io")}
    for want in [
        ("proc", "exec-success"),
        ("proc", "exit"),
        ("proc", "create"),
        ("proc", "signal-send"),
        ("proc", "start"),
        ("proc", "lwp-start"),
        ("sched", "on-cpu"),
        ("sched", "off-cpu"),
        ("sched", "wakeup"),
        ("sched", "enqueue"),
        ("sched", "dequeue"),
        ("io", "start"),
        ("io", "done"),
    ]:
        assert want in names


def test_lv_prints_argument_types():
    p = pydtrace("-lv", "-n", "fbt::vfs_read:entry")
    assert p.returncode == 0, p.stderr
    assert "\t\targs[0]: struct file *\n" in p.stdout
    assert "\t\targs[2]: size_t\n" in p.stdout
    p = pydtrace("-lv", "-n", "sdt:sched::sched_switch")
    assert "\t\targs[1]: struct task_struct *\n" in p.stdout
    p = pydtrace("-lv", "-n", "sched:::off-cpu")
    assert "\t\targs[0]: lwpsinfo_t *\n\t\targs[1]: psinfo_t *\n" in p.stdout


def test_proc_exec_success_traces_execname():
    child = "import subprocess, sys; sys.stdin.readline(); subprocess.run(['/bin/true'])"
    out, _ = trace_child('proc:::exec-success { trace(execname); printf("\\n"); }', child)
    assert "true" in out.split(), out


def test_proc_create_exit_and_exec_path():
    child = (
        "import subprocess, sys; sys.stdin.readline(); "
        "subprocess.run(['/bin/sh', '-c', 'exit 3']); subprocess.run(['/bin/true'])"
    )
    out, _ = trace_child(
        'proc:::create /pid == CHILD/ { printf("create %d\\n", '
        "((struct task_struct *)arg0)->tgid != pid); } "
        # args[0] translated to the child's psinfo_t (the D library)
        'proc:::create /pid == CHILD/ { printf("ppid %d\\n", args[0]->pr_ppid == pid); } '
        'proc:::exec /ppid == CHILD/ { printf("exec %s\\n", stringof(args[0])); } '
        'proc:::exit /ppid == CHILD/ { printf("exit %s %d\\n", execname, arg0); }',
        child,
    )
    lines = out.splitlines()
    assert lines.count("create 1") == 2, out  # two children, not the parent
    assert lines.count("ppid 1") == 2, out
    assert "exec /bin/sh" in lines and "exec /bin/true" in lines, out
    assert "exit sh 1" in lines and "exit true 1" in lines, out  # 1: exited


def test_sched_on_cpu_runs_in_the_thread_switched_to():
    child = "import sys, time\nsys.stdin.readline()\nfor _ in range(30):\n    time.sleep(0.01)\n"
    out, _ = trace_child(
        "sched:::on-cpu /pid == CHILD/ { @on = count(); } "
        "sched:::off-cpu /pid == CHILD/ { @off = count(); } "
        # off-cpu fires in the thread leaving: arg0 is the one switched to
        "sched:::off-cpu /pid == CHILD && ((struct task_struct *)arg0)->pid == tid/ "
        "{ @bad = count(); } "
        'END { printa("on %@d\\n", @on); printa("off %@d\\n", @off); '
        'printa("bad %@d\\n", @bad); }',
        child,
    )
    got = aggs(out)
    assert got.get("on", 0) >= 30 and got.get("off", 0) >= 30, out
    assert got.get("bad", 0) == 0, out


def test_sdt_sched_switch_fires_with_typed_args():
    out, _ = trace_child(
        'sdt:sched::sched_switch { @[args[1]->pid == tid ? "prev" : "other"] = count(); }',
        "import sys, time; sys.stdin.readline(); time.sleep(0.2)",
    )
    got = aggs(out)
    assert got.get("prev", 0) > 0, out  # it fires in the thread leaving: args[1]
    assert "other" not in got, out


@pytest.mark.skipif(not os.environ.get("PYDTRACE_DISK"), reason="no test disk (run.py --disk)")
def test_io_start_while_writing_to_the_disk():
    disk = os.environ["PYDTRACE_DISK"]
    child = (
        "import os, sys\nsys.stdin.readline()\n"
        f"fd = os.open({disk!r}, os.O_WRONLY)\n"
        "os.write(fd, b'x' * 65536)\nos.fsync(fd)\nos.close(fd)\n"
    )
    out, _ = trace_child(
        "io:::start { @n = count(); @b = sum(((struct request *)arg0)->__data_len); } "
        # args[0] translated to a bufinfo_t (the D library)
        "io:::start /args[0]->b_flags & B_WRITE/ { @w = sum(args[0]->b_bcount); } "
        "io:::done { @d = count(); } "
        'END { printa("start %@d\\n", @n); printa("bytes %@d\\n", @b); '
        'printa("written %@d\\n", @w); '
        'printa("done %@d\\n", @d); }',
        child,
    )
    got = aggs(out)
    assert got.get("start", 0) >= 1 and got.get("done", 0) >= 1, out
    assert got.get("bytes", 0) >= 65536, out
    assert got.get("written", 0) >= 65536, out  # the same bytes, as B_WRITE bufinfo_t


def test_fbt_args_are_typed_from_btf():
    child = (
        "import os, sys\nsys.stdin.readline()\n"
        "fd = os.open('/etc/hostname', os.O_RDONLY)\nos.read(fd, 1234)\nos.close(fd)\n"
    )
    out, _ = trace_child(
        # size_t: unsigned, so -1 is a large value; args[0] a struct file *
        "fbt::vfs_read:entry /pid == CHILD && args[2] == 1234/ "
        '{ printf("%d %d\\n", args[2], args[2] - 1235 > 0); '
        'printf("%d\\n", args[0]->f_inode != NULL); }',
        child,
    )
    assert "1234 1\n1\n" in out, out


def share_msize() -> tuple[str, int] | None:
    """The test VM's read-write 9p share (uncached: every access is a 9p
    request) and its msize, from /proc/mounts."""
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype, opts = line.split()[:4]
            if fstype == "9p" and dev == "vmshare":
                for opt in opts.split(","):
                    if opt.startswith("msize="):
                        return mnt, int(opt[len("msize=") :])
    return None


def test_module_function_and_tracepoint_args_typed_from_module_btf():
    # 9pnet's own types (struct p9_client, struct p9_fid) are in its split
    # BTF, /sys/kernel/btf/9pnet, not in vmlinux's
    share = share_msize()
    if share is None or not os.path.exists("/sys/kernel/btf/9pnet"):
        pytest.skip("needs the test VM's 9p share and 9pnet's BTF")
    mnt, msize = share
    lv = pydtrace("-lv", "-n", "fbt:9pnet:p9_client_read:entry")
    assert lv.returncode == 0, lv.stderr
    assert "args[0]: struct p9_fid *" in lv.stdout, lv.stdout
    child = (
        "import os, sys\nsys.stdin.readline()\npath = sys.argv[1]\n"
        "with open(path, 'w') as f:\n    f.write('x' * 100)\n"
        "with open(path) as f:\n    f.read()\nos.unlink(path)\n"
    )
    out, _ = trace_child(
        "sdt:9p::9p_client_req /pid == CHILD/ { @req = count(); @msize = max(args[0]->msize); } "
        "fbt:9pnet:p9_client_read:entry /pid == CHILD/ "
        "{ @reads = count(); @clnt = min(args[0]->clnt->msize); } "
        'END { printa("req %@d\\n", @req); printa("msize %@d\\n", @msize); '
        'printa("reads %@d\\n", @reads); printa("clnt %@d\\n", @clnt); }',
        child,
        os.path.join(mnt, f"btf-{os.getpid()}"),
    )
    got = aggs(out)
    assert got.get("req", 0) >= 3, out  # create, write, open, read, remove...
    assert got.get("msize") == msize, out
    assert got.get("reads", 0) >= 1 and got.get("clnt") == msize, out


def test_proc_start_and_lwp_start_fire_in_the_new_task():
    child = (
        "import subprocess, sys, threading\nsys.stdin.readline()\n"
        "t = threading.Thread(target=lambda: None)\nt.start()\nt.join()\n"
        "subprocess.run(['/bin/true'])\n"
    )
    out, _ = trace_child(
        # in the new task: a new process's parent is the child, a new thread's
        # process is the child and its thread id is not
        'proc:::start /ppid == CHILD/ { printf("start %d\\n", tid == pid); } '
        'proc:::lwp-start /pid == CHILD/ { printf("lwp-start %d\\n", tid != pid); }',
        child,
    )
    lines = out.splitlines()
    assert lines.count("start 1") == 1, out
    assert lines.count("lwp-start 1") == 1, out


def test_sched_enqueue_and_dequeue_of_a_sleeping_thread():
    child = "import sys, time\nsys.stdin.readline()\nfor _ in range(20):\n    time.sleep(0.01)\n"
    ncpu = os.cpu_count() or 1
    out, _ = trace_child(
        "sched:::enqueue /((struct task_struct *)arg0)->pid == CHILD/ { @enq = count(); } "
        "sched:::dequeue /((struct task_struct *)arg0)->pid == CHILD/ { @deq = count(); } "
        f"sched:::enqueue, sched:::dequeue /arg2 >= {ncpu}/ {{ @badcpu = count(); }} "
        'END { printa("enq %@d\\n", @enq); printa("deq %@d\\n", @deq); '
        'printa("badcpu %@d\\n", @badcpu); }',
        child,
    )
    got = aggs(out)
    assert got.get("enq", 0) >= 20 and got.get("deq", 0) >= 20, out
    assert got.get("badcpu", 0) == 0, out
