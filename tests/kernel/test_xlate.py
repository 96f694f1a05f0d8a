"""Translators and the D library in the guest: curpsinfo, curlwpsinfo and
curcpu against the real process, a user translator over struct task_struct,
and a -L library directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

CURINFO = r"""
BEGIN {
    printf("%d %d %d %d %d %d %d %d %d %d %d %d\n",
        curpsinfo->pr_pid, pid, curpsinfo->pr_ppid, ppid,
        curpsinfo->pr_uid, uid, curpsinfo->pr_gid, gid,
        curlwpsinfo->pr_lwpid, tid, curcpu->cpu_id, cpu);
    printf("%s|%s|%c|%d\n", stringof(curpsinfo->pr_fname), execname,
        curlwpsinfo->pr_sname, curpsinfo->pr_dmodel);
    exit(0);
}
"""


def run(*args: str) -> tuple[int, str, str]:
    """pydtrace as a child of this process; (its pid, stdout, stderr)."""
    p = subprocess.Popen([sys.executable, "-m", "pydtrace", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return p.pid, out, err


def test_curpsinfo_is_the_running_process() -> None:
    child, out, _ = run("-q", "-n", CURINFO)
    nums, names = out.splitlines()[:2]
    v = [int(x) for x in nums.split()]
    assert v[0] == v[1] == child
    assert v[2] == v[3] == os.getpid()
    assert v[4] == v[5] == os.getuid()
    assert v[6] == v[7] == os.getgid()
    assert v[8] == v[9] == child            # the main thread runs BEGIN
    assert v[10] == v[11]
    fname, execname, sname, dmodel = names.split("|")
    assert fname == execname != ""
    assert sname == "O"                     # running on a CPU
    assert dmodel == "2"                    # PR_MODEL_LP64


def test_user_translator_over_task_struct(tmp_path: Path) -> None:
    script = tmp_path / "mine.d"
    script.write_text("""
typedef struct mine { int me; int parent; char name[16]; } mine_t;
translator mine_t < struct task_struct *T > {
    me = T->tgid;
    parent = T->real_parent->tgid;
    name = T->comm;
};
inline mine_t *cur = xlate<mine_t *>(curthread);
BEGIN {
    printf("%d %d %s %d\\n", cur->me, xlate<mine_t>(curthread).parent,
        stringof(cur->name), xlate<mine_t *>(curthread->real_parent)->parent);
    exit(0);
}
""")
    child, out, _ = run("-q", "-s", str(script))
    me, parent, name, grandparent = out.split()
    assert (int(me), int(parent)) == (child, os.getpid())
    assert int(grandparent) == os.getppid()
    # the child's comm: the name it was executed as
    assert name == os.path.basename(sys.executable)[:15]


def test_libdir(tmp_path: Path) -> None:
    libdir = tmp_path / "lib"
    libdir.mkdir()
    (libdir / "a.d").write_text("""
#pragma D depends_on library b.d
typedef struct ids { int tg; int t; } ids_t;
translator ids_t < struct task_struct *T > { tg = T->tgid; t = T->pid + OFFSET; };
inline ids_t *curids = xlate<ids_t *>(curthread);
""")
    (libdir / "b.d").write_text("inline int OFFSET = 1000000;\n")
    child, out, _ = run("-q", "-L", str(libdir), "-n",
                        'BEGIN { printf("%d %d\\n", curids->tg, curids->t); exit(0); }')
    assert out.split() == [str(child), str(child + 1000000)]


def test_translated_pointer_errors_in_the_guest() -> None:
    p = subprocess.run([sys.executable, "-m", "pydtrace", "-xerrtags", "-n",
                        "BEGIN { trace(curpsinfo); }"], capture_output=True, text=True,
                       timeout=300, check=False)
    assert p.returncode != 0
    assert "[D_TRACE_DYN]" in p.stderr


def test_fileinfo_from_struct_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "hello.txt"
    target.parent.mkdir()
    target.write_text("hi\n")
    prog = ("fbt::vfs_read:entry /pid == $target/ { printf(\"%s|%s|%s|%d\\n\", "
            "xlate<fileinfo_t *>((struct file *)arg0)->fi_name, "
            "xlate<fileinfo_t *>((struct file *)arg0)->fi_pathname, "
            "xlate<fileinfo_t *>((struct file *)arg0)->fi_fs, "
            "xlate<fileinfo_t *>((struct file *)arg0)->fi_offset); }")
    _, out, _ = run("-q", "-c", f"cat {target}", "-n", prog)
    assert "hello.txt|sub/hello.txt|tmpfs|0" in out.splitlines()


def test_every_system_translator_compiles_against_this_kernel() -> None:
    """Every member of every translator in pydtrace/dlib, checked against
    the guest kernel's BTF (trace(xlate<T>(x)) checks and compiles them all)."""
    import re

    from pydtrace.compiler import Compiler
    from pydtrace.sema.library import SYSTEM_DIR, library

    pairs = []
    for item in library([SYSTEM_DIR]).items:
        if item.kind == "translator":
            m = re.match(r"\s*translator\s+(.+?)\s*<\s*(.+?)\s*\w+\s*>", item.text)
            assert m is not None
            pairs.append((m.group(1), m.group(2)))
    assert len(pairs) >= 7
    c = Compiler()
    for out, src in pairs:
        c.compile(f"BEGIN {{ trace(xlate<{out}>(({src})arg0)); }}", kind="probe", label="t")
