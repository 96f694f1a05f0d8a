"""The drain loop (consume._drain, consume.fastpath) against the Python
printer: the same buffers must print the same bytes, faults and all."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_consume import (
    DIFEXPR,
    EXIT,
    PRINTF,
    FakeDevice,
    ecb_bytes,
    i32,
    i64,
    layout,
    strrec,
)

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.consume import fastpath
from pydtrace.consume.loop import CHUNK, ConsumeError, Printer, Session

pytestmark = pytest.mark.skipif(not fastpath.AVAILABLE, reason="_drain is not built")


def printed(dev: FakeDevice, formats, data: bytes, *, quiet: bool, fast: bool, oldest: int = 0):
    """What a printer prints for one CPU's buffer, through Printer.buffer."""
    p = Printer(dev, formats, io.BytesIO(), quiet=quiet)
    p.fast = fast
    try:
        p.buffer(0, data, oldest)
        err = None
    except (ConsumeError, ValueError) as e:  # Session makes a ValueError a ConsumeError
        err = str(e)
    p.flush()
    return p.out.getvalue(), err, p


def both(dev: FakeDevice, formats, data: bytes, *, quiet: bool, oldest: int = 0):
    fast = printed(dev, formats, data, quiet=quiet, fast=True, oldest=oldest)
    slow = printed(dev, formats, data, quiet=quiet, fast=False, oldest=oldest)
    assert fast[:2] == slow[:2]
    return fast


# -- printf conversions -----------------------------------------------------------

INT_CONVS = "diuoxXpc"
flags_st = st.lists(st.sampled_from("-+ #0'"), max_size=3, unique=True).map("".join)
width_st = st.one_of(st.none(), st.integers(0, 70))
prec_st = st.one_of(st.none(), st.integers(0, 25))


@st.composite
def conversion(draw):
    conv = draw(st.sampled_from(INT_CONVS + "s"))
    flags, width, prec = draw(flags_st), draw(width_st), draw(prec_st)
    text = "%" + flags + ("" if width is None else str(width))
    text += "" if prec is None or conv == "c" else f".{prec}"
    text += conv
    if conv == "s":
        size = draw(st.sampled_from([1, 4, 16, 32]))
        value = draw(st.binary(max_size=size)).ljust(size, b"\0")
    else:
        size = draw(st.sampled_from([1, 2, 4, 8]))
        value = draw(st.integers(0, 2 ** (8 * size) - 1)).to_bytes(size, "little")
    return text, size, value, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(
    convs=st.lists(conversion(), min_size=1, max_size=4),
    lits=st.lists(st.text("ab %\n\t", max_size=4).map(lambda s: s.replace("%", "%%")), min_size=5),
    nrecs=st.integers(1, 3),
    quiet=st.booleans(),
)
def test_printf_matches_the_python_printer(convs, lits, nrecs, quiet):
    text = lits[0] + "".join(c[0] + lits[i + 1] for i, c in enumerate(convs))
    f = fmt.with_signs(fmt.parse(text), [c[3] for c in convs])
    ep = layout(
        1, 1, [(PRINTF, size, 1 if i == 0 else 0) for i, (_, size, _, _) in enumerate(convs)]
    )
    dev = FakeDevice({1: ep})
    data = ecb_bytes(ep, [c[2] for c in convs]) * nrecs
    both(dev, [f], data, quiet=True)
    # not quiet: the header comes from the Python printer, the rest from plans
    out, err, _ = both(dev, [f], data, quiet=False)
    assert err is None and out.count(b":BEGIN ") == nrecs


@pytest.mark.parametrize(
    "text",
    ["%*d|", "%-*d|", "%.*d|", "%*.*s|"],
)
def test_star_widths_print_through_the_python_formatter(text):
    f = fmt.with_signs(fmt.parse(text), [True] * text.count("%"))
    nargs = text.count("*") + 1
    last = 32 if text.endswith("s|") else 4
    ep = layout(1, 1, [(PRINTF, 4 if i < nargs - 1 else last, int(i == 0)) for i in range(nargs)])
    vals = [i32(-7 if i == 0 else 3) for i in range(nargs - 1)]
    vals.append(strrec(b"hello", 32) if last == 32 else i32(12345))
    out, err, _ = both(FakeDevice({1: ep}), [f], ecb_bytes(ep, vals), quiet=True)
    assert err is None and out


@pytest.mark.parametrize(
    "size,value",
    [(1, 200), (2, 65000), (4, -5), (8, -(2**63)), (8, 2**63 - 1), (3, 7), (16, 0), (256, 0)],
)
@pytest.mark.parametrize("quiet", [True, False])
def test_trace_values_match(size, value, quiet):
    ep = layout(1, 1, [(DIFEXPR, size, 0), (DIFEXPR, 256, 0)])
    v = (
        value.to_bytes(size, "little", signed=value < 0)
        if size in (1, 2, 4, 8)
        else bytes(i % 250 + 1 for i in range(size))
    )
    data = ecb_bytes(ep, [v, strrec(b"string")]) * 3
    both(FakeDevice({1: ep}), [], data, quiet=quiet)


def test_floats_strings_and_time_conversions_use_the_python_conversions():
    f = fmt.with_signs(fmt.parse("%5.2f %S %c %Y\n"), [True, False, True, True])
    ep = layout(1, 1, [(PRINTF, 8, 1), (PRINTF, 16, 0), (PRINTF, 4, 0), (PRINTF, 8, 0)])
    data = ecb_bytes(
        ep, [struct.pack("=d", 3.14159), b"a\tb".ljust(16, b"\0"), i32(65), i64(10**18)]
    )
    out, err, _ = both(FakeDevice({1: ep}), [f], data * 2, quiet=True)
    assert out.startswith(b" 3.14 a\\tb A ")


# -- the loop: fallbacks, order, faults ----------------------------------------------


def test_unplanned_clauses_keep_their_place_and_exit_is_seen():
    f = fmt.with_signs(fmt.parse("%d\n"), [True])
    fast_ep = layout(1, 1, [(PRINTF, 4, 1)])
    exit_ep = layout(2, 1, [(PRINTF, 4, 1), (EXIT, 4, 0)])
    dev = FakeDevice({1: fast_ep, 2: exit_ep})
    data = b"".join(
        ecb_bytes(exit_ep if i % 5 == 4 else fast_ep, [i32(i)] + ([i32(9)] if i % 5 == 4 else []))
        + (b"\0" * 4 if i % 3 == 0 else b"")  # padding between records
        for i in range(20)
    )
    out, err, p = both(dev, [f], data, quiet=True)
    assert out == b"".join(b"%d\n" % i for i in range(20)) and err is None
    assert p.exit_status == 9


def test_a_printf_fault_is_reported_after_the_records_before_it():
    f = fmt.with_signs(fmt.parse("%d %d\n"), [True, True])
    good = layout(1, 1, [(PRINTF, 4, 1), (PRINTF, 4, 0)])
    bad = layout(2, 1, [(PRINTF, 4, 1)])  # one record for two conversions
    dev = FakeDevice({1: good, 2: bad})
    data = ecb_bytes(good, [i32(1), i32(2)]) * 3 + ecb_bytes(bad, [i32(5)])
    out, err, _ = both(dev, [f], data, quiet=True)
    assert out == b"1 2\n" * 3
    assert err is not None and "error on enabled probe ID 2" in err


def test_a_conversion_that_raises_is_reported_by_the_python_printer():
    f = fmt.with_signs(fmt.parse("%d %Y\n"), [True, True])
    g = fmt.with_signs(fmt.parse("%d\n"), [True])
    ep = layout(1, 1, [(PRINTF, 4, 1), (PRINTF, 8, 0)])
    odd = layout(2, 1, [(PRINTF, 3, 2)])  # no integer of 3 bytes
    data = ecb_bytes(ep, [i32(1), i64(10**17)]) + ecb_bytes(odd, [b"abc"])
    out, err, _ = both(FakeDevice({1: ep, 2: odd}), [f, g], data, quiet=True)
    assert out.startswith(b"1 19") and err is not None and "integer argument of 3 bytes" in err


def test_a_record_overrunning_the_buffer_aborts():
    f = fmt.with_signs(fmt.parse("%d\n"), [True])
    ep = layout(1, 1, [(PRINTF, 4, 1)])
    data = ecb_bytes(ep, [i32(1)]) * 2 + ecb_bytes(ep, [i32(2)])[:-4]
    out, err, _ = both(FakeDevice({1: ep}), [f], data, quiet=True)
    assert out == b"1\n1\n" and err is not None and "overruns the buffer" in err


def test_a_wrapped_ring_prints_from_the_oldest_record():
    f = fmt.with_signs(fmt.parse("%d\n"), [True])
    ep = layout(1, 1, [(PRINTF, 4, 1)])
    recs = [ecb_bytes(ep, [i32(i)]) for i in range(6)]
    data = b"".join(recs[4:] + recs[:4])  # 4, 5 then 0..3: oldest is 0 at 2 records in
    out, _, _ = both(FakeDevice({1: ep}), [f], data, quiet=True, oldest=2 * ep.size)
    assert out == b"0\n1\n2\n3\n4\n5\n"


def test_setopt_quiet_takes_effect_for_the_planned_records_after_it():
    ep = layout(1, 1, [(DIFEXPR, 4, 0)])
    setopt = layout(2, 1, [(lib.DTRACEACT_LIBACT, 16, 0), (lib.DTRACEACT_LIBACT, 16, 0)])
    setopt = type(setopt)(
        2,
        1,
        0,
        setopt.size,
        tuple(
            type(r)(r.action, r.size, r.offset, r.alignment, r.format, lib.DTRACE_LIBACT_SETOPT, 0)
            for r in setopt.recs
        ),
    )
    dev = FakeDevice({1: ep, 2: setopt})
    data = (
        ecb_bytes(ep, [i32(1)])
        + ecb_bytes(setopt, [strrec(b"quiet", 16), strrec(b"1", 16)])
        + ecb_bytes(ep, [i32(2)]) * 2
    )
    out, err, p = both(dev, [], data, quiet=False)
    assert err is None and p.quiet and out.endswith(b"22")


def test_large_buffers_are_written_in_chunks_in_order():
    f = fmt.with_signs(fmt.parse("%d %s\n"), [True, False])
    ep = layout(1, 1, [(PRINTF, 8, 1), (PRINTF, 64, 0)])
    n = 3 * CHUNK // 40
    data = b"".join(ecb_bytes(ep, [i64(i), strrec(b"x" * 30, 64)]) for i in range(n))

    class Counting(io.BytesIO):
        writes = 0

        def write(self, b):
            Counting.writes += 1
            return super().write(b)

    p = Printer(FakeDevice({1: ep}), [f], Counting(), quiet=True)
    p.buffer(0, data)
    assert p.out.getvalue() == b"".join(b"%d %s\n" % (i, b"x" * 30) for i in range(n))
    assert 3 <= Counting.writes <= 6


def test_a_session_prints_the_same_through_both_paths():
    f = fmt.with_signs(fmt.parse("%d %d %d\n"), [True, True, False])
    ep = layout(3, 1, [(PRINTF, 4, 1), (PRINTF, 4, 0), (PRINTF, 8, 0)])
    outs = []
    for fast in (True, False):
        dev = FakeDevice({3: ep})
        dev.drops = {1: 7}
        dev.on_go = {0: b"".join(ecb_bytes(ep, [i32(1), i32(i), i64(i)]) for i in range(100))}
        dev.on_stop = {1: ecb_bytes(ep, [i32(2), i32(0), i64(-1)])}
        out, warnings = io.BytesIO(), []
        printer = Printer(dev, [f], out, quiet=True)
        printer.fast = fast
        s = Session(dev, printer, bufsize=4096, warn=warnings.append)
        s.go()
        s.stop()
        s.consume(force=True)
        outs.append((out.getvalue(), warnings))
    assert outs[0] == outs[1]
    assert outs[0][1] == ["7 drops on CPU 1"]
    assert outs[0][0].endswith(b"2 0 18446744073709551615\n")


def test_without_the_extension_nothing_is_planned(monkeypatch):
    monkeypatch.setattr(fastpath, "_drain", None)
    ep = layout(1, 1, [(PRINTF, 4, 1)])
    assert fastpath.make_plan(ep, [fmt.parse("%d")], True, False, b"") is None
