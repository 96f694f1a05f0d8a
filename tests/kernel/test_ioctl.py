"""The /dev/dtrace ioctl interface, driven directly with hand-built programs.

Runs inside the test VM as root with the dtrace module loaded (tests/vm);
skipped anywhere /dev/dtrace does not exist.  Every number comes from the
uapi header through the cffi module (pydtrace.abi), never by hand.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import struct
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import progbuild
import pytest
from progbuild import (
    DEV,
    NONE,
    RECHDR,
    Act,
    Builder,
    Consumer,
    Ecb,
    bodies,
    ins,
    records,
    ret,
    setx,
)

from pydtrace.abi import ffi, lib

pytestmark = pytest.mark.skipif(not os.path.exists(DEV), reason="needs /dev/dtrace (test VM)")


# ---------------------------------------------------------------------------
# DIF assembly helpers
# ---------------------------------------------------------------------------


def ldgs(var: int, rd: int) -> int:
    return ins(lib.DIF_OP_LDGS, (var >> 8) & 0xFF, var & 0xFF, rd)


def branch(op: int, label: int) -> int:
    return ((op << 24) | label) & 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Program builder
# ---------------------------------------------------------------------------


# progbuild's builder, with this file's 4-byte default value size.
Difo = functools.partial(progbuild.Difo, size=4)


def const_difo(value: int, size: int = 4) -> progbuild.Difo:
    return progbuild.const_difo(value, size)


def Program(  # noqa: N802 (reads as the struct it builds)
    ecbs: Sequence[Ecb],
    acts: Sequence[Act],
    difos: Sequence[progbuild.Difo],
    opts: Sequence[tuple[int, int]] = (),
) -> Builder:
    """A struct dtrace_prog with these tables; .build() gives its bytes and
    fills .offsets."""
    b = Builder()
    b.ecbs, b.acts, b.difos, b.opts = list(ecbs), list(acts), list(difos), list(opts)
    return b


def patch(buf: bytearray, off: int, fmt: str, value: int) -> None:
    struct.pack_into("<" + fmt, buf, off, value)


def field_off(ctype: str, name: str) -> int:
    return ffi.offsetof(ctype, name)


# ---------------------------------------------------------------------------
# ioctl wrappers
# ---------------------------------------------------------------------------


@pytest.fixture
def dt() -> Iterator[Consumer]:
    c = Consumer()
    yield c
    c.close()


Probe = tuple[int, str, str, str, str]


def probes(c: Consumer, pattern: tuple[str, str, str, str] | None = None) -> list[Probe]:
    """Every probe (PROBES from id 0 on), or those matching pattern
    (PROBEMATCH), by libdtrace's loop over the ioctl (there may be ~10^5:
    every fbt function once a listing has run)."""
    out: list[Probe] = []
    pat = ffi.NULL
    if pattern is not None:
        pat = ffi.new("struct dtrace_probedesc *")
        for field, value in zip(
            ("dtpd_provider", "dtpd_mod", "dtpd_func", "dtpd_name"), pattern, strict=True
        ):
            setattr(pat, field, value.encode())
    chunk = ffi.new("struct dtrace_probedesc[]", 4096)
    nxt = 0
    while True:
        n = lib.dt_probe_list(c.fd, pat, nxt, chunk, 4096)
        assert n >= 0, os.strerror(-n)
        for i in range(n):
            pd = chunk[i]
            out.append(
                (
                    int(pd.dtpd_id),
                    ffi.string(pd.dtpd_provider).decode(),
                    ffi.string(pd.dtpd_mod).decode(),
                    ffi.string(pd.dtpd_func).decode(),
                    ffi.string(pd.dtpd_name).decode(),
                )
            )
        if n < 4096:
            return out
        nxt = out[-1][0] + 1


def test_probes_ioctl_walks_by_id(dt: Consumer) -> None:
    """The PROBES protocol by hand: the first probe with an id >= dtpd_id."""
    pd = ffi.new("struct dtrace_probedesc *")
    seen = []
    for _ in range(3):
        dt.ioctl(lib.DTRACEIOC_PROBES, pd)
        seen.append((int(pd.dtpd_id), ffi.string(pd.dtpd_name).decode()))
        pd.dtpd_id += 1
    assert seen == [(1, "BEGIN"), (2, "END"), (3, "ERROR")]
    pd.dtpd_id = 0xFFFFFFFF
    with pytest.raises(OSError) as e:
        dt.ioctl(lib.DTRACEIOC_PROBES, pd)
    assert e.value.errno == errno.ESRCH


# The walking skeleton's program: BEGIN { trace(42); exit(0); }
def begin_prog(extra: Sequence[Ecb] = (), value: int = 42) -> Program:
    return Program(
        ecbs=[Ecb(("dtrace", "", "", "BEGIN"), acts=(0, 2)), *extra],
        acts=[Act(lib.DTRACEACT_DIFEXPR, 0, uarg=7), Act(lib.DTRACEACT_EXIT, 1)],
        difos=[const_difo(value), const_difo(0)],
    )


# ---------------------------------------------------------------------------
# Tests: the protocol
# ---------------------------------------------------------------------------


def test_conf(dt: Consumer) -> None:
    conf = dt.conf()
    assert conf.dtc_abiversion == lib.DTRACE_ABI_VERSION
    assert conf.dtc_difversion == lib.DIF_VERSION
    assert conf.dtc_difintregs == lib.DIF_DIR_NREGS
    assert conf.dtc_diftupregs == lib.DIF_DTR_NREGS
    assert conf.dtc_maxcpus >= os.cpu_count()  # type: ignore[operator]


def test_probes_lists_dtrace_provider(dt: Consumer) -> None:
    listed = probes(dt)
    assert listed[:3] == [
        (1, "dtrace", "", "", "BEGIN"),
        (2, "dtrace", "", "", "END"),
        (3, "dtrace", "", "", "ERROR"),
    ]
    ids = [p[0] for p in listed]
    assert ids == sorted(set(ids))


def test_probe_ids_are_stable_while_loaded(dt: Consumer) -> None:
    """Probes made on demand get new ids; no probe ever changes its id,
    also once the consumer that made it is gone."""
    before = probes(dt)
    tick = ("profile", "", "", "tick-4321ms")
    assert tick not in [p[1:] for p in before]
    made: list[tuple[int, str, str, str, str]] = []
    for _ in range(2):
        with Consumer() as c:
            assert c.enable(begin_prog(extra=[Ecb(tick, acts=(0, 1))]).build()) == 2
            c.go()
        after = probes(dt)
        assert [p for p in after if p in before] == before  # every one kept
        made.extend(p for p in after if p[1:] == tick)
        before = after
    # made once, then found again with the same id
    assert len(made) == 2 and made[0] == made[1], made
    assert made[0][0] > 3


def test_probes_start_id_and_end(dt: Consumer) -> None:
    pd = ffi.new("struct dtrace_probedesc *")
    pd.dtpd_id = 2
    dt.ioctl(lib.DTRACEIOC_PROBES, pd)
    assert pd.dtpd_id == 2 and ffi.string(pd.dtpd_name) == b"END"
    pd.dtpd_id = 0xFFFFFFF0
    with pytest.raises(OSError) as e:
        dt.ioctl(lib.DTRACEIOC_PROBES, pd)
    assert e.value.errno == errno.ESRCH


def test_begin_trace_exit(dt: Consumer) -> None:
    assert dt.enable(begin_prog().build()) == 1
    epd, recs = dt.eprobe(1)
    assert epd.dtepd_probeid == 1
    assert epd.dtepd_size == RECHDR + 8
    assert [(r.dtrd_action, r.dtrd_size, r.dtrd_offset) for r in recs] == [
        (lib.DTRACEACT_DIFEXPR, 4, RECHDR),
        (lib.DTRACEACT_EXIT, 4, RECHDR + 4),
    ]
    assert recs[0].dtrd_uarg == 7

    cpu = dt.go()
    st = dt.status()
    assert st.dtst_exiting == 1
    assert st.dtst_activity == lib.DTRACE_ACTIVITY_DRAINING

    data, bd = dt.bufsnap(cpu)
    assert bd.dtbd_drops == 0 and bd.dtbd_errors == 0
    assert bodies(data, dt) == [(1, struct.pack("<iI", 42, 0))]

    # Another snapshot finds the buffer empty: it was switched out.
    data, _ = dt.bufsnap(cpu)
    assert data == b""

    end_cpu = dt.stop()
    assert 0 <= end_cpu < dt.conf().dtc_maxcpus
    assert dt.status().dtst_activity == lib.DTRACE_ACTIVITY_STOPPED


def test_end_fires_on_stop(dt: Consumer) -> None:
    prog = Program(
        ecbs=[
            Ecb(("dtrace", "", "", "BEGIN"), acts=(0, 1)),
            Ecb(("", "", "", "END"), acts=(1, 1)),
        ],
        acts=[Act(lib.DTRACEACT_DIFEXPR, 0), Act(lib.DTRACEACT_DIFEXPR, 1)],
        difos=[const_difo(1), const_difo(0x1122334455667788, size=8)],
    )
    assert dt.enable(prog.build()) == 2
    assert dt.eprobe(2)[0].dtepd_size == 24  # header (12), pad to 8, 8-byte value
    cpu = dt.go()
    assert dt.status().dtst_activity == lib.DTRACE_ACTIVITY_ACTIVE
    begin, _ = dt.bufsnap(cpu)
    assert bodies(begin, dt) == [(1, struct.pack("<i", 1))]
    end_cpu = dt.stop()
    end, _ = dt.bufsnap(end_cpu)
    assert bodies(end, dt) == [(2, struct.pack("<IQ", 0, 0x1122334455667788))]
    with pytest.raises(OSError) as e:
        dt.stop()
    assert e.value.errno == errno.EINVAL


def test_no_actions_records_epid_and_predicate(dt: Consumer) -> None:
    prog = Program(
        ecbs=[
            Ecb(("", "", "", "BEGIN")),  # no actions: the record header alone
            Ecb(("", "", "", "BEGIN"), pred=0),  # false predicate
            Ecb(("", "", "", "BEGIN"), pred=1, acts=(0, 1)),  # true predicate
            Ecb(("", "", "", "BEGIN"), acts=(1, 1)),  # void value: nothing
        ],
        acts=[Act(lib.DTRACEACT_DIFEXPR, 2), Act(lib.DTRACEACT_DIFEXPR, 3)],
        difos=[const_difo(0), const_difo(1), const_difo(5, size=2), const_difo(9, size=0)],
    )
    assert dt.enable(prog.build()) == 4
    assert dt.eprobe(4)[0].dtepd_size == 0
    cpu = dt.go()
    data, _ = dt.bufsnap(cpu)
    assert dt.eprobe(1)[0].dtepd_size == RECHDR
    assert bodies(data, dt) == [
        (1, b""),
        (3, struct.pack("<Hxx", 5)),
    ]


def test_builtins_and_strings(dt: Consumer) -> None:
    strsize = 32
    prog = Program(
        ecbs=[Ecb(("", "", "", "BEGIN"), acts=(0, 4))],
        acts=[Act(lib.DTRACEACT_DIFEXPR, i) for i in range(4)],
        difos=[
            Difo([ldgs(lib.DIF_VAR_PID, 1), ret(1)]),
            Difo(
                [ldgs(lib.DIF_VAR_EXECNAME, 1), ret(1)],
                size=strsize,
                kind=lib.DIF_TYPE_KIND_STRING,
                flags=lib.DIF_TF_BYREF,
            ),
            Difo(
                [ins(lib.DIF_OP_SETS, 0, 0, 1), ret(1)],
                strtab=b"hello\0",
                size=strsize,
                kind=lib.DIF_TYPE_KIND_STRING,
                flags=lib.DIF_TF_BYREF,
            ),
            Difo(
                [ldgs(lib.DIF_VAR_PROBENAME, 1), ret(1)],
                size=strsize,
                kind=lib.DIF_TYPE_KIND_STRING,
                flags=lib.DIF_TF_BYREF,
            ),
        ],
        opts=[(lib.DTRACEOPT_STRSIZE, strsize), (lib.DTRACEOPT_BUFSIZE, 64 << 10)],
    )
    assert dt.enable(prog.build()) == 1
    cpu = dt.go()
    data, _ = dt.bufsnap(cpu, 64 << 10)
    [(epid, rec)] = records(data, dt)
    _, recs = dt.eprobe(epid)
    pid = struct.unpack_from("<I", rec, recs[0].dtrd_offset)[0]
    assert pid == os.getpid()

    def string(i: int) -> bytes:
        raw = rec[recs[i].dtrd_offset : recs[i].dtrd_offset + strsize]
        return raw

    with open("/proc/self/comm", "rb") as f:
        comm = f.read().strip()
    assert string(1) == comm.ljust(strsize, b"\0")
    assert string(2) == b"hello".ljust(strsize, b"\0")
    assert string(3) == b"BEGIN".ljust(strsize, b"\0")


def test_fault_fires_error_and_abandons_record(dt: Consumer) -> None:
    # BEGIN { trace(*(uint64_t *)8); }  ERROR { trace(arg1); trace(arg4); trace(arg5); }
    prog = Program(
        ecbs=[
            Ecb(("", "", "", "BEGIN"), acts=(0, 1)),
            Ecb(("dtrace", "", "", "ERROR"), acts=(1, 3)),
        ],
        acts=[Act(lib.DTRACEACT_DIFEXPR, 0)] + [Act(lib.DTRACEACT_DIFEXPR, i) for i in (1, 2, 3)],
        difos=[
            Difo([setx(0, 1), ins(lib.DIF_OP_LDX, 1, 0, 2), ret(2)], ints=[8], size=8),
            Difo([ldgs(lib.DIF_VAR_ARG1, 1), ret(1)], size=8),
            Difo([ldgs(lib.DIF_VAR_ARG4, 1), ret(1)], size=8),
            Difo([ldgs(lib.DIF_VAR_ARG5, 1), ret(1)], size=8),
        ],
    )
    assert dt.enable(prog.build()) == 2
    cpu = dt.go()
    data, bd = dt.bufsnap(cpu)
    assert bd.dtbd_errors == 1
    [(epid, rec)] = records(data, dt)
    assert epid == 2
    _, recs = dt.eprobe(2)
    vals = [struct.unpack_from("<Q", rec, r.dtrd_offset)[0] for r in recs]
    assert vals == [1, lib.DTRACEFLT_BADADDR, 8]


def test_drops_when_buffer_too_small(dt: Consumer) -> None:
    prog = begin_prog()
    prog.opts = [(lib.DTRACEOPT_BUFSIZE, 8)]
    assert dt.enable(prog.build()) == 1
    cpu = dt.go()
    data, bd = dt.bufsnap(cpu, 8)
    assert data == b"" and bd.dtbd_drops == 1
    # The exit() never ran: the ECB was dropped before its actions.
    assert dt.status().dtst_exiting == 0


def test_bufsize_lowered_and_snapshot_capacity(dt: Consumer) -> None:
    prog = begin_prog()
    prog.opts = [(lib.DTRACEOPT_BUFSIZE, 1 << 40)]  # far more than RAM
    assert dt.enable(prog.build()) == 1
    cpu = dt.go()
    with pytest.raises(OSError) as e:
        dt.bufsnap(cpu, 4096)
    assert e.value.errno == errno.ENOSPC
    bd = ffi.new("struct dtrace_bufdesc *")
    bd.dtbd_size, bd.dtbd_cpu = 4096, cpu
    with pytest.raises(OSError):
        dt.ioctl(lib.DTRACEIOC_BUFSNAP, bd)
    size = int(bd.dtbd_size)
    assert 4096 < size < 1 << 40 and size % 8 == 0
    # OPTGET tells the size obtained (dtrace(1)'s "buffer size lowered to")
    assert dt.optget()[0][lib.DTRACEOPT_BUFSIZE] == size
    # Nothing was switched out by the refused snapshots.
    data, _ = dt.bufsnap(cpu, size)
    assert bodies(data, dt) == [(1, struct.pack("<iI", 42, 0))]


def test_optget_before_and_after_go(dt: Consumer) -> None:
    unset = lib.DTRACEOPT_UNSET
    prog = begin_prog()
    prog.opts = [
        (lib.DTRACEOPT_BUFSIZE, 64 << 10),
        (lib.DTRACEOPT_AGGSIZE, 1 << 20),  # nothing aggregates
        (lib.DTRACEOPT_SPECSIZE, 1 << 20),  # nothing speculates
        (lib.DTRACEOPT_CLEANRATE, 1),  # below the 200 us minimum
        (lib.DTRACEOPT_STATUSRATE, 3600 * 10**9),  # above the 10 s cap
        (lib.DTRACEOPT_BUFRESIZE, 0),
    ]
    assert dt.enable(prog.build()) == 1
    vals, n = dt.optget()
    assert n == lib.DTRACEOPT_MAX
    want = [unset] * lib.DTRACEOPT_MAX
    for opt, v in prog.opts:
        want[opt] = v
    assert vals == want  # as set, the others unset
    # a short capacity: only that many values, the count still told
    short, n = dt.optget(3)
    assert short == want[:3] and n == lib.DTRACEOPT_MAX
    assert dt.optget(0)[1] == lib.DTRACEOPT_MAX
    og = ffi.new("struct dtrace_optget *")
    og.dtog_pad = 1
    with pytest.raises(OSError) as e:
        dt.ioctl(lib.DTRACEIOC_OPTGET, og)
    assert e.value.errno == errno.EINVAL
    og.dtog_pad, og.dtog_nopts, og.dtog_values = 0, 4, 8  # a bad pointer
    with pytest.raises(OSError) as e:
        dt.ioctl(lib.DTRACEIOC_OPTGET, og)
    assert e.value.errno == errno.EFAULT

    dt.go()
    vals, _ = dt.optget()
    assert vals[lib.DTRACEOPT_BUFSIZE] == 64 << 10  # it fitted
    assert vals[lib.DTRACEOPT_AGGSIZE] == 0 and vals[lib.DTRACEOPT_SPECSIZE] == 0
    assert vals[lib.DTRACEOPT_CLEANRATE] == 200_000
    assert vals[lib.DTRACEOPT_STATUSRATE] == 10 * 10**9
    assert vals[lib.DTRACEOPT_DYNVARSIZE] == unset  # no dynamic variables


def test_bufresize_manual_refuses_what_does_not_fit(dt: Consumer) -> None:
    prog = begin_prog()
    prog.opts = [(lib.DTRACEOPT_BUFSIZE, 1 << 40), (lib.DTRACEOPT_BUFRESIZE, 1)]
    assert dt.enable(prog.build()) == 1
    with pytest.raises(OSError) as e:
        dt.go()
    assert e.value.errno == errno.ENOMEM
    # still inactive, nothing allocated: status refuses, options untouched
    with pytest.raises(OSError) as e:
        dt.status()
    assert e.value.errno == errno.ENOENT
    assert dt.optget()[0][lib.DTRACEOPT_BUFSIZE] == 1 << 40


def test_glob_matching(dt: Consumer) -> None:
    cases = [
        (("dtrace", "", "", "BEGIN"), 1),
        (("", "", "", "B*"), 1),
        (("dtrace", "", "", "*"), 3),
        (("d?race", "", "", "E[NR]*"), 2),
        (("dtrace", "", "", "[!B]*"), 2),
        (("dtrace", "", "", "[A-C]EGIN"), 1),
        (("dtrace", "", "", "[A-\\C]EGIN"), 1),  # an escaped range end
        (("dtrace", "", "", "[A-\\A]*"), 0),  # the range is A-A, not A-\\
        (("dtrace", "", "", "\\BEGIN"), 1),
        (("dtrace", "", "", "BEGI"), 0),
        (("dtrace", "x", "", "BEGIN"), 0),
    ]
    # All fields empty: only anchored probes (those with a function).  Matched
    # by PROBEMATCH, not enabled: once a listing has made every fbt probe,
    # enabling them all is refused (E2BIG, serial/test_fbt_glob.py).
    anchored = [p for p in probes(dt) if p[3]]
    assert probes(dt, ("", "", "", "")) == anchored
    for probe, want in cases:
        c = Consumer()
        try:
            prog = Program(ecbs=[Ecb(probe)], acts=[], difos=[])
            assert c.enable(prog.build()) == want, probe
        finally:
            c.close()


def test_epids_continue_across_enables(dt: Consumer) -> None:
    assert dt.enable(Program([Ecb(("", "", "", "END"))], [], []).build()) == 1
    assert dt.enable(begin_prog().build()) == 1
    assert dt.eprobe(1)[0].dtepd_probeid == 2
    assert dt.eprobe(2)[0].dtepd_probeid == 1
    with pytest.raises(OSError) as e:
        dt.eprobe(3)
    assert e.value.errno == errno.EINVAL


def test_eprobe_capacity(dt: Consumer) -> None:
    dt.enable(begin_prog().build())
    epd, recs = dt.eprobe(1, nrecs=1)
    assert epd.dtepd_nrecs == 2 and len(recs) == 1
    assert recs[0].dtrd_action == lib.DTRACEACT_DIFEXPR


# ---------------------------------------------------------------------------
# Tests: errors
# ---------------------------------------------------------------------------


def test_unknown_ioctl(dt: Consumer) -> None:
    with pytest.raises(OSError) as e:
        fcntl.ioctl(dt.fd, 0xD400FF, bytearray(8), True)
    assert e.value.errno == errno.ENOTTY


def test_enable_after_go_is_busy(dt: Consumer) -> None:
    dt.enable(begin_prog().build())
    dt.go()
    err, _ = dt.enable_raw(begin_prog().build())
    assert err == errno.EBUSY
    with pytest.raises(OSError) as e:
        dt.go()
    assert e.value.errno == errno.EBUSY


def test_state_errors(dt: Consumer) -> None:
    for call in (dt.stop, dt.status):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno in (errno.EINVAL, errno.ENOENT)
    with pytest.raises(OSError) as e:
        dt.bufsnap(0)
    assert e.value.errno == errno.ENOENT
    dt.enable(begin_prog().build())
    dt.go()
    with pytest.raises(OSError) as e:
        dt.bufsnap(1 << 20)
    assert e.value.errno == errno.EINVAL


PROG = "struct dtrace_prog"
ECBD = "struct dtrace_ecbdesc"
ACTD = "struct dtrace_actdesc"
DIFD = "struct dtrace_difodesc"


def refused(c: Consumer, buf: bytearray, err: int, *, size: int | None = None) -> Any:
    rc, de = c.enable_raw(buf, size)
    assert rc == errno.EINVAL, errno.errorcode.get(rc)
    assert de.de_err == err, (de.de_err, err)
    assert de.de_nmatched == 0
    return de


def hdr_patch(buf: bytearray, name: str, value: int) -> bytearray:
    patch(buf, field_off(PROG, name), "I", value)
    return buf


def test_refuse_header(dt: Consumer) -> None:
    good = begin_prog().build()
    refused(dt, good, lib.DTRACE_EPROG_HEADER, size=16)  # shorter than the header
    refused(dt, good, lib.DTRACE_EPROG_HEADER, size=len(good) + 8)  # more than dp_size
    refused(dt, hdr_patch(bytearray(good), "dp_magic", 0x12345678), lib.DTRACE_EPROG_HEADER)
    refused(dt, hdr_patch(bytearray(good), "dp_version", 99), lib.DTRACE_EPROG_HEADER)
    refused(dt, hdr_patch(bytearray(good), "dp_flags", 1), lib.DTRACE_EPROG_HEADER)
    bad = bytearray(good)
    patch(bad, field_off(PROG, "dp_reserved") + 8, "I", 1)
    refused(dt, bad, lib.DTRACE_EPROG_RESERVED)
    rc, de = dt.enable_raw(good, size=lib.DTRACE_PROG_MAXSIZE + 1)
    assert rc == errno.E2BIG
    # After all that the consumer still works.
    assert dt.enable(good) == 1


def test_refuse_enable_reserved(dt: Consumer) -> None:
    pbuf = ffi.new("char[]", bytes(begin_prog().build()))
    de = ffi.new("struct dtrace_enable *")
    de.de_prog = int(ffi.cast("uintptr_t", pbuf))
    de.de_size = len(pbuf)
    de.de_reserved[3] = 1
    with pytest.raises(OSError) as e:
        dt.ioctl(lib.DTRACEIOC_ENABLE, de)
    assert e.value.errno == errno.EINVAL
    assert de.de_err == lib.DTRACE_EPROG_RESERVED


def test_refuse_tables(dt: Consumer) -> None:
    prog = begin_prog()
    good = prog.build()
    size = len(good)
    refused(dt, hdr_patch(bytearray(good), "dp_ecboff", size - 8), lib.DTRACE_EPROG_BOUNDS)
    refused(dt, hdr_patch(bytearray(good), "dp_nacts", 1 << 13), lib.DTRACE_EPROG_BOUNDS)
    refused(dt, hdr_patch(bytearray(good), "dp_necbs", 1 << 20), lib.DTRACE_EPROG_BOUNDS)
    refused(dt, hdr_patch(bytearray(good), "dp_difooff", 0xFFFFFFF0), lib.DTRACE_EPROG_BOUNDS)
    refused(
        dt, hdr_patch(bytearray(good), "dp_ecboff", 8), lib.DTRACE_EPROG_BOUNDS
    )  # in the header
    off = prog.offsets
    refused(dt, hdr_patch(bytearray(good), "dp_actoff", off["act"] + 4), lib.DTRACE_EPROG_ALIGN)
    refused(dt, hdr_patch(bytearray(good), "dp_difooff", off["difo"] + 2), lib.DTRACE_EPROG_ALIGN)
    # DIFO tables: text misaligned, text out of bounds, int table misaligned.
    d0 = off["difo"]
    bad = bytearray(good)
    patch(bad, d0 + field_off(DIFD, "dd_textoff"), "I", off["data"][0][0] + 2)
    de = refused(dt, bad, lib.DTRACE_EPROG_ALIGN)
    assert de.de_difo == 0
    bad = bytearray(good)
    patch(bad, d0 + ffi.sizeof(DIFD) + field_off(DIFD, "dd_textlen"), "I", 1 << 16)
    de = refused(dt, bad, lib.DTRACE_EPROG_BOUNDS)
    assert de.de_difo == 1
    bad = bytearray(good)
    patch(bad, d0 + field_off(DIFD, "dd_intoff"), "I", off["data"][0][1] + 4)
    refused(dt, bad, lib.DTRACE_EPROG_ALIGN)


def test_refuse_ecbs_and_actions(dt: Consumer) -> None:
    prog = begin_prog()
    good = prog.build()
    e0, a0 = prog.offsets["ecb"], prog.offsets["act"]
    bad = bytearray(good)
    patch(bad, e0 + field_off(ECBD, "ed_pad"), "I", 1)
    de = refused(dt, bad, lib.DTRACE_EPROG_RESERVED)
    assert de.de_ecb == 0
    bad = bytearray(good)
    patch(
        bad,
        e0 + field_off(ECBD, "ed_probe") + field_off("struct dtrace_probedesc", "dtpd_id"),
        "I",
        1,
    )
    refused(dt, bad, lib.DTRACE_EPROG_RESERVED)
    bad = bytearray(good)
    patch(bad, e0 + field_off(ECBD, "ed_nacts"), "I", 3)  # past the action table
    de = refused(dt, bad, lib.DTRACE_EPROG_ECB)
    assert de.de_ecb == 0
    bad = bytearray(good)
    patch(bad, e0 + field_off(ECBD, "ed_pred"), "I", 2)  # no such DIFO
    refused(dt, bad, lib.DTRACE_EPROG_ECB)
    bad = bytearray(good)
    name = e0 + field_off(ECBD, "ed_probe") + field_off("struct dtrace_probedesc", "dtpd_name")
    bad[name : name + lib.DTRACE_NAMELEN] = b"x" * lib.DTRACE_NAMELEN  # no NUL
    refused(dt, bad, lib.DTRACE_EPROG_ECB)
    bad = bytearray(good)
    patch(bad, a0 + field_off(ACTD, "ad_kind"), "H", 0x7777)
    refused(dt, bad, lib.DTRACE_EPROG_ACTION)
    bad = bytearray(good)
    patch(bad, a0 + field_off(ACTD, "ad_difo"), "I", 5)
    refused(dt, bad, lib.DTRACE_EPROG_ACTION)
    bad = bytearray(good)
    patch(bad, a0 + ffi.sizeof(ACTD) + field_off(ACTD, "ad_pad"), "I", 1)
    refused(dt, bad, lib.DTRACE_EPROG_RESERVED)
    prog.opts = [(lib.DTRACEOPT_MAX, 1)]
    refused(dt, prog.build(), lib.DTRACE_EPROG_OPTION)
    prog.opts = [(lib.DTRACEOPT_BUFSIZE, -5)]
    refused(dt, prog.build(), lib.DTRACE_EPROG_OPTION)


def difo_refused(dt: Consumer, difo: Difo, err: int, pc: int | None) -> None:
    prog = begin_prog()
    prog.difos[1] = difo
    de = refused(dt, prog.build(), err)
    assert de.de_difo == 1
    assert de.de_offset == (NONE if pc is None else 4 * pc)


def test_refuse_bad_dif(dt: Consumer) -> None:
    nop = ins(lib.DIF_OP_NOP)
    difo_refused(dt, Difo([nop, 0xFF000000, ret(1)]), lib.DTRACE_EPROG_OPCODE, 1)
    difo_refused(dt, Difo([nop, ins(lib.DIF_OP_XLATE), ret(1)]), lib.DTRACE_EPROG_OPCODE, 1)
    difo_refused(
        dt, Difo([nop, branch(lib.DIF_OP_BA, 0), ret(1)]), lib.DTRACE_EPROG_BRANCH, 1
    )  # backward
    difo_refused(dt, Difo([nop, branch(lib.DIF_OP_BA, 1), ret(1)]), lib.DTRACE_EPROG_BRANCH, 1)
    difo_refused(dt, Difo([nop, branch(lib.DIF_OP_BE, 9), ret(1)]), lib.DTRACE_EPROG_BRANCH, 1)
    difo_refused(dt, Difo([setx(0, 0), ret(0)], ints=[1]), lib.DTRACE_EPROG_R0, 0)
    difo_refused(dt, Difo([setx(0, 9), ret(9)], ints=[1]), lib.DTRACE_EPROG_REG, 0)
    difo_refused(dt, Difo([setx(3, 1), ret(1)], ints=[1]), lib.DTRACE_EPROG_INTIDX, 0)
    difo_refused(dt, Difo([nop, nop]), lib.DTRACE_EPROG_RET, 1)
    difo_refused(dt, Difo([nop, ret(1)], strtab=b"abc"), lib.DTRACE_EPROG_STRTAB, None)
    difo_refused(dt, Difo([nop, ret(1)], size=3), lib.DTRACE_EPROG_RET, None)


def test_refused_program_leaves_nothing(dt: Consumer) -> None:
    # Second ECB description is bad: the first must not stay enabled.
    prog = begin_prog(extra=[Ecb(("", "", "", "END"), acts=(0, 1))])
    bad = prog.build()
    patch(bad, prog.offsets["ecb"] + ffi.sizeof(ECBD) + field_off(ECBD, "ed_pad2"), "I", 1)
    de = refused(dt, bad, lib.DTRACE_EPROG_RESERVED)
    assert de.de_ecb == 1
    with pytest.raises(OSError) as e:
        dt.eprobe(1)
    assert e.value.errno == errno.EINVAL
    assert dt.enable(begin_prog().build()) == 1
    assert dt.eprobe(1)[0].dtepd_probeid == 1


def test_mutated_programs_are_refused_or_run_safely() -> None:
    """Random byte flips: every outcome is a clean refusal or a clean run."""
    import random

    rng = random.Random(20261126)
    base = begin_prog(extra=[Ecb(("", "", "", "END"), acts=(0, 1), pred=1)])
    base.difos.append(
        Difo([setx(0, 1), ins(lib.DIF_OP_LDX, 1, 0, 2), ret(2)], ints=[0xFFFF888000000000], size=8)
    )
    base.acts.append(Act(lib.DTRACEACT_DIFEXPR, 2))
    base.ecbs.append(Ecb(("", "", "", "ERROR"), acts=(2, 1)))
    base.opts = [(lib.DTRACEOPT_BUFSIZE, 64 << 10)]
    good = base.build()
    accepted = 0
    for _ in range(300):
        buf = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        c = Consumer()
        try:
            err, de = c.enable_raw(buf)
            assert err in (0, errno.EINVAL, errno.E2BIG), errno.errorcode.get(err)
            if err:
                assert 1 <= de.de_err <= lib.DTRACE_EPROG_MAX
                continue
            accepted += 1
            try:
                cpu = c.go()
            except OSError as e:
                assert e.errno in (errno.ENOMEM, errno.ENOSPC)
                continue
            c.status()
            try:
                c.bufsnap(cpu, 1 << 30 >> 10)
            except OSError as e:
                assert e.errno == errno.ENOSPC  # bufsize was mutated upward
            c.stop()
        finally:
            c.close()
    assert accepted > 0


def test_tuple_stack_overflow_fault_is_reported_and_tracing_goes_on(dt: Consumer) -> None:
    """A fault D cannot produce (the compiler refuses more keys than tuple
    registers, as dtrace does): nine pushes.  The ERROR probe reports it
    with the text dtrace prints, and the next clause still records."""
    from pydtrace.consume.output import fault_message

    overflow = [setx(0, 1)] + [progbuild.push(False, 0, 0, 1)] * (lib.DIF_DTR_NREGS + 1)
    prog = Program(
        ecbs=[
            Ecb(("", "", "", "BEGIN"), acts=(0, 1)),
            Ecb(("", "", "", "BEGIN"), acts=(1, 1)),
            Ecb(("dtrace", "", "", "ERROR"), acts=(2, 5)),
        ],
        acts=[Act(lib.DTRACEACT_DIFEXPR, i) for i in range(7)],
        difos=[
            progbuild.Difo(overflow + [ret(1)], ints=[5], size=8),
            const_difo(7, size=8),
            *(
                progbuild.Difo([ldgs(v, 1), ret(1)], size=8)
                for v in (
                    lib.DIF_VAR_ARG1,
                    lib.DIF_VAR_ARG2,
                    lib.DIF_VAR_ARG3,
                    lib.DIF_VAR_ARG4,
                    lib.DIF_VAR_ARG5,
                )
            ),
        ],
    )
    assert dt.enable(prog.build()) == 3
    cpu = dt.go()
    data, bd = dt.bufsnap(cpu)
    assert bd.dtbd_errors == 1
    got = {epid: rec for epid, rec in records(data, dt)}
    assert sorted(got) == [2, 3]  # the faulting clause left nothing
    _, recs = dt.eprobe(2)
    assert struct.unpack_from("<Q", got[2], recs[0].dtrd_offset)[0] == 7
    _, recs = dt.eprobe(3)
    epid, act, off, flt, addr = (struct.unpack_from("<Q", got[3], r.dtrd_offset)[0] for r in recs)
    assert (epid, act, off, flt) == (1, 1, 4 * (lib.DIF_DTR_NREGS + 1), lib.DTRACEFLT_TUPOFLOW)
    probe = SimpleNamespace(id=1, fullname="dtrace:::BEGIN")
    assert fault_message(epid, probe, act, off, flt, addr) == (  # type: ignore[arg-type]
        "error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        "tuple stack overflow in action #1 at DIF offset 36"
    )
