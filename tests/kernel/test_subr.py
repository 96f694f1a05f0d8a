"""Subroutines whose values depend on the system, checked in the test VM
against values Python computes on its own: the copyin family on the path a
child passes to openat(2), d_path() of the file it reads (the kernel's
/proc/self/fd link of the same file, also for pipes, sockets and the other
files of filesystems that are never mounted), the lock subroutines where the caller
must hold the lock (mutex_unlock, up_read, up_write) or must not
(mutex_lock), progenyof() and rand().  The deterministic subroutines are
tests/dtest/tst.subr.d."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from kutil import pydtrace
from tputil import trace_child

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)
# what dtrace prints when it exits after the last record
END = "\n"
HAVE_BTF = os.access("/sys/kernel/btf/vmlinux", os.R_OK)

# The child opens argv[1] and reads 4321 bytes from it; with argv[2] it
# unlinks the file first.
OPENER = (
    "import os, sys\nsys.stdin.readline()\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
    "if len(sys.argv) > 2:\n    os.unlink(sys.argv[1])\n"
    "os.read(fd, 4321)\nos.close(fd)\n"
)


@pytest.fixture
def target() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pydtrace-subr-") as d:
        p = Path(d) / "subr-target.txt"
        p.write_text("hello\n")
        yield p


def kernel_path(path: Path, unlink: bool = False) -> str:
    """What the kernel names the open file: readlink of /proc/self/fd."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if unlink:
            os.unlink(path)
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def test_copyin_copyinstr_copyinto_read_the_childs_memory(target: Path) -> None:
    out, _ = trace_child(
        "syscall::openat:entry /pid == CHILD && "
        'basename(copyinstr(arg1)) == "subr-target.txt"/ {'
        ' printf("%s|%s|", copyinstr(arg1), copyinstr(arg1, 4));'
        " this->p = (char *)copyin(arg1, 6); this->p[5] = 0;"
        ' printf("%s|", stringof(this->p));'
        " this->q = (char *)alloca(8); copyinto(arg1 + 1, 3, this->q);"
        ' printf("%s\\n", stringof(this->q)); }',
        OPENER,
        str(target),
    )
    s = str(target)
    # copyinstr(a, 4): at most 4 bytes and the NUL
    assert out == f"{s}|{s[:4]}|{s[:5]}|{s[1:4]}\n" + END


def test_copyinstr_of_an_unmapped_address_faults_and_tracing_goes_on() -> None:
    p = pydtrace(
        "-qn",
        "BEGIN { trace(copyinstr(16)); } BEGIN { trace(1); exit(0); }",
        timeout=180,
    )
    assert p.stdout == "1\n"
    assert re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID 1: dtrace:::BEGIN\): "
        r"invalid address \(0x10\) in action #1 at DIF offset \d+\n",
        p.stderr,
    ), p.stderr
    assert p.returncode == 0


@pytest.mark.skipif(not HAVE_BTF, reason="needs kernel BTF (args[0] of vfs_read)")
@pytest.mark.parametrize("unlink", [False, True], ids=["open", "unlinked"])
def test_d_path_names_the_file_as_the_kernel_does(target: Path, unlink: bool) -> None:
    out, _ = trace_child(
        "fbt::vfs_read:entry /pid == CHILD && args[2] == 4321/ "
        '{ printf("%s\\n", d_path(&args[0]->f_path)); }',
        OPENER,
        str(target),
        *(["unlink"] if unlink else []),
    )
    if unlink:
        target.write_text("again\n")
    want = kernel_path(target, unlink=unlink)
    assert want.startswith("/") and want.endswith(" (deleted)") == unlink
    assert out == want + "\n" + END


# The child opens files that are in no mounted tree (their names come from
# the kernel's d_dname()) and a regular one at fds PSEUDO_FD..., writes
# what /proc/self/fd names them to argv[1] (one a line), then calls
# getppid(), where the tracer names the same open files with d_path().
PSEUDO_FD = 100
PSEUDO_KINDS = ["pipe", "socket", "eventfd", "epoll", "memfd", "netns", "file"]
PSEUDO_OPENER = f"""
import os, select, socket, sys
sys.stdin.readline()
r, w = os.pipe()
s1, s2 = socket.socketpair()
ep = select.epoll()
fds = [r, s1.fileno(), os.eventfd(0), ep.fileno(), os.memfd_create("pydtrace-memfd"),
       os.open("/proc/self/ns/net", os.O_RDONLY), os.open(sys.executable, os.O_RDONLY)]
for i, fd in enumerate(fds):
    os.dup2(fd, {PSEUDO_FD} + i)
with open(sys.argv[1], "w") as f:
    for i in range(len(fds)):
        f.write(os.readlink(f"/proc/self/fd/{{{PSEUDO_FD} + i}}") + "\\n")
os.getppid()
"""


@pytest.mark.skipif(not HAVE_BTF, reason="needs kernel BTF (curthread->files)")
def test_d_path_names_pipes_sockets_and_anon_inodes_as_proc_fd_does(tmp_path: Path) -> None:
    names = tmp_path / "names"
    fd = "curthread->files->fdt->fd"
    out, _ = trace_child(
        "syscall::getppid:entry /pid == CHILD/ { "
        + " ".join(
            f'printf("%s\\n", d_path(&{fd}[{PSEUDO_FD + i}]->f_path));'
            for i in range(len(PSEUDO_KINDS))
        )
        + " }",
        PSEUDO_OPENER,
        str(names),
    )
    want = names.read_text().splitlines()
    assert len(want) == len(PSEUDO_KINDS)
    kinds = dict(zip(PSEUDO_KINDS, want, strict=True))
    # what the kernel's d_dname()s print, so the test checks what it means to
    assert re.fullmatch(r"pipe:\[\d+\]", kinds["pipe"]), kinds
    assert re.fullmatch(r"socket:\[\d+\]", kinds["socket"]), kinds
    assert kinds["eventfd"] == "anon_inode:[eventfd]", kinds
    assert kinds["epoll"] == "anon_inode:[eventpoll]", kinds
    assert kinds["memfd"] == "/memfd:pydtrace-memfd (deleted)", kinds
    assert re.fullmatch(r"net:\[\d+\]", kinds["netns"]), kinds
    assert kinds["file"].startswith("/") and not kinds["file"].endswith(")"), kinds
    assert out == "".join(w + "\n" for w in want) + END


def test_d_path_of_an_unreadable_path_faults() -> None:
    p = pydtrace("-qn", "BEGIN { trace(d_path((struct path *)8)); } BEGIN { exit(0); }",
                 timeout=180)
    assert re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID 1: dtrace:::BEGIN\): "
        r"invalid address \(0x8\) in action #1 at DIF offset \d+\n",
        p.stderr,
    ), p.stderr
    assert p.returncode == 0


# Pipe reads take pipe->mutex; a large allocation is an mmap (up_write of
# mmap_lock) and its page faults take mmap_lock for reading (up_read).
LOCKER = (
    "import sys\nsys.stdin.readline()\n"
    "for _ in range(20):\n    b = bytearray(8 << 20)\n    b[::4096] = b'x' * len(b[::4096])\n"
    "    del b\n"
)


def test_lock_subroutines_where_the_lock_state_is_known() -> None:
    m = "(void *)arg0"
    out, _ = trace_child(
        f"fbt::mutex_unlock:entry /pid == CHILD/ {{ @m[mutex_owned({m}), "
        f"mutex_owner({m}) == (void *)curthread, mutex_type_adaptive({m}), "
        f"mutex_type_spin({m})] = count(); }} "
        f"fbt::mutex_lock:entry /pid == CHILD/ {{ @l[mutex_owned({m})] = count(); }} "
        f"fbt::up_read:entry /pid == CHILD/ {{ @r[rw_read_held({m}), "
        f"rw_write_held({m}), rw_iswriter({m})] = count(); }} "
        f"fbt::up_write:entry /pid == CHILD/ {{ @w[rw_read_held({m}), "
        f"rw_write_held({m}), rw_iswriter({m})] = count(); }} "
        'END { printa("m %d %d %d %d\\n", @m); printa("l %d\\n", @l);'
        ' printa("r %d %d %d\\n", @r); printa("w %d %d %d\\n", @w); }',
        LOCKER,
    )
    lines = set(out.split("\n")) - {""}
    # whoever calls mutex_unlock owns the mutex (a struct mutex: adaptive,
    # not spin); whoever calls mutex_lock does not; up_read: held for
    # reading only; up_write: held for writing
    assert lines == {"m 1 1 1 0", "l 0", "r 1 0 0", "w 0 1 1"}, out


def test_progenyof_follows_the_parents() -> None:
    me = os.getpid()
    out, _ = trace_child(
        "syscall::getppid:entry /pid == CHILD/ "
        f'{{ printf("%d %d %d %d\\n", progenyof(CHILD), progenyof({me}), '
        f"progenyof(1), progenyof({me} + 1000000)); }}",
        "import os, sys\nsys.stdin.readline()\nos.getppid()\n",
    )
    # the child, its parent (this test) and init are its ancestry
    assert out == "1 1 1 0\n" + END


def test_rand_varies_within_a_firing_and_stays_in_range() -> None:
    p = pydtrace(
        "-qn",
        'BEGIN { printf("%d %d %d %d %d %d %d %d\\n", rand(), rand(), rand(), '
        "rand(), rand(), rand(), rand(), rand()); exit(0); }",
        timeout=180,
    )
    assert p.returncode == 0, p.stderr
    vals = [int(v) for v in p.stdout.split()]
    assert len(vals) == 8 and all(0 <= v < 1771875 for v in vals)
    assert len(set(vals)) > 1
