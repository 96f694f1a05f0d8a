"""fbt globs against the real module (test VM): user space reads the
probeable functions from tracefs, PROVIDEs each one a glob names, then
enables or lists; the probes fire, a glob matching nothing is dtrace's
error, an unbounded one is refused, and no kprobe is left behind."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tputil
from kutil import pydtrace as run_pydtrace
from progbuild import Builder, Ecb
from progbuild import Consumer as KConsumer

from pydtrace.abi import ffi, lib
from pydtrace.runtime import Device
from pydtrace.runtime.fbtaddrs import read_blacklist, read_text_symbols, with_addresses
from pydtrace.runtime.fbtnames import MAX_FUNCTIONS, gmatch, read_filter_functions

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 600
KPROBES = Path("/sys/kernel/debug/kprobes/list")
BLACKLIST = Path("/sys/kernel/debug/kprobes/blacklist")
EVENTS = Path("/sys/kernel/tracing/available_events")
GLOB = "vfs_rea*"
COUNT = tputil.PREAD_COUNT
CHILD = tputil.PREAD_CHILD


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def expected(glob: str) -> set[str]:
    """The functions tracefs says a glob names, less kprobes' blacklist."""
    names = {f.name for f in read_filter_functions() if gmatch(f.name, glob)}
    refused = {line.split()[1] for line in BLACKLIST.read_text().splitlines() if line.split()}
    return names - refused


def test_glob_provides_enables_and_fires():
    want = expected(GLOB)
    assert "vfs_read" in want
    data = b"x" * 1234
    with tempfile.NamedTemporaryFile(dir="/tmp") as f:
        f.write(data)
        f.flush()
        n = 20
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, f.name, str(n)], stdin=subprocess.PIPE, text=True
        )
        progs = [
            'BEGIN { printf("ready\\n"); }',
            f"fbt::{GLOB}:entry /pid == {child.pid}/ {{ @[probefunc] = count(); }}",
            f"syscall::exit_group:entry /pid == {child.pid}/ {{ exit(0); }}",
        ]
        tracer = subprocess.Popen(
            [sys.executable, "-m", "pydtrace", *(a for p in progs for a in ("-n", p))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert tracer.stdout is not None and child.stdin is not None
            for line in tracer.stdout:  # not quiet: the header, then BEGIN's line
                if line.rstrip().endswith("ready"):
                    break
            during = KPROBES.read_text()
            child.stdin.write("go\n")
            child.stdin.close()
            assert child.wait(timeout=TIMEOUT) == 0
            out, err = tracer.communicate(timeout=TIMEOUT)
        finally:
            child.kill()
            tracer.kill()
    assert tracer.returncode == 0, err
    # every function the glob names got an entry probe, and a kprobe on it
    m = re.search(rf"'fbt::{re.escape(GLOB)}:entry ' matched (\d+) probes?", err)
    assert m is not None, err
    assert int(m.group(1)) == len(want), (err, sorted(want))
    armed = {m.group(1) for m in re.finditer(r" (\w+)\+0x0", during)}
    assert want <= armed, during
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert set(counts) <= want, out
    assert counts.get("vfs_read", 0) >= n, out
    assert KPROBES.read_text() == ""


def test_list_glob_provides_first():
    want = expected(GLOB)
    p = pydtrace("-l", "-n", f"fbt::{GLOB}:entry")
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    assert {r[3] for r in rows} == want, p.stdout
    assert all(r[1:3] == ["fbt", "vmlinux"] and r[4] == "entry" for r in rows), p.stdout
    # -l -f names one function exactly: provided too (entry and return)
    p = pydtrace("-l", "-f", "vfs_readv")
    assert p.returncode == 0, p.stderr
    assert [r.split()[1:] for r in p.stdout.splitlines()[1:]] == [
        ["fbt", "vmlinux", "vfs_readv", "entry"],
        ["fbt", "vmlinux", "vfs_readv", "return"],
    ]
    assert KPROBES.read_text() == ""  # listing instruments nothing


def test_glob_matching_nothing():
    desc = "fbt::no_such_pydtrace_fn*:entry"
    p = pydtrace("-n", f"{desc} {{ }} BEGIN {{ exit(0); }}")
    assert p.returncode == 1
    assert f"probe description {desc} does not match any probes" in p.stderr
    p = pydtrace("-Z", "-qn", f"{desc} {{ }} BEGIN {{ exit(0); }}")
    assert p.returncode == 0, p.stderr
    p = pydtrace("-l", "-n", desc)
    assert p.returncode == 1
    assert "No probe matches description" in p.stderr
    assert KPROBES.read_text() == ""


def test_unbounded_glob_is_refused():
    assert len(read_filter_functions()) > MAX_FUNCTIONS  # else this proves nothing
    p = pydtrace("-n", "fbt:::entry { } BEGIN { exit(0); }")
    assert p.returncode == 1
    assert "invalid probe specifier fbt:::entry" in p.stderr
    assert "matches too many fbt functions" in p.stderr
    assert "Traceback" not in p.stderr
    assert KPROBES.read_text() == ""


def test_provide_ioctl():
    with Device() as dev:
        dev.provide("fbt", "vmlinux", "vfs_readlink", "")
        rows = [p for p in dev.probes() if p.provider == "fbt" and p.func == "vfs_readlink"]
        assert [(p.mod, p.name) for p in rows] == [("vmlinux", "entry"), ("vmlinux", "return")]
        dev.provide("fbt", "", "no_such_pydtrace_fn", "")  # refused: simply no probe
        assert not [p for p in dev.probes() if p.func == "no_such_pydtrace_fn"]
    fd = os.open("/dev/dtrace", os.O_RDWR)
    try:
        pd = ffi.new("struct dtrace_probedesc *")
        fcntl.ioctl(fd, lib.DTRACEIOC_PROVIDE, bytes(ffi.buffer(pd)))  # all empty: fine
        for field in ("dtpd_provider", "dtpd_mod", "dtpd_func", "dtpd_name"):
            bad = ffi.new("struct dtrace_probedesc *")
            size = ffi.sizeof(getattr(bad, field))
            ffi.memmove(getattr(bad, field), b"x" * size, size)  # no NUL
            with pytest.raises(OSError) as e:
                fcntl.ioctl(fd, lib.DTRACEIOC_PROVIDE, bytes(ffi.buffer(bad)))
            assert e.value.errno == errno.EINVAL, field
        bad = ffi.new("struct dtrace_probedesc *")
        bad.dtpd_id = 1
        with pytest.raises(OSError) as e:
            fcntl.ioctl(fd, lib.DTRACEIOC_PROVIDE, bytes(ffi.buffer(bad)))
        assert e.value.errno == errno.EINVAL
    finally:
        os.close(fd)
    assert KPROBES.read_text() == ""


def _fbtprovide(
    fd: int, funcs: list[tuple[bytes, int]], *, count: int | None = None, created: int = 0
) -> int:
    """DTRACEIOC_FBTPROVIDE by hand: the functions created, or OSError."""
    arr = ffi.new("struct dtrace_fbtfunc[]", max(len(funcs), 1))
    for i, (name, addr) in enumerate(funcs):
        arr[i].dtff_addr = addr
        ffi.memmove(arr[i].dtff_func, name, len(name))
    fp = ffi.new("struct dtrace_fbtprovide *")
    fp.dtfp_funcs = int(ffi.cast("uintptr_t", arr))
    fp.dtfp_count = len(funcs) if count is None else count
    fp.dtfp_created = created
    buf = bytearray(ffi.buffer(fp))
    fcntl.ioctl(fd, lib.DTRACEIOC_FBTPROVIDE, buf)
    out = ffi.from_buffer("struct dtrace_fbtprovide *", buf)
    return out.dtfp_created


def test_fbtprovide_ioctl_checks_every_pair():
    syms = read_text_symbols()
    name = "vfs_fsync_range"
    addr, other = syms[("vmlinux", name)], syms[("vmlinux", "vfs_fsync")]
    fake = b"pydtrace_no_such_fn"
    fd = os.open("/dev/dtrace", os.O_RDWR)
    try:
        # names the symbol table does not give for the address (another
        # function's, an address inside a function, no function): no probe
        assert (
            _fbtprovide(
                fd,
                [(fake, other), (fake, addr), (name.encode(), other), (name.encode(), addr + 1)],
            )
            == 0
        )
        with Device() as dev:
            assert not list(dev.probes([("fbt", "", fake.decode(), "")]))
            before = list(dev.probes([("fbt", "", name, "")]))
        assert len(before) in (0, 2)  # an earlier listing may have made them
        # the right pair: both probes, once
        made = _fbtprovide(fd, [(name.encode(), addr), (name.encode(), addr)])
        assert made == (0 if before else 1)
        with Device() as dev:
            rows = list(dev.probes([("fbt", "", name, "")]))
        assert [(p.mod, p.name) for p in rows] == [("vmlinux", "entry"), ("vmlinux", "return")]
        assert _fbtprovide(fd, [(name.encode(), addr)]) == 0
        # bad arguments
        for kw in ({"count": lib.DTRACE_FBTPROVIDE_MAX + 1}, {"created": 1}):
            with pytest.raises(OSError) as e:
                _fbtprovide(fd, [(name.encode(), addr)], **kw)
            assert e.value.errno == errno.EINVAL, kw
        size = ffi.sizeof(ffi.new("struct dtrace_fbtfunc *").dtff_func)
        with pytest.raises(OSError) as e:
            _fbtprovide(fd, [(b"x" * size, addr)])  # no NUL
        assert e.value.errno == errno.EINVAL
        arr = ffi.new("struct dtrace_fbtprovide *")
        arr.dtfp_funcs = 8  # unmapped
        arr.dtfp_count = 1
        with pytest.raises(OSError) as e:
            fcntl.ioctl(fd, lib.DTRACEIOC_FBTPROVIDE, bytearray(ffi.buffer(arr)))
        assert e.value.errno == errno.EFAULT
    finally:
        os.close(fd)
    assert KPROBES.read_text() == ""


def test_bare_list_names_every_function_syscall_and_tracepoint():
    p = pydtrace("-l")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "MODULE", "FUNCTION", "NAME"]
    rows = [line.split() for line in lines[1:]]
    assert rows[:3] == [[str(i), "dtrace", n] for i, n in ((1, "BEGIN"), (2, "END"), (3, "ERROR"))]
    by_provider = Counter(r[1] for r in rows)
    # fbt: every function ftrace can trace, less kprobes' blacklist, the
    # dtrace module's own and names longer than a probe's function field
    syms = read_text_symbols()
    funcs = with_addresses(read_filter_functions(), syms, read_blacklist())
    size = ffi.sizeof(ffi.new("struct dtrace_probedesc *").dtpd_func)
    want = {
        (kf.module, kf.name)
        for kf, _ in funcs
        if kf.module != "dtrace" and len(kf.name.encode()) < size
    }
    fbt = Counter((r[2], r[3]) for r in rows if r[1] == "fbt")
    assert len(want) > 20000
    assert set(fbt) >= want, sorted(want - set(fbt))[:20]
    assert set(fbt.values()) == {2}  # entry and return
    assert all(key in syms for key in fbt), sorted(k for k in fbt if k not in syms)[:20]
    assert not [k for k in fbt if k[0] == "dtrace"]
    # every system call, entry and return
    events = {line for line in EVENTS.read_text().splitlines() if not line.startswith("syscalls:")}
    assert by_provider["sdt"] == len(events)
    syscalls = tputil.syscall_names_from_headers()
    if syscalls is not None:
        assert by_provider["syscall"] == 2 * len(syscalls)
    print(f"\nlisted {len(rows)} probes: {dict(by_provider)}; fbt functions {len(fbt)}")
    # ids are unique and increasing; a second listing is the same
    ids = [int(r[0]) for r in rows]
    assert ids == sorted(set(ids))
    again = pydtrace("-l")
    assert again.stdout == p.stdout
    assert KPROBES.read_text() == ""  # listing instruments nothing


def _enable_errno(desc: tuple[str, str, str, str]) -> tuple[int, int]:
    """ENABLE of one clause with no actions on desc: (errno or 0, matched)."""
    b = Builder()
    b.ecbs = [Ecb(desc)]
    c = KConsumer()
    try:
        err, de = c.enable_raw(b.build())
        return err, int(de.de_nmatched)
    finally:
        c.close()


def test_enabling_too_many_fbt_probes_is_refused_by_the_module():
    """After a listing made every fbt probe, an ENABLE whose description
    matches them all (pydtrace refuses it in user space; raw DIF does not)
    fails at once with E2BIG instead of registering ~10^5 kprobes under the
    module's lock."""
    p = pydtrace("-l", "-P", "fbt")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) > 8192
    for desc in (("fbt", "", "", "entry"), ("", "", "", "")):
        assert _enable_errno(desc)[0] == errno.E2BIG, desc
    assert KPROBES.read_text() == ""
    # a description within the limit still works
    err, n = _enable_errno(("fbt", "", "vfs_read*", "entry"))
    assert err == 0 and n >= 1
    assert KPROBES.read_text() == ""
