"""The consumer on synthetic buffers: record walking, value decoding, dtrace(1)'s
output formats, printf, and the loop's CPU order, with a fake device."""

from __future__ import annotations

import ctypes
import dataclasses
import io
import os
import struct

import pytest

from pydtrace import fmt
from pydtrace.abi import DTRACE_UARG_ERROR, ffi, lib
from pydtrace.api import ERROR_CLAUSE
from pydtrace.compiler import Compiler
from pydtrace.consume import records
from pydtrace.consume.loop import ConsumeError, Printer, Session
from pydtrace.consume.output import (
    HEADER,
    LIST_HEADER,
    agg_drops,
    cpu_drops,
    hexdump,
    list_line,
    print_bytes,
    probe_line,
    status_drops,
    trace_value,
)
from pydtrace.consume.printf import PrintfError, c_int, format_printf
from pydtrace.runtime import BufSnapshot, EProbe, ProbeDesc, RecDesc, Status

BEGIN = ProbeDesc(1, "dtrace", "", "", "BEGIN")
END = ProbeDesc(2, "dtrace", "", "", "END")
TICK = ProbeDesc(7, "profile", "", "", "tick-1s")

_libc = ctypes.CDLL(None)


def c_snprintf(spec: bytes, *args: object) -> bytes:
    """The real C library's output, as the oracle for the Python conversions."""
    buf = ctypes.create_string_buffer(512)
    _libc.snprintf(buf, 512, spec, *args)
    return buf.value


# -- building buffers -------------------------------------------------------------


def recdesc(action: int, size: int, offset: int, fmtidx: int = 0) -> RecDesc:
    """A RecDesc as the module reports it, via the real struct."""
    r = ffi.new("struct dtrace_recdesc *")
    r.dtrd_action, r.dtrd_size, r.dtrd_offset = action, size, offset
    r.dtrd_alignment = 8 if size % 8 == 0 and size else 4
    r.dtrd_format = fmtidx
    return RecDesc(
        r.dtrd_action,
        r.dtrd_size,
        r.dtrd_offset,
        r.dtrd_alignment,
        r.dtrd_format,
        r.dtrd_arg,
        r.dtrd_uarg,
    )


def layout(epid: int, probeid: int, recs: list[tuple[int, int, int]]) -> EProbe:
    """An EProbe laid out as the module does: (action, size, format) records
    after the record header (struct dtrace_rechdr: EPID, timestamp), each
    aligned to the largest of 8/4/2/1 dividing it."""
    off, out = ffi.sizeof("struct dtrace_rechdr"), []
    for action, size, fmtidx in recs:
        align = next((a for a in (8, 4, 2, 1) if size and size % a == 0), 1)
        if size:
            off = (off + align - 1) // align * align
        out.append(recdesc(action, size, off, fmtidx))
        off += size
    return EProbe(epid, probeid, 0, (off + 3) // 4 * 4, tuple(out))


def rechdr(epid: int, timestamp: int = 0) -> bytes:
    """A record header as the module writes it, via the real struct."""
    h = ffi.new("struct dtrace_rechdr *")
    h.dtrh_epid = epid
    h.dtrh_timestamp_hi, h.dtrh_timestamp_lo = timestamp >> 32, timestamp & 0xFFFFFFFF
    return bytes(ffi.buffer(h))


def ecb_bytes(ep: EProbe, values: list[bytes], timestamp: int = 0) -> bytes:
    buf = bytearray(ep.size)
    hdr = rechdr(ep.epid, timestamp)
    buf[: len(hdr)] = hdr
    for r, v in zip(ep.recs, values, strict=True):
        assert len(v) == r.size
        buf[r.offset : r.offset + r.size] = v
    return bytes(buf)


def strrec(s: bytes, strsize: int = 256) -> bytes:
    return s.ljust(strsize, b"\0")


DIFEXPR, PRINTF, EXIT = lib.DTRACEACT_DIFEXPR, lib.DTRACEACT_PRINTF, lib.DTRACEACT_EXIT


class FakeDevice:
    """Plays the module's side of the protocol from canned per-CPU buffers."""

    def __init__(self, eprobes: dict[int, EProbe], ncpus: int = 2) -> None:
        self.eprobes = eprobes
        self.ncpus = ncpus
        self.probes = {p.id: p for p in (BEGIN, END, TICK)}
        self.buffers: dict[int, list[bytes]] = {c: [] for c in range(ncpus)}
        self.drops: dict[int, int] = {}
        self.begin_cpu = 0
        self.end_cpu = 0
        self.on_go: dict[int, bytes] = {}
        self.on_stop: dict[int, bytes] = {}
        self.exiting = False
        self.stopped = False
        self.log: list[str] = []

    def conf(self):
        return type("Conf", (), {"maxcpus": self.ncpus})()

    def probe(self, probeid: int) -> ProbeDesc:
        return self.probes[probeid]

    def eprobe(self, epid: int) -> EProbe:
        return self.eprobes[epid]

    def go(self) -> int:
        for cpu, data in self.on_go.items():
            self.buffers[cpu].append(data)
        self.log.append("go")
        return self.begin_cpu

    def stop(self) -> int:
        for cpu, data in self.on_stop.items():
            self.buffers[cpu].append(data)
        self.stopped = True
        self.log.append("stop")
        return self.end_cpu

    def status(self) -> Status:
        self.log.append("status")
        return Status(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, self.exiting and not self.stopped, 2)

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        data = b"".join(self.buffers[cpu])
        self.buffers[cpu] = []
        self.log.append(f"snap{cpu}")
        return BufSnapshot(cpu, data, self.drops.pop(cpu, 0), 0, 0, 0)


# -- records ----------------------------------------------------------------------

IMPLS = [(records.py_walk, records.py_read_int, records.py_read_cstr)]
try:
    from pydtrace.consume import _records

    IMPLS.append((_records.walk, _records.read_int, _records.read_cstr))
except ImportError:  # pragma: no cover - the extension is built by setup.py
    pass


@pytest.mark.parametrize("walk,read_int,read_cstr", IMPLS)
def test_walk_skips_padding_and_finds_each_record(walk, read_int, read_cstr):
    a = layout(1, 1, [(DIFEXPR, 4, 0)])
    b = layout(2, 7, [(DIFEXPR, 8, 0)])
    buf = ecb_bytes(a, [struct.pack("=i", -5)]) + b"\0" * 4 + ecb_bytes(b, [struct.pack("=q", 9)])
    sizes = {1: a.size, 2: b.size}
    found = walk(buf, 0, len(buf), sizes.__getitem__)
    assert found == [(0, 1), (a.size + 4, 2)]
    hdr = ffi.sizeof("struct dtrace_rechdr")
    assert a.recs[0].offset == hdr == 12  # the first record follows the header
    assert read_int(buf, hdr, 4, True) == -5
    assert read_int(buf, hdr, 4, False) == 2**32 - 5
    assert read_int(buf, found[1][0] + b.recs[0].offset, 8, True) == 9


@pytest.mark.parametrize("walk,read_int,read_cstr", IMPLS)
def test_walk_rejects_a_record_smaller_than_its_header(walk, read_int, read_cstr):
    buf = rechdr(1, 5) + bytes(4)
    assert walk(buf, 0, len(buf), lambda epid: 12) == [(0, 1)]
    with pytest.raises(ValueError):
        walk(buf, 0, len(buf), lambda epid: 8)


def test_record_timestamp_is_the_header_s_two_halves():
    a = layout(1, 1, [(DIFEXPR, 4, 0)])
    b = layout(2, 1, [])
    ts = [(7 << 32) | 0xFFFFFFFF, 2**64 - 1, 0]
    data = (
        ecb_bytes(a, [i32(1)], timestamp=ts[0])
        + ecb_bytes(b, [], timestamp=ts[1])
        + ecb_bytes(a, [i32(2)], timestamp=ts[2])
    )
    got = records.ecb_records(0, data, 0, {1: a, 2: b}.__getitem__)
    assert [r.timestamp for r in got] == ts
    # the header is the module's struct, hi word first
    assert struct.unpack_from("=III", data, 0) == (1, 7, 0xFFFFFFFF)


@pytest.mark.parametrize("walk,read_int,read_cstr", IMPLS)
def test_walk_rejects_a_record_running_past_the_end(walk, read_int, read_cstr):
    buf = struct.pack("=II", 3, 0)
    with pytest.raises(ValueError):
        walk(buf, 0, len(buf), lambda epid: 16)
    with pytest.raises(ValueError):
        read_int(buf, 6, 4, False)


@pytest.mark.parametrize("walk,read_int,read_cstr", IMPLS)
def test_integers_of_every_size_and_strings(walk, read_int, read_cstr):
    buf = bytes([0xFE]) + struct.pack("=h", -2) + struct.pack("=q", -(2**63)) + b"ab\0cd"
    assert read_int(buf, 0, 1, True) == -2
    assert read_int(buf, 0, 1, False) == 254
    assert read_int(buf, 1, 2, True) == -2
    assert read_int(buf, 1, 2, False) == 65534
    assert read_int(buf, 3, 8, True) == -(2**63)
    assert read_int(buf, 3, 8, False) == 2**63
    assert read_cstr(buf, 11, 5) == b"ab"
    assert read_cstr(buf, 14, 2) == b"cd"
    with pytest.raises(ValueError):
        read_int(buf, 0, 3, False)


def test_cython_and_python_walkers_agree_on_a_mixed_buffer():
    if len(IMPLS) < 2:
        pytest.skip("Cython extension not built")
    eps = {i: layout(i, 1, [(DIFEXPR, 4 * i, 0)]) for i in range(1, 6)}
    buf = b"".join(
        ecb_bytes(eps[i], [bytes(range(4 * i))]) + b"\0\0\0\0" * (i % 2) for i in range(1, 6)
    )
    size_of = lambda epid: eps[epid].size  # noqa: E731
    assert IMPLS[0][0](buf, 0, len(buf), size_of) == IMPLS[1][0](buf, 0, len(buf), size_of)


def test_ecb_records_of_a_wrapped_ring_start_at_the_oldest():
    a = layout(1, 1, [(DIFEXPR, 4, 0)])
    b = layout(2, 1, [(DIFEXPR, 4, 0)])
    first = ecb_bytes(b, [b"\1\0\0\0"])
    data = first + ecb_bytes(a, [b"\2\0\0\0"])
    got = records.ecb_records(3, data, len(first), {1: a, 2: b}.__getitem__)
    assert [(r.offset, r.eprobe.epid, r.cpu) for r in got] == [(len(first), 1, 3), (0, 2, 3)]


# -- default output ------------------------------------------------------------------


def test_header_and_probe_lines_have_dtrace_widths():
    assert HEADER == b"CPU     ID                    FUNCTION:NAME\n"
    assert probe_line(0, BEGIN) == b"  0      1                           :BEGIN "
    assert probe_line(12, ProbeDesc(4711, "fbt", "vmlinux", "vfs_read", "entry")) == (
        b" 12   4711 " + b" " * 18 + b"vfs_read:entry "
    )
    assert LIST_HEADER == (
        b"   ID   PROVIDER            MODULE                          FUNCTION NAME\n"
    )
    assert list_line(BEGIN) == b"    1     dtrace " + b" " * 17 + b" " + b" " * 33 + b" BEGIN\n"


def test_trace_integers_follow_dtrace_size_rules():
    assert trace_value(struct.pack("=q", -1), False) == b" " + b"-1".rjust(16)
    assert trace_value(struct.pack("=q", -1), True) == b"-1"
    assert trace_value(struct.pack("=i", -7), False) == b"       -7"
    assert trace_value(struct.pack("=h", -1), False) == b" 65535"  # read as u16
    assert trace_value(struct.pack("=b", -2), False) == b" 254"  # read as u8
    assert trace_value(struct.pack("=b", -2), True) == b"254"


def test_trace_strings_are_padded_to_33_columns():
    assert trace_value(strrec(b"hello"), False) == b"  hello" + b" " * 28
    assert trace_value(strrec(b"hello"), True) == b"hello"
    # all printable and no NUL: the bytes themselves, also padded
    assert print_bytes(b"abc", -33, False) == b"  abc" + b" " * 30
    # width 50 as aggregation keys use it: right-justified after " "
    assert print_bytes(b"ab\0\0", 50, False) == b" " + b"ab".rjust(50)


def test_bytes_that_are_not_a_string_are_hex_dumped():
    raw = b"\x01\x02AB"
    want = (
        b"\n"
        + b" " * 11
        + b"".join(b"  %c" % c for c in b"0123456789abcdef")
        + b"  0123456789abcdef\n"
        + b"         0: 01 02 41 42"
        + b"   " * 12
        + b"  ..AB\n"
    )
    assert print_bytes(raw, -33, False) == want
    assert hexdump(raw) == want
    # the empty string (NUL at offset 0) and data after the NUL are not strings
    assert print_bytes(b"\0" * 4, -33, False).startswith(b"\n")
    assert print_bytes(b"ab\0c", -33, True).startswith(b"\n")
    assert print_bytes(b"ab\0\0", -33, False, rawbytes=True).startswith(b"\n")
    assert print_bytes(b"", -33, False) == b""


def test_drop_messages():
    assert cpu_drops(1, 0) == "1 drop on CPU 0"
    assert cpu_drops(5, 3) == "5 drops on CPU 3"
    old = Status(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, False, 2)
    new = Status(3, 0, 0, 1, 0, 0, 0, 0, 0, 0, False, False, 2)
    assert status_drops(old, new) == ["2 dynamic variable drops", "1 speculative drop"]
    assert status_drops(new, new) == []


def test_drop_messages_with_droptags():
    assert cpu_drops(2, 1, tags=True) == "[DTRACEDROP_PRINCIPAL] 2 drops on CPU 1"
    assert agg_drops(1, 0, tags=True) == "[DTRACEDROP_AGGREGATION] 1 aggregation drop on CPU 0"
    every = Status(1, 2, 3, 4, 5, 6, 0, 0, 7, 8, False, False, 2)
    assert status_drops(None, every, tags=True) == [
        "[DTRACEDROP_DYNAMIC] 1 dynamic variable drop",
        "[DTRACEDROP_DYNRINSE] 2 dynamic variable drops with non-empty rinsing list",
        "[DTRACEDROP_DYNDIRTY] 3 dynamic variable drops with non-empty dirty list",
        "[DTRACEDROP_SPEC] 4 speculative drops",
        "[DTRACEDROP_SPECBUSY] 5 failed speculations (available buffer(s) still busy)",
        "[DTRACEDROP_SPECUNAVAIL] 6 failed speculations (no speculative buffer available)",
        "[DTRACEDROP_STKSTROVERFLOW] 7 jstack()/ustack() string table overflows",
        "[DTRACEDROP_DBLERROR] 8 errors in ERROR probe enabling",
    ]
    assert [m.split("] ", 1)[1] for m in status_drops(None, every, tags=True)] == status_drops(
        None, every
    )


# -- printf ---------------------------------------------------------------------------


def pf(text: str, signs: list[bool], args: list[bytes]) -> bytes:
    return format_printf(fmt.with_signs(fmt.parse(text), signs), args)


def i32(v: int) -> bytes:
    return struct.pack("=i", v)


def i64(v: int) -> bytes:
    return struct.pack("=q", v)


@pytest.mark.parametrize(
    "spec",
    [
        "%d",
        "%5d",
        "%-5d",
        "%05d",
        "%+d",
        "% d",
        "%.3d",
        "%8.3d",
        "%.0d",
        "%x",
        "%#x",
        "%#o",
        "%o",
        "%X",
        "%#8X",
        "%-#10x",
        "%u",
        "%08.3x",
        "%+05d",
        "%#.0o",
    ],
)
@pytest.mark.parametrize("value", [0, 1, -1, 42, -12345, 2**31 - 1, -(2**31)])
def test_integer_conversions_match_the_c_library(spec, value):
    conv = spec[-1]
    c = fmt.parse(spec).pieces[0]
    signed = conv in "di"
    v = value if signed else value & 0xFFFFFFFF
    want = c_snprintf(spec.encode(), ctypes.c_int(value) if signed else ctypes.c_uint(v))
    assert c_int(v, "d" if conv == "d" else conv, c.flags, c.width, c.precision) == want


def test_printf_reads_arguments_by_size_and_sign():
    assert pf("%d %s\n", [True, False], [i32(42), strrec(b"ok")]) == b"42 ok\n"
    # the same bits, unsigned argument type: printed as %u
    assert pf("%d", [False], [i32(-1)]) == b"4294967295"
    assert pf("%d", [True], [i64(-(2**63))]) == b"-9223372036854775808"
    assert pf("%x", [False], [i32(-1)]) == b"ffffffff"
    assert pf("%x", [False], [i64(-1)]) == b"ffffffffffffffff"
    assert pf("%d", [True], [b"\xfe"]) == b"-2"
    assert pf("%p", [False], [i64(0xFFFF8000DEAD)]) == b"ffff8000dead"


def test_printf_strings_chars_and_literals():
    assert pf("[%-6s|%6s|%.2s]", [False] * 3, [strrec(b"ab")] * 3) == b"[ab    |    ab|ab]"
    assert pf("%c%c", [True, True], [b"A", i32(ord("z"))]) == b"Az"
    assert pf("%3c|", [True], [b"x"]) == b"  x|"
    assert pf("100%% %S", [False], [strrec(b"a\tb\n")]) == b"100% a\\tb\\n"
    assert pf("no args\n", [], [b""]) == b"no args\n"


def test_printf_star_width_and_precision_come_first():
    assert pf("%*d|", [True, True], [i32(5), i32(42)]) == b"   42|"
    assert pf("%*d|", [True, True], [i32(-5), i32(42)]) == b"42   |"
    assert pf("%.*s|", [True, False], [i32(2), strrec(b"abcdef")]) == b"ab|"
    with pytest.raises(PrintfError):
        pf("%d %d", [True, True], [i32(1)])


# -- the printer and the loop -----------------------------------------------------------


def make_printer(dev: FakeDevice, formats: list[fmt.Format], quiet: bool) -> Printer:
    return Printer(dev, formats, io.BytesIO(), quiet=quiet)


def test_printer_default_line_trace_and_exit():
    ep = layout(1, 1, [(DIFEXPR, 256, 0), (EXIT, 4, 0)])
    dev = FakeDevice({1: ep})
    p = make_printer(dev, [], quiet=False)
    data = ecb_bytes(ep, [strrec(b"hello"), i32(0)])
    for r in records.ecb_records(0, data, 0, dev.eprobe):
        p.ecb(r)
    assert p.out.getvalue() == (
        HEADER + b"  0      1                           :BEGIN   hello" + b" " * 28 + b"\n"
    )
    assert p.exit_status == 0


def test_printer_groups_printf_records_by_format():
    f1 = fmt.with_signs(fmt.parse("%d %s\n"), [True, False])
    f2 = fmt.parse("second\n")
    ep = layout(
        1,
        1,
        [(PRINTF, 4, 1), (PRINTF, 256, 0), (PRINTF, 0, 2), (DIFEXPR, 0, 0), (EXIT, 4, 0)],
    )
    dev = FakeDevice({1: ep})
    p = make_printer(dev, [f1, f2], quiet=True)
    data = ecb_bytes(ep, [i32(42), strrec(b"ok"), b"", b"", i32(3)])
    for r in records.ecb_records(0, data, 0, dev.eprobe):
        p.ecb(r)
    assert p.out.getvalue() == b"42 ok\nsecond\n"
    assert p.exit_status == 3


def test_printer_reports_a_printf_that_does_not_fit_its_records():
    ep = layout(1, 1, [(PRINTF, 4, 1)])
    dev = FakeDevice({1: ep})
    p = make_printer(dev, [fmt.parse("%d %d")], quiet=True)
    (r,) = records.ecb_records(0, ecb_bytes(ep, [i32(1)]), 0, dev.eprobe)
    with pytest.raises(ConsumeError, match=r"error on enabled probe ID 1 \(ID 1: dtrace:::BEGIN\)"):
        p.ecb(r)


def run_session(dev: FakeDevice, formats: list[fmt.Format], quiet: bool = True):
    out = io.BytesIO()
    warnings: list[str] = []
    s = Session(dev, Printer(dev, formats, out, quiet=quiet), bufsize=4096, warn=warnings.append)
    s.go()
    status = s.run(lambda: False)
    return status, out.getvalue(), warnings


def test_session_prints_begin_first_and_end_last_on_the_same_cpu():
    fb, fm, fe = fmt.parse("begin\n"), fmt.parse("middle\n"), fmt.parse("end\n")
    epb = layout(1, 1, [(PRINTF, 0, 1), (EXIT, 4, 0)])
    epm = layout(2, 7, [(PRINTF, 0, 2)])
    epe = layout(3, 2, [(PRINTF, 0, 3)])
    dev = FakeDevice({1: epb, 2: epm, 3: epe})
    dev.begin_cpu = dev.end_cpu = 1
    dev.on_go = {1: ecb_bytes(epb, [b"", i32(4)]), 0: ecb_bytes(epm, [b""])}
    dev.on_stop = {1: ecb_bytes(epe, [b""])}
    dev.exiting = True  # BEGIN called exit()
    status, out, warnings = run_session(dev, [fb, fm, fe])
    assert out == b"begin\nmiddle\nend\n"
    assert status == 4
    assert dev.log[:3] == ["go", "status", "stop"]
    assert warnings == []


def test_session_reports_drops_per_cpu_and_stops_on_exit():
    ep = layout(1, 1, [(EXIT, 4, 0)])
    dev = FakeDevice({1: ep})
    dev.on_go = {0: ecb_bytes(ep, [i32(0)])}
    dev.drops = {1: 3}
    dev.exiting = True
    status, out, warnings = run_session(dev, [], quiet=False)
    assert status == 0
    assert out == HEADER + probe_line(0, BEGIN) + b"\n"
    assert warnings == ["3 drops on CPU 1"]
    assert "stop" in dev.log


def test_session_stops_when_interrupted():
    dev = FakeDevice({})
    out = io.BytesIO()
    s = Session(dev, Printer(dev, [], out), bufsize=4096, warn=print)
    s.go()
    assert s.run(lambda: True) is None
    assert dev.stopped and out.getvalue() == b""


# -- fault reports (the library's ERROR clause) -------------------------------------------


def error_layout(epid: int) -> EProbe:
    """The library's ERROR ECB: trace(arg1) .. trace(arg5), marked by its uarg."""
    ep = layout(epid, 3, [(DIFEXPR, 8, 0)] * 5)
    return dataclasses.replace(ep, uarg=DTRACE_UARG_ERROR)


def report(dev: FakeDevice, epid: int, args: list[int], quiet: bool = False):
    out, warnings = io.BytesIO(), []
    p = Printer(dev, [], out, quiet=quiet, warn=warnings.append)
    data = ecb_bytes(dev.eprobes[epid], [struct.pack("=q", a) for a in args])
    for r in records.ecb_records(0, data, 0, dev.eprobe):
        p.ecb(r)
    return out.getvalue(), warnings


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (
            [1, 1, 16, lib.DTRACEFLT_DIVZERO, 0],
            "divide-by-zero in action #1 at DIF offset 16",
        ),
        (
            [2, 3, 8, lib.DTRACEFLT_BADADDR, 8],
            "invalid address (0x8) in action #3 at DIF offset 8",
        ),
        (
            [1, 0, 4, lib.DTRACEFLT_BADALIGN, -2],
            "invalid alignment (0xfffffffffffffffe) in predicate at DIF offset 4",
        ),
        (
            [2, 2, -1, lib.DTRACEFLT_KPRIV, 0x1000],
            "invalid kernel access in action #2",
        ),
        ([1, 1, 0, 77, 0], "unknown fault in action #1 at DIF offset 0"),
    ],
)
def test_error_records_are_reported_as_faults(args, text):
    dev = FakeDevice(
        {
            1: layout(1, 1, [(DIFEXPR, 8, 0)]),
            2: layout(2, 7, [(DIFEXPR, 8, 0)]),
            5: error_layout(5),
        }
    )
    out, warnings = report(dev, 5, args)
    probe = dev.probe(dev.eprobe(args[0]).probeid)
    assert out == b""  # no header, no probe line: not user output
    assert warnings == [
        f"error on enabled probe ID {args[0]} (ID {probe.id}: {probe.fullname}): {text}"
    ]


def test_a_user_error_clause_prints_as_written():
    user = layout(4, 3, [(DIFEXPR, 8, 0)] * 5)  # same records, no marker
    dev = FakeDevice({1: layout(1, 1, []), 4: user})
    dev.probes[3] = ProbeDesc(3, "dtrace", "", "", "ERROR")
    out, warnings = report(dev, 4, [1, 1, 16, lib.DTRACEFLT_DIVZERO, 0], quiet=True)
    assert out == b"111640"
    assert warnings == []


def test_the_library_error_clause_carries_the_marker():
    marked = Compiler().compile(
        ERROR_CLAUSE, kind="probe", label="ERROR", uarg=DTRACE_UARG_ERROR
    ).data
    hdr = ffi.cast("struct dtrace_prog *", ffi.from_buffer(marked))
    assert hdr.dp_necbs == 1
    ed = ffi.cast(
        "struct dtrace_ecbdesc *", ffi.cast("char *", ffi.from_buffer(marked)) + hdr.dp_ecboff
    )
    assert ed.ed_uarg == DTRACE_UARG_ERROR
    assert ffi.string(ed.ed_probe.dtpd_name) == b"ERROR"


# -- status polling at statusrate -------------------------------------------------------


class FakeClock:
    """loop's view of time: monotonic_ns, and a sleep that moves it on."""

    def __init__(self) -> None:
        self.now = 1_000_000_000

    def monotonic_ns(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += max(round(seconds * 1e9), 1)


class ClockedDevice(FakeDevice):
    """exit() happens at exit_at ns after GO; records when status and
    snapshots are taken (ns after GO)."""

    def __init__(self, clock: FakeClock, exit_at: int) -> None:
        super().__init__({})
        self.clock = clock
        self.exit_at = exit_at
        self.started = 0
        self.polls: list[int] = []
        self.snaps: list[int] = []

    def go(self) -> int:
        self.started = self.clock.now
        return super().go()

    def status(self) -> Status:
        self.polls.append(self.clock.now - self.started)
        self.exiting = self.clock.now - self.started >= self.exit_at
        return super().status()

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        if cpu == 0:
            self.snaps.append(self.clock.now - self.started)
        return super().bufsnap(cpu, size)


def clocked_session(monkeypatch, exit_at: int, **kw: int) -> tuple[ClockedDevice, Session]:
    from pydtrace.consume import loop

    clock = FakeClock()
    monkeypatch.setattr(loop, "time", clock)
    dev = ClockedDevice(clock, exit_at)
    s = Session(dev, Printer(dev, [], io.BytesIO()), bufsize=4096, warn=print, **kw)  # type: ignore[arg-type]
    s.go()
    return dev, s


MS = 1_000_000


def test_status_is_polled_once_per_statusrate_and_exit_seen_there(monkeypatch):
    # the first poll is at once; exit() at 3.5 s is seen by the poll at 4 s,
    # then STOP and the final status
    dev, s = clocked_session(monkeypatch, 3500 * MS)
    s.run(lambda: False)
    assert dev.polls == [0, 1000 * MS, 2000 * MS, 3000 * MS, 4000 * MS, 4000 * MS]
    assert dev.log.count("stop") == 1
    i = dev.log.index("stop")
    assert dev.log[i - 1] == dev.log[i + 1] == "status"


def test_statusrate_sets_the_poll_interval(monkeypatch):
    dev, s = clocked_session(monkeypatch, 3500 * MS, statusrate=250 * MS)
    s.run(lambda: False)
    assert dev.polls == [i * 250 * MS for i in range(15)] + [3500 * MS]


def test_status_polls_keep_their_rate_when_switches_are_faster(monkeypatch):
    dev, s = clocked_session(monkeypatch, 2500 * MS, switchrate=100 * MS)
    s.run(lambda: False)
    assert dev.polls == [0, 1000 * MS, 2000 * MS, 3000 * MS, 3000 * MS]
    # a buffer snapshot every 100 ms in between (the first pass reads the
    # BEGIN CPU first, then every CPU); the last one, at 3 s, is the final drain
    assert dev.snaps == [0] + [i * 100 * MS for i in range(31)]


def test_statusrate_is_capped_at_ten_seconds(monkeypatch):
    dev, s = clocked_session(monkeypatch, 25_000 * MS, statusrate=60_000 * MS)
    assert s.statusrate == 10_000 * MS
    s.run(lambda: False)
    assert dev.polls == [0, 10_000 * MS, 20_000 * MS, 30_000 * MS, 30_000 * MS]


def test_an_interrupt_is_seen_before_the_next_status_poll(monkeypatch):
    # an interrupt (Ctrl-C, the -c process gone) at 300 ms stops tracing well
    # before the poll due at 1 s, as dtrace(1) is woken by its signal handler
    dev, s = clocked_session(monkeypatch, 10**12)
    clock = dev.clock
    s.run(lambda: clock.now - dev.started >= 300 * MS)
    assert dev.stopped
    assert dev.polls[0] == 0
    assert len(dev.polls) == 2 and 300 * MS <= dev.polls[1] < 400 * MS


class FillingDevice(ClockedDevice):
    """CPU 0's buffer holds ``fill`` bytes of padding at each snapshot taken
    before ``busy_until`` ns after GO, then nothing; a snapshot takes 5 ms."""

    def __init__(self, clock: FakeClock, exit_at: int, fill: int, busy_until: int) -> None:
        super().__init__(clock, exit_at)
        self.fill = fill
        self.busy_until = busy_until

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        snap = super().bufsnap(cpu, size)
        self.clock.now += 5 * MS
        if cpu == 0 and self.clock.now - self.started < self.busy_until:
            return BufSnapshot(cpu, b"\0" * self.fill, 0, 0, 0, 0)
        return snap


@pytest.mark.parametrize("fill,hurried", [(2048, True), (2047, False)])
def test_a_half_full_buffer_brings_the_next_pass_forward(monkeypatch, fill, hurried):
    # passes are due every switchrate (1 s), but after one that found a
    # buffer at least half full the next comes at once; back to 1 s once
    # the buffers are less than half full
    from pydtrace.consume import loop

    clock = FakeClock()
    monkeypatch.setattr(loop, "time", clock)
    dev = FillingDevice(clock, 2500 * MS, fill, busy_until=1500 * MS)
    s = Session(dev, Printer(dev, [], io.BytesIO()), bufsize=4096, warn=print)  # type: ignore[arg-type]
    s.go()
    s.run(lambda: False)
    between = [t for t in dev.snaps if 20 * MS < t < 1000 * MS]  # after the first pass
    if hurried:
        assert len(between) >= 10
        assert [t for t in dev.snaps if 1500 * MS < t < 2000 * MS] == []
    else:
        assert between == []


class PolledDevice(ClockedDevice):
    """A device the loop can poll(): readable from ``ready_at`` ns after GO
    (CPU 0's buffer past half) until CPU 0's next snapshot."""

    def __init__(self, clock: FakeClock, exit_at: int, ready_at: int) -> None:
        super().__init__(clock, exit_at)
        self.ready_at = ready_at
        self.waits: list[int] = []  # poll timeouts asked for, ms

    def fileno(self) -> int:
        return 99

    def ready(self) -> bool:
        return self.started > 0 and self.clock.now - self.started >= self.ready_at

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        if cpu == 0 and self.ready():
            self.ready_at = 10**15  # switched out: the new half is empty
        return super().bufsnap(cpu, size)


class FakeSelect:
    """select.poll() over a PolledDevice: a wait that is not woken moves the
    fake clock on by its timeout."""

    POLLIN = 1

    def __init__(self, dev: PolledDevice) -> None:
        self.dev = dev
        self.registered: list[tuple[int, int]] = []

    def poll(self) -> FakeSelect:
        return self

    def register(self, fd: int, events: int) -> None:
        self.registered.append((fd, events))

    def __call__(self, timeout_ms: int) -> list[tuple[int, int]]:
        self.dev.waits.append(timeout_ms)
        step = 1 * MS
        for _ in range(timeout_ms):
            if self.dev.ready():
                return [(99, self.POLLIN)]
            self.dev.clock.now += step
        return [(99, self.POLLIN)] if self.dev.ready() else []


def polled_session(monkeypatch, ready_at: int, **kw: int) -> tuple[PolledDevice, Session]:
    from pydtrace.consume import loop

    clock = FakeClock()
    monkeypatch.setattr(loop, "time", clock)
    dev = PolledDevice(clock, 2500 * MS, ready_at)
    sel = FakeSelect(dev)
    sel.poll = lambda: type("P", (), {"register": sel.register, "poll": sel})()  # type: ignore[method-assign]
    monkeypatch.setattr(loop, "select", sel)
    s = Session(dev, Printer(dev, [], io.BytesIO()), bufsize=4096, warn=print, **kw)  # type: ignore[arg-type]
    s.go()
    return dev, s


def test_a_buffer_past_half_wakes_the_loop_before_its_switchrate(monkeypatch):
    # the module makes the device readable when a buffer passes half full:
    # the pass comes then (300 ms), not at the 1 s switchrate; the next
    # one a switchrate after it
    dev, s = polled_session(monkeypatch, 300 * MS)
    s.run(lambda: False)
    assert dev.snaps[:2] == [0, 0]
    assert 300 * MS <= dev.snaps[2] < 301 * MS
    assert dev.snaps[3] == dev.snaps[2] + 1000 * MS
    assert dev.waits and max(dev.waits) <= loop_wake_ms()


def test_without_a_wakeup_the_passes_keep_the_switchrate(monkeypatch):
    dev, s = polled_session(monkeypatch, 10**15)
    s.run(lambda: False)
    assert [t for t in dev.snaps if t % (1000 * MS)] == []


def test_fill_buffers_are_not_polled(monkeypatch):
    # a fill buffer is read once, at the end: nothing to wake for
    dev, s = polled_session(monkeypatch, 300 * MS, bufpolicy=lib.DTRACEOPT_BUFPOLICY_FILL)
    s.run(lambda: False)
    assert dev.waits == []


def loop_wake_ms() -> int:
    from pydtrace.consume import loop

    return loop.WAKE_NS // MS


class AggClockedDevice(ClockedDevice):
    """Also records when aggregation buffers are snapshotted (CPU 0)."""

    def __init__(self, clock: FakeClock, exit_at: int) -> None:
        super().__init__(clock, exit_at)
        self.aggsnaps: list[int] = []
        self.aggsizes: list[int] = []

    def aggsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        if cpu == 0:
            self.aggsnaps.append(self.clock.now - self.started)
            self.aggsizes.append(size)
        return None


def test_aggregations_are_snapshotted_once_per_aggrate(monkeypatch):
    from pydtrace.consume import loop
    from pydtrace.consume.aggregate import Aggregations

    clock = FakeClock()
    monkeypatch.setattr(loop, "time", clock)
    dev = AggClockedDevice(clock, 2500 * MS)
    aggs = Aggregations(lambda aggid: None)  # type: ignore[arg-type,return-value]
    printer = Printer(dev, [], io.BytesIO(), aggs=aggs)
    s = Session(
        dev, printer, bufsize=4096, aggsize=64 << 10, aggrate=400 * MS, warn=print
    )  # type: ignore[arg-type]
    s.go()
    s.run(lambda: False)
    # every 400 ms from GO until the exit() seen at the 3 s status poll, and
    # once more, forced, for the final drain after STOP
    assert dev.aggsnaps == [i * 400 * MS for i in range(8)] + [3000 * MS]
    assert set(dev.aggsizes) == {64 << 10}


class PinnedDevice(FakeDevice):
    """Records the CPUs the calling thread may run on at GO and STOP."""

    def __init__(self) -> None:
        super().__init__({})
        self.affinity: dict[str, set[int]] = {}

    def go(self) -> int:
        self.affinity["go"] = os.sched_getaffinity(0)
        return super().go()

    def stop(self) -> int:
        self.affinity["stop"] = os.sched_getaffinity(0)
        return super().stop()


def test_go_and_stop_run_on_the_cpu_option_cpu():
    cpu = max(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    dev = PinnedDevice()
    s = Session(dev, Printer(dev, [], io.BytesIO()), bufsize=4096, warn=print, cpu=cpu)
    s.go()
    assert os.sched_getaffinity(0) == before  # unbound again
    s.run(lambda: True)
    assert dev.affinity == {"go": {cpu}, "stop": {cpu}}
    assert os.sched_getaffinity(0) == before
