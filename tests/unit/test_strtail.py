"""String records whose bytes after the NUL are not zero.

The module writes a string record only up to its NUL and leaves the rest of
the record as the buffer had it (kmod/probe.c dtrace_store).  Every reader
must stop at the NUL: printf's %s and %S, trace() of a string (marked by the
compiler in ad_uarg), the JSON output, and the Cython drain must print what
the Python printer prints, byte for byte, and both what a zero-padded record
prints.
"""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_consume import DIFEXPR, PRINTF, FakeDevice, ecb_bytes, i32, layout

from pydtrace import fmt
from pydtrace.abi import DTRACE_UARG_STRING, lib
from pydtrace.compiler import Compiler
from pydtrace.consume import fastpath, records
from pydtrace.consume import jsonout as J
from pydtrace.consume.loop import Printer
from pydtrace.program.decode import decode
from pydtrace.runtime import EProbe

STRSIZE = 64


def marked(ep: EProbe, *which: int) -> EProbe:
    """ep with its records at the indexes which marked as traced strings."""
    recs = tuple(
        dataclasses.replace(r, uarg=DTRACE_UARG_STRING) if i in which else r
        for i, r in enumerate(ep.recs)
    )
    return dataclasses.replace(ep, recs=recs)


def tailed(s: bytes, tail: bytes, size: int = STRSIZE) -> bytes:
    """s, its NUL when it fits, then tail's bytes repeated to size."""
    body = (s + b"\0")[:size]
    rest = size - len(body)
    return body + (tail * rest)[:rest] if tail else body.ljust(size, b"\0")


def padded(raw: bytes) -> bytes:
    """What the module wrote before: zeros after the first NUL."""
    nul = raw.find(b"\0")
    return raw if nul < 0 else raw[:nul].ljust(len(raw), b"\0")


def printed(ep: EProbe, formats, data: bytes, *, quiet: bool, fast: bool, rawbytes=False):
    p = Printer(FakeDevice({ep.epid: ep}), formats, io.BytesIO(), quiet=quiet, rawbytes=rawbytes)
    p.fast = fast
    p.buffer(0, data, 0)
    p.flush()
    return p.out.getvalue()


def json_output(ep: EProbe, formats, data: bytes, rawbytes=False) -> list:
    dev = FakeDevice({ep.epid: ep})
    p = J.JsonPrinter(dev, list(formats), io.BytesIO(), rawbytes=rawbytes)
    for r in records.ecb_records(1, data, 0, dev.eprobe):
        p.ecb(r)
    return [json.loads(line)["output"] for line in p.out.getvalue().splitlines()]


# A clause `printf("%s|%S|\n", s, s); trace(s); trace(n)`: strings of STRSIZE.
FORMAT = fmt.with_signs(fmt.parse("<%s|%S|%-8s>\n"), [False, False, False])
CLAUSE = marked(
    layout(
        1,
        1,
        [(PRINTF, STRSIZE, 1), (PRINTF, STRSIZE, 0), (PRINTF, STRSIZE, 0)]
        + [(DIFEXPR, STRSIZE, 0), (DIFEXPR, 4, 0)],
    ),
    3,
)


def clause_bytes(strings: list[bytes], tail: bytes) -> bytes:
    return b"".join(
        ecb_bytes(CLAUSE, [tailed(s, tail) for s in (s, s, s, s)] + [i32(i)])
        for i, s in enumerate(strings)
    )


STRINGS = [b"bash", b"", b"a\tb", b"x" * (STRSIZE - 1), b"x" * STRSIZE]
STRINGS += [b"\x01\x02ctl", b"caf\xc3\xa9"]
TAILS = [b"", b"\xff", b"garbage!", b"\x00\x00\x07", bytes(range(1, 256))]


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("quiet", [True, False])
@pytest.mark.parametrize("rawbytes", [False, True])
def test_text_output_stops_at_the_nul_in_both_paths(tail, quiet, rawbytes):
    data = clause_bytes(STRINGS, tail)
    zero = clause_bytes(STRINGS, b"")
    want = printed(CLAUSE, [FORMAT], zero, quiet=quiet, fast=False, rawbytes=rawbytes)
    for fast in (False, True) if fastpath.AVAILABLE else (False,):
        got = printed(CLAUSE, [FORMAT], data, quiet=quiet, fast=fast, rawbytes=rawbytes)
        assert got == want, (fast, tail)
    assert b"garbage" not in want and b"<bash|bash|bash    >" in want


def test_the_tail_never_shows_in_text_output():
    out = printed(CLAUSE, [FORMAT], clause_bytes([b"sh"], b"LEAK"), quiet=True, fast=False)
    assert out == b"<sh|sh|sh      >\nsh0"


@pytest.mark.skipif(not fastpath.AVAILABLE, reason="_drain is not built")
@settings(max_examples=200, deadline=None)
@given(
    strings=st.lists(st.binary(max_size=STRSIZE), min_size=1, max_size=4),
    tail=st.binary(min_size=1, max_size=70),
    quiet=st.booleans(),
)
def test_cython_and_python_agree_on_any_tail(strings, tail, quiet):
    data = clause_bytes(strings, tail)
    fast = printed(CLAUSE, [FORMAT], data, quiet=quiet, fast=True)
    slow = printed(CLAUSE, [FORMAT], data, quiet=quiet, fast=False)
    zero = printed(CLAUSE, [FORMAT], clause_bytes(strings, b""), quiet=quiet, fast=False)
    assert fast == slow == zero


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("rawbytes", [False, True])
def test_json_output_stops_at_the_nul(tail, rawbytes):
    got = json_output(CLAUSE, [FORMAT], clause_bytes(STRINGS, tail), rawbytes)
    want = json_output(CLAUSE, [FORMAT], clause_bytes(STRINGS, b""), rawbytes)
    assert got == want
    first = got[0]
    assert first[0]["args"][0] == {"kind": "string", "value": "bash"}
    if rawbytes:
        assert first[1] == {"kind": "bytes", "size": STRSIZE, "hex": (b"bash" + bytes(60)).hex()}
    else:
        assert first[1] == {"kind": "string", "value": "bash"}


def test_an_unmarked_record_keeps_all_its_bytes():
    """trace() of a struct or array (no mark): every byte is data."""
    ep = layout(1, 1, [(DIFEXPR, 16, 0)])
    raw = b"ab\0cdefghijklmn"[:16].ljust(16, b"!")
    (out,) = json_output(ep, [], ecb_bytes(ep, [raw]))
    assert out == [{"kind": "bytes", "size": 16, "hex": raw.hex()}]
    assert printed(ep, [], ecb_bytes(ep, [raw]), quiet=True, fast=False) != printed(
        ep, [], ecb_bytes(ep, [padded(raw)]), quiet=True, fast=False
    )


@pytest.mark.parametrize("raw", [b"", b"\0", b"ab\0", b"ab\0zz", b"abc", b"\0\xff\xff"])
def test_string_record_zeroes_only_what_follows_the_first_nul(raw):
    out = records.string_record(raw)
    assert out == padded(raw) and len(out) == len(raw)


def compile_acts(src: str):
    data = Compiler(kernel=None).compile(src, kind="probe", label="x").data
    return decode(data).ecbs[0].acts


def test_the_compiler_marks_trace_of_a_string_only():
    acts = compile_acts(
        'BEGIN { trace(execname); trace(1); trace(stringof(1)); printf("%s", "x"); '
        "@[execname] = count(); }"
    )
    marks = [(a.kind, a.uarg == DTRACE_UARG_STRING) for a in acts]
    assert marks[:4] == [
        (lib.DTRACEACT_DIFEXPR, True),
        (lib.DTRACEACT_DIFEXPR, False),
        (lib.DTRACEACT_DIFEXPR, True),
        (lib.DTRACEACT_PRINTF, False),
    ]
    assert len(marks) > 4 and not any(m for _, m in marks[4:])  # the aggregation's key and id
