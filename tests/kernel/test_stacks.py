"""stack(), ustack() and the symbol actions in the guest, checked against the
guest's own /proc/kallsyms and a frame-pointer workload built here."""

from __future__ import annotations

import bisect
import errno
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

# reads a file with read(2) and prints nothing
READER = "dd if=/etc/hostname of=/dev/null status=none"
FRAME = re.compile(r"^ {14}(\S+)`(\S+?)(?:\+0x([0-9a-f]+))?$")


def kallsyms() -> tuple[list[int], list[tuple[int, str, str]]]:
    syms = []
    with open("/proc/kallsyms") as f:
        for line in f:
            p = line.split()
            if p[1] in "tTwW":
                syms.append((int(p[0], 16), p[2], p[3].strip("[]") if len(p) > 3 else "vmlinux"))
    syms.sort()
    return [s[0] for s in syms], syms


def symbolize(pc: int) -> tuple[str, str, int]:
    addrs, syms = kallsyms()
    i = bisect.bisect_right(addrs, pc) - 1
    addr, name, mod = syms[i]
    return mod, name, pc - addr


def frames(text: str) -> list[tuple[str, str, int]]:
    out = []
    for line in text.splitlines():
        m = FRAME.match(line)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3) or "0", 16)))
    return out


def test_fbt_entry_stack_starts_at_the_caller():
    p = pydtrace(
        "-q",
        "-n",
        'fbt::vfs_read:entry /pid == $target/ { printf("%x", caller); stack(); exit(0); }',
        "-c",
        READER,
    )
    assert p.returncode == 0, p.stderr
    head, _, rest = p.stdout.partition("\n")
    caller = int(head, 16)
    got = frames(rest)
    assert got, p.stdout
    mod, name, off = symbolize(caller)
    # the first frame is the caller of vfs_read (not vfs_read, not us) ...
    assert got[0] == (mod, name, off)
    assert mod == "vmlinux" and name != "vfs_read"
    # ... and the walk goes down to the system call entry
    assert any(n.startswith("entry_SYSCALL_64") for _, n, _ in got), p.stdout
    assert all(m != "dtrace" for m, _, _ in got)
    # every frame line is indented 14 and named after a real symbol
    _, syms = kallsyms()
    names = {s[1] for s in syms}
    assert all(n in names for _, n, _ in got)


def test_sym_func_mod_and_a_of_caller():
    p = pydtrace(
        "-q",
        "-n",
        "fbt::vfs_read:entry /pid == $target/ { sym(caller); func(caller); mod(caller);"
        ' printf("\\n[%a] %d\\n", caller, stackdepth); exit(0); }',
        "-c",
        READER,
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    m = re.search(r"\[vmlinux`(\w+)\+0x([0-9a-f]+)\] (\d+)", p.stdout)
    assert m, p.stdout
    name = m.group(1)
    sym = f"  {'vmlinux`' + name:<50}"
    assert lines[0] == sym + sym + f"  {'vmlinux':<50}", p.stdout
    assert name != "vfs_read"
    assert int(m.group(3)) >= 3  # caller, do_syscall_64, entry_SYSCALL_64...


def test_profile_stack_aggregation_keys():
    p = pydtrace("-n", "profile-997 { @[stack()] = count(); } tick-1s { exit(0); }")
    assert p.returncode == 0, p.stderr
    got = frames(p.stdout)
    assert got, p.stdout
    _, syms = kallsyms()
    known = {(s[2], s[1]) for s in syms}
    assert all((m, n) in known for m, n, _ in got), p.stdout
    # each key's frames are followed by its count
    assert re.search(r"\n {14}\S+`\S+\n +\d+\n", p.stdout), p.stdout


def test_printa_k_indents_by_a_left_width():
    p = pydtrace(
        "-q",
        "-n",
        "fbt::vfs_read:entry /pid == $target/ { @[stack(2)] = count(); }"
        ' END { printa("%-4k%@u\\n", @); }',
        "-c",
        READER,
    )
    assert p.returncode == 0, p.stderr
    # per key: a newline, two frames indented 4, the count
    entries = re.findall(r"\n((?:    vmlinux`\w+\+0x[0-9a-f]+\n){2})(\d+)\n", p.stdout)
    assert entries, p.stdout
    assert any("`ksys_read+" in e[0] for e in entries), p.stdout
    assert p.stdout.strip("\n") == "".join(f"\n{e[0]}{e[1]}\n" for e in entries).strip("\n")


WORKLOAD = r"""
#include <unistd.h>
static long __attribute__((noinline)) level2(long n)
{
    long ret;
    /* the system call right here, so level2 holds the user PC */
    asm volatile("syscall" : "=a"(ret) : "0"(110L) : "rcx", "r11", "memory");
    return ret + n;
}
static long __attribute__((noinline)) level1(long n) { return level2(n) + 1; }
int main(void)
{
    long s = 0;
    for (int i = 0; i < 3; i++)
        s += level1(i);
    sleep(30); /* alive while pydtrace prints its stack; -c kills it at the end */
    return s == 0;
}
"""


def build_fp_program(tmp_path: Path, name: str, source: str) -> Path:
    """source compiled with frame pointers (user stack walks follow them)."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    exe = tmp_path / name
    subprocess.run([cc, "-O0", "-g0", "-fno-omit-frame-pointer", "-o", str(exe), str(src)],
                   check=True, timeout=300)
    return exe


@pytest.fixture
def fpworkload(tmp_path: Path) -> Path:
    return build_fp_program(tmp_path, "fpwork", WORKLOAD)


def test_ustack_of_a_frame_pointer_program(fpworkload: Path):
    p = pydtrace(
        "-q",
        "-n",
        'syscall::getppid:entry /pid == $target/ { ustack(); printf("%d %d\\n",'
        " ustackdepth, ucaller != 0); printf(\"<%A>\\n\", ucaller);"
        " @[ufunc(ucaller), umod(ucaller)] = count(); exit(0); }",
        "-c",
        str(fpworkload),
    )
    assert p.returncode == 0, p.stderr
    got = frames(p.stdout)
    assert [(m, n) for m, n, _ in got[:3]] == [
        ("fpwork", "level2"),
        ("fpwork", "level1"),
        ("fpwork", "main"),
    ], p.stdout
    m = re.search(r"^(\d+) 1$", p.stdout, re.M)
    assert m and int(m.group(1)) >= 3, p.stdout
    assert re.search(r"fpwork`level1 +fpwork +1$", p.stdout, re.M), p.stdout
    # %A of a plain integer: looked up in the -c process
    assert re.search(r"^<fpwork`level1\+0x[0-9a-f]+>$", p.stdout, re.M), p.stdout


def test_ustackframes_bounds_ustack(fpworkload: Path):
    p = pydtrace(
        "-q", "-x", "ustackframes=2", "-n",
        "syscall::getppid:entry /pid == $target/ { ustack(); exit(0); }",
        "-c", str(fpworkload),
    )
    assert p.returncode == 0, p.stderr
    assert [(m, n) for m, n, _ in frames(p.stdout)] == [
        ("fpwork", "level2"),
        ("fpwork", "level1"),
    ], p.stdout


# getppid(2) at the bottom of a frame-pointer recursion argv[1] deep, then
# at one 5 deep
DEEP_WORKLOAD = r"""
#include <stdlib.h>
#include <unistd.h>
static long __attribute__((noinline)) down(long n)
{
    long ret;
    if (n > 0)
        return down(n - 1) + 1;
    asm volatile("syscall" : "=a"(ret) : "0"(110L) : "rcx", "r11", "memory");
    return ret;
}
int main(int argc, char **argv)
{
    long s = down(atol(argv[1])) + down(5);
    sleep(30); /* alive while pydtrace prints; -c kills it at the end */
    return s == 0;
}
"""


def test_ustackdepth_of_a_stack_deeper_than_the_walk_is_a_bad_stack(tmp_path: Path):
    """DTrace's bad stack fault: a user stack walk that does not end within
    its bound (1024 frames); tracing goes on, and a shallow stack counts."""
    exe = build_fp_program(tmp_path, "deep", DEEP_WORKLOAD)
    p = pydtrace(
        "-q", "-n",
        'syscall::getppid:entry /pid == $target/ { printf("depth %d\\n", ustackdepth); } '
        'syscall::getppid:entry /pid == $target/ { printf("fired %d\\n", ++n); } '
        "syscall::getppid:entry /pid == $target && n == 2/ { exit(0); }",
        "-c", f"{exe} 1500",
    )
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"fired 1\ndepth (\d+)\nfired 2\n\n?", p.stdout)
    # the shallow stack: the syscall's PC, down() 6 times, main and what
    # main's caller left in its frame pointer
    assert m and 7 <= int(m.group(1)) < 20, p.stdout
    m = re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID \d+: syscall:\w*:getppid:entry\): "
        r"bad stack \((0x[0-9a-f]+)\) in action #1 at DIF offset \d+\n",
        p.stderr,
    )
    # the frame pointer where the walk stopped: a user stack address
    assert m and 0 < int(m.group(1), 16) < 1 << 47, p.stderr


def test_json_stack_and_address_records():
    p = pydtrace(
        "-O",
        "json",
        "-q",
        "-n",
        "fbt::vfs_read:entry /pid == $target/ { stack(2); func(caller); exit(0); }",
        "-c",
        READER,
    )
    assert p.returncode == 0, p.stderr
    probes = [json.loads(ln) for ln in p.stdout.splitlines() if '"probe"' in ln]
    assert len(probes) == 1, p.stdout
    st, fn = probes[0]["output"]
    assert st["kind"] == "stack" and len(st["frames"]) == 2
    for pc, text in zip(st["frames"], st["symbols"], strict=True):
        mod, name, off = symbolize(pc)
        assert text == f"{mod}`{name}+0x{off:x}"
    mod, name, _ = symbolize(st["frames"][0])
    assert st["pid"] is None
    assert fn == {
        "kind": "address",
        "pid": None,
        "value": st["frames"][0],
        "symbol": f"{mod}`{name}",
    }


def test_module_refuses_bad_stack_actions():
    """stack()/ustack() take no DIFO and a frame count; the symbol actions a
    DIFO returning an integer; stacks and symbols are aggregation keys."""
    import progbuild
    from progbuild import Act, Builder, const_difo

    from pydtrace.abi import lib

    def enable(acts: Callable[[Builder], list[Act]]) -> tuple[int, int]:
        b = Builder()
        b.clause(("dtrace", "", "", "BEGIN"), acts(b))
        c = progbuild.Consumer()
        try:
            rc, de = c.enable_raw(b.build())
            return rc, de.de_err
        finally:
            c.close()

    stack, ustack = lib.DTRACEACT_STACK, lib.DTRACEACT_USTACK
    bad = [
        lambda b: [Act(stack, arg=0)],  # no frames
        lambda b: [Act(stack, arg=1 << 32 | 4)],  # a string size on stack()
        lambda b: [Act(stack, arg=1 << 20)],  # too many frames
        lambda b: [Act(stack, b.difo(const_difo(1)), arg=4)],  # a DIFO
        lambda b: [Act(ustack, arg=0)],
        lambda b: [Act(lib.DTRACEACT_SYM)],  # no DIFO
    ]
    for make in bad:
        assert enable(make) == (errno.EINVAL, lib.DTRACE_EPROG_ACTION)
    good = [
        lambda b: [Act(stack, arg=4), Act(ustack, arg=3 | 16 << 32)],
        lambda b: [b.expr(const_difo(1), lib.DTRACEACT_UADDR)],
        lambda b: [b.expr(const_difo(1)), Act(stack, arg=2),
                   b.expr(const_difo(0x1234), lib.DTRACEACT_SYM),
                   Act(lib.DTRACEAGG_COUNT, ntuple=3)],
    ]
    for make in good:
        assert enable(make) == (0, 0)
