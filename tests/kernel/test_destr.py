"""The destructive actions against the real module (test VM, module loaded):
system() interleaved with our output, raise() and stop() on another
process, chill(), freopen(), and the -w gate in the command and the module."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kutil import pydtrace as run_pydtrace
from progbuild import Act, Builder, Consumer, Difo, const_difo, push, ret, setx, wide

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

TIMEOUT = 120
BEGIN = ("dtrace", "", "", "BEGIN")
# -q suppresses the notices, "allowing destructive actions" too (as dtrace)
QUIET = ""

# A process that calls getppid() every 10 ms until SIGUSR1 arrives (then
# says so and exits), or for at most 100 s.
GETPPID_LOOP = """
import os, signal, sys, time
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
print("ready", flush=True)
for _ in range(10000):
    os.getppid()
    if got:
        break
    time.sleep(0.01)
print("got", got, flush=True)
"""


def pydtrace(*args: str) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT)


def spawn_loop() -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", GETPPID_LOOP], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_system_output_interleaves_in_order() -> None:
    p = pydtrace(
        "-wqn",
        'BEGIN { trace("before"); system("echo hi %d", 42); printf("after\\n"); exit(0); }',
    )
    assert (p.stderr, p.returncode) == (QUIET, 0), p.stderr
    assert re.fullmatch(r"before *hi 42\nafter\n\n", p.stdout), p.stdout


def test_system_twice_from_a_tick_probe() -> None:
    p = pydtrace(
        "-wqn",
        'int i; tick-10ms /i++ < 2/ { printf("%d:", i); system("echo run %d", i); }'
        " tick-10ms /i == 3/ { exit(0); }",
    )
    assert (p.stdout, p.returncode) == ("1:run 1\n2:run 2\n\n", 0), (p.stdout, p.stderr)


@pytest.mark.parametrize(
    "action",
    ['system("echo no")', "raise(0)", "chill(1)", 'freopen("/dev/null")', "stop()"],
)
def test_destructive_actions_are_refused_without_w(action: str) -> None:
    # stop() in BEGIN would stop pydtrace itself: fired from another probe
    prog = f"tick-1s {{ {action}; }} BEGIN {{ exit(0); }}"
    p = pydtrace("-n", prog)
    assert p.returncode == 1
    assert p.stderr == (
        "pydtrace: description 'tick-1s ' matched 2 probes\n"
        "pydtrace: could not enable tracing: Destructive actions not allowed\n"
    )
    assert "no" not in p.stdout


def test_pragma_destructive_allows_them() -> None:
    p = pydtrace(
        "-qn", '#pragma D option destructive\nBEGIN { system("echo ok"); exit(0); }'
    )
    assert (p.stdout, p.returncode) == ("ok\n\n", 0), p.stderr


def test_raise_delivers_the_signal_to_the_thread() -> None:
    child = spawn_loop()
    try:
        p = pydtrace(
            "-wqn",
            f"syscall::getppid:entry /pid == {child.pid}/ {{ raise(SIGUSR1); exit(0); }}",
        )
        out, _ = child.communicate(timeout=TIMEOUT)
    finally:
        child.kill()
    assert (p.returncode, p.stderr) == (0, QUIET)
    assert out == f"got [{int(signal.SIGUSR1)}]\n"


def test_stop_stops_the_process_until_sigcont() -> None:
    child = spawn_loop()
    try:
        p = pydtrace(
            "-wqn", f"syscall::getppid:entry /pid == {child.pid}/ {{ stop(); exit(0); }}"
        )
        assert (p.returncode, p.stderr) == (0, QUIET)
        deadline = time.monotonic() + 30
        while proc_state(child.pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc_state(child.pid) == "T"
        time.sleep(0.3)
        assert proc_state(child.pid) == "T"  # stays stopped
        os.kill(child.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while proc_state(child.pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc_state(child.pid) != "T"
        os.kill(child.pid, signal.SIGUSR1)  # and it runs on to the end
        out, _ = child.communicate(timeout=TIMEOUT)
        assert out.startswith("got")
    finally:
        child.kill()
        child.wait()


def test_raise_of_a_bad_signal_is_an_illegal_operation() -> None:
    p = pydtrace("-wqn", "BEGIN { raise(1000); } BEGIN { exit(0); }")
    assert p.returncode == 0
    assert p.stderr == QUIET + (
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        "illegal operation in action #1\n"
    )


def test_chill_takes_the_time_asked_and_timestamp_moves_on() -> None:
    p = pydtrace(
        "-wqn",
        'BEGIN { t = timestamp; chill(200000000); printf("%d\\n", timestamp - t); exit(0); }',
    )
    assert p.returncode == 0, p.stderr
    assert int(p.stdout.split()[0]) >= 200_000_000


def test_chill_beyond_its_budget_is_an_illegal_operation() -> None:
    t0 = time.monotonic()
    p = pydtrace(
        "-wqn",
        'BEGIN { chill(600000000); printf("not reached\\n"); } BEGIN { exit(0); }',
    )
    assert p.returncode == 0
    assert "not reached" not in p.stdout
    assert p.stderr == QUIET + (
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        "illegal operation in action #1\n"
    )
    assert time.monotonic() - t0 < TIMEOUT


def test_freopen_redirects_then_restores(tmp_path: Path) -> None:
    f = tmp_path / "out.%d"
    p = pydtrace(
        "-wqn",
        f'BEGIN {{ printf("one\\n"); freopen("{f}", 7); printf("two\\n"); system("echo cmd");'
        ' freopen(""); printf("three\\n"); exit(0); }',
    )
    assert (p.stdout, p.stderr, p.returncode) == ("one\nthree\n\n", QUIET, 0)
    # the shell command's output follows ours, as dtrace's dup2() makes it
    assert (tmp_path / "out.7").read_text() == "two\ncmd\n"


# -- the module's gate (progbuild) ------------------------------------------------------


def _raise0(b: Builder) -> Act:
    return Act(lib.DTRACEACT_RAISE, b.difo(const_difo(0, size=4)))


def test_module_refuses_go_without_the_destructive_option() -> None:
    b = Builder()
    b.clause(BEGIN, [_raise0(b)])
    with Consumer() as c:
        assert c.enable(b) == 1
        with pytest.raises(OSError) as e:
            c.go()
        assert e.value.errno == errno.EACCES
        with pytest.raises(OSError) as e:  # still INACTIVE: refused again, not EBUSY
            c.go()
        assert e.value.errno == errno.EACCES


def test_module_runs_them_with_the_option() -> None:
    b = Builder()
    b.clause(BEGIN, [_raise0(b)])
    b.opts.append((lib.DTRACEOPT_DESTRUCTIVE, 0))
    with Consumer() as c:
        c.enable(b)
        c.go()
        assert c.status().dtst_errors == 0


@pytest.mark.parametrize("kind", ["BREAKPOINT", "PANIC"])
def test_module_refuses_breakpoint_and_panic(kind: str) -> None:
    b = Builder()
    b.clause(BEGIN, [Act(getattr(lib, f"DTRACEACT_{kind}"))])
    b.opts.append((lib.DTRACEOPT_DESTRUCTIVE, 0))
    with Consumer() as c:
        err, de = c.enable_raw(b.build())
    assert err == errno.EINVAL and de.de_err == lib.DTRACE_EPROG_ACTION


def test_module_refuses_destructive_actions_after_speculate() -> None:
    b = Builder()
    spec = Act(lib.DTRACEACT_SPECULATE, b.difo(const_difo(1, size=4)))
    b.clause(BEGIN, [spec, _raise0(b)])
    b.opts.append((lib.DTRACEOPT_DESTRUCTIVE, 0))
    with Consumer() as c:
        err, de = c.enable_raw(b.build())
    assert err == errno.EINVAL and de.de_err == lib.DTRACE_EPROG_ACTION


# copyout()/copyoutstr(): a target whose buffers pydtrace overwrites at a
# syscall's entry; the target (and the kernel, which reads the buffer after
# the probe) sees the new bytes.
COPYOUT_TARGET = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
old = ctypes.create_string_buffer(b"/nonexistent/aaaaaaaaaaaa", 40)
new = ctypes.create_string_buffer(b"/nonexistent/bbbbbbbbbbbb", 40)
libc.syscall(82, old, new)  # rename(2)
path = ctypes.create_string_buffer(b"/nonexistent/cccccccccccc", 64)
rc = libc.syscall(80, path)  # chdir(2)
print(old.value.decode(), path.raw[:6], rc, os.getcwd(), flush=True)
"""

COPYOUT_PROG = """
syscall::rename:entry /pid == $target/ { copyout(copyin(arg1, 16), arg0, 16); }
syscall::chdir:entry /pid == $target/ { copyoutstr("/tmp", arg0, 64); }
"""


def test_copyout_and_copyoutstr_write_the_targets_memory(tmp_path: Path) -> None:
    script = tmp_path / "target.py"
    script.write_text(COPYOUT_TARGET)
    p = pydtrace("-qw", "-c", f"{sys.executable} {script}", "-n", COPYOUT_PROG)
    assert p.returncode == 0, p.stderr
    # rename's first 16 bytes came from its second argument; chdir's path was
    # replaced by "/tmp" and its NUL (the rest is left as it was), and the
    # kernel read the new path: the chdir succeeded
    assert p.stdout == "/nonexistent/bbbaaaaaaaaa b'/tmp\\x00x' 0 /tmp\n\n"
    assert p.stderr == ""


def test_copyout_without_w_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "target.py"
    script.write_text(COPYOUT_TARGET)
    p = pydtrace("-q", "-c", f"{sys.executable} {script}", "-n", COPYOUT_PROG)
    assert p.returncode == 1
    assert p.stderr == "pydtrace: could not enable tracing: Destructive actions not allowed\n"
    assert p.stdout == ""


def _copyout_pred() -> Difo:
    """A predicate calling copyout(0, 0, 0) (writes nothing) and true."""
    pv = push(False, 0, 0, 0)
    return Difo(
        [setx(0, 1), pv, pv, pv, wide(lib.DIF_OP_CALL, lib.DIF_SUBR_COPYOUT, 2), ret(1)],
        ints=[1],
        size=4,
    )


def test_module_refuses_go_for_a_copyout_difo_without_the_option() -> None:
    b = Builder()
    b.clause(BEGIN, [b.expr(const_difo(1))], pred=_copyout_pred())
    with Consumer() as c:
        assert c.enable(b) == 1
        with pytest.raises(OSError) as e:
            c.go()
        assert e.value.errno == errno.EACCES
    b.opts.append((lib.DTRACEOPT_DESTRUCTIVE, 0))
    with Consumer() as c:
        assert c.enable(b) == 1
        c.go()
        assert c.status().dtst_errors == 0
