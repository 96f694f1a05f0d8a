"""Structured output (-x oformat=json, docs/json.md) on synthetic buffers: every
record and value kind round-trips through json.loads with exactly the fields
docs/json.md documents, and the values are what the text output shows."""

from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path

import pytest
from test_aggregate import FakeDevice as AggDevice
from test_aggregate import _ecb, mkdesc, record
from test_consume import (
    DIFEXPR,
    EXIT,
    PRINTF,
    FakeDevice,
    ecb_bytes,
    error_layout,
    i32,
    i64,
    layout,
    strrec,
)

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.consume import aggregate as A
from pydtrace.consume import histogram as H
from pydtrace.consume import jsonout as J
from pydtrace.consume import records
from pydtrace.consume.loop import Printer, Session, make_printer
from pydtrace.consume.output import agg_drops, cpu_drops, status_drops
from pydtrace.errors import DError
from pydtrace.options import Options
from pydtrace.runtime import Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "json.md"
OPTS = A.SortOptions()


# -- the documented schema ----------------------------------------------------------


def documented() -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """docs/json.md: the fields of every '### `kind`' section (its table's
    first column) and its example lines (```json blocks)."""
    fields: dict[str, set[str]] = {}
    examples: dict[str, list[str]] = {}
    kind = None
    in_example = False
    for line in DOC.read_text().splitlines():
        m = re.match(r"### `([a-z]+)`", line)
        if m:
            kind = m.group(1)
            fields[kind], examples[kind] = set(), []
            continue
        if kind is None:
            continue
        if line.startswith("```"):
            in_example = line.strip() == "```json"
            continue
        if in_example:
            examples[kind].append(line)
            continue
        m = re.match(r"\| `([a-z-]+)` \|", line)
        if m:
            fields[kind].add(m.group(1))
    return fields, examples


FIELDS, EXAMPLES = documented()
RECORDS = ("probe", "error", "drop", "aggregation", "exit")
VALUES = ("int", "string", "bytes", "tracemem", "float", "printf", "printa", "stack", "address")


def check(obj: dict) -> dict:
    """A record (or value) has exactly its kind's documented fields, and every
    value nested in ``output`` / ``args`` too."""
    kind = obj["type"] if "type" in obj else obj["kind"]
    assert set(obj) == FIELDS[kind], (kind, sorted(obj))
    for v in obj.get("output", []) + obj.get("args", []):
        check(v)
    return obj


def lines(out: bytes) -> list[dict]:
    """NDJSON: every line one document, each checked against the schema."""
    assert out.endswith(b"\n")
    return [check(json.loads(line)) for line in out.decode().splitlines()]


def test_the_document_describes_every_kind_with_an_example():
    assert set(FIELDS) == set(RECORDS) | set(VALUES)
    for kind in RECORDS + VALUES:
        assert FIELDS[kind], kind
        assert EXAMPLES[kind], kind
        for line in EXAMPLES[kind]:
            doc = json.loads(line)
            if kind in RECORDS:
                assert doc["type"] == kind
                check(doc)
            else:
                assert doc["kind"] == kind
                check(doc)


# -- probe records ---------------------------------------------------------------------


def run_ecbs(
    dev: FakeDevice,
    epid: int,
    values: list[bytes],
    formats=(),
    quiet=False,
    rawbytes=False,
    timestamp: int = 0,
) -> J.JsonPrinter:
    p = J.JsonPrinter(dev, list(formats), io.BytesIO(), quiet=quiet, rawbytes=rawbytes)
    data = ecb_bytes(dev.eprobes[epid], values, timestamp)
    for r in records.ecb_records(1, data, 0, dev.eprobe):
        p.ecb(r)
    return p


def test_probe_record_with_typed_trace_values():
    ep = layout(
        3,
        1,
        [(DIFEXPR, 8, 0), (DIFEXPR, 4, 0), (DIFEXPR, 2, 0), (DIFEXPR, 1, 0)]
        + [(DIFEXPR, 256, 0), (DIFEXPR, 5, 0), (EXIT, 4, 0)],
    )
    dev = FakeDevice({3: ep})
    values = [i64(-5), i32(-7), struct.pack("=H", 0xFFFF), b"\xff", strrec(b"hi\tthere")]
    p = run_ecbs(dev, 3, values + [b"\x01\x02\x00ab", i32(4)])
    (rec,) = lines(p.out.getvalue())
    assert rec["type"] == "probe"
    assert (rec["cpu"], rec["id"], rec["enabled-probe-id"]) == (1, 1, 3)
    assert rec["probe-description"] == {
        "provider": "dtrace",
        "module": "",
        "function": "",
        "name": "BEGIN",
    }
    # integers read as the text output reads them: 8/4 bytes signed, 2/1 unsigned
    assert rec["output"] == [
        {"kind": "int", "size": 8, "signed": True, "value": -5},
        {"kind": "int", "size": 4, "signed": True, "value": -7},
        {"kind": "int", "size": 2, "signed": False, "value": 0xFFFF},
        {"kind": "int", "size": 1, "signed": False, "value": 0xFF},
        {"kind": "string", "value": "hi\tthere"},
        {"kind": "bytes", "size": 5, "hex": "0102006162"},
    ]
    assert p.exit_status == 4  # exit() is not a value: the exit record has it


@pytest.mark.parametrize("ts", [0, 1, 0xFFFFFFFF, 1 << 32, 0x0123_4567_89AB_CDEF, 2**64 - 1])
def test_probe_record_timestamp_is_the_record_header_s(ts):
    ep = layout(1, 1, [(DIFEXPR, 8, 0)])
    p = run_ecbs(FakeDevice({1: ep}), 1, [i64(3)], timestamp=ts)
    (rec,) = lines(p.out.getvalue())
    assert rec["timestamp"] == ts
    assert rec["output"] == [{"kind": "int", "size": 8, "signed": True, "value": 3}]


def test_each_record_has_its_own_timestamp_in_buffer_order():
    a = layout(1, 1, [(DIFEXPR, 4, 0)])
    b = layout(2, 1, [])  # a clause with no actions: a record all the same
    dev = FakeDevice({1: a, 2: b})
    p = J.JsonPrinter(dev, [], io.BytesIO())
    data = (
        ecb_bytes(a, [i32(1)], 5_000_000_123)
        + b"\0" * 4  # an EPIDNONE pad word
        + ecb_bytes(b, [], 5_000_000_456)
        + ecb_bytes(a, [i32(2)], 5_000_001_000)
    )
    for r in records.ecb_records(1, data, 0, dev.eprobe):
        p.ecb(r)
    recs = lines(p.out.getvalue())
    assert [(r["enabled-probe-id"], r["timestamp"]) for r in recs] == [
        (1, 5_000_000_123),
        (2, 5_000_000_456),
        (1, 5_000_001_000),
    ]


def test_rawbytes_makes_strings_bytes():
    ep2 = layout(2, 1, [(DIFEXPR, 3, 0)])
    dev2 = FakeDevice({2: ep2})
    assert lines(run_ecbs(dev2, 2, [b"ok\0"]).out.getvalue())[0]["output"] == [
        {"kind": "string", "value": "ok"}
    ]
    assert lines(run_ecbs(dev2, 2, [b"ok\0"], rawbytes=True).out.getvalue())[0]["output"] == [
        {"kind": "bytes", "size": 3, "hex": "6f6b00"}
    ]


TRACEMEM, DYNSIZE = int(lib.DTRACEACT_TRACEMEM), int(lib.DTRACEACT_TRACEMEM_DYNSIZE)


@pytest.mark.parametrize(
    ("dynsize", "kept"),
    [(3, 3), (16, 16), (0, 16), (17, 16), (1 << 63, 16)],
)
def test_tracemem_is_its_bytes_limited_by_the_dynamic_size(dynsize: int, kept: int):
    ep = layout(1, 1, [(DYNSIZE, 8, 0), (TRACEMEM, 16, 0), (DIFEXPR, 4, 0)])
    dev = FakeDevice({1: ep})
    mem = bytes(range(0x41, 0x51))  # printable: trace() would make it a string
    p = run_ecbs(dev, 1, [dynsize.to_bytes(8, "little"), mem, i32(7)])
    (rec,) = lines(p.out.getvalue())
    # the dynamic size is not a value of its own; the int after it is
    assert rec["output"] == [
        {"kind": "tracemem", "size": kept, "hex": mem[:kept].hex()},
        {"kind": "int", "size": 4, "signed": True, "value": 7},
    ]


def test_tracemem_without_dynamic_size_is_the_whole_record_and_quiet_keeps_it():
    ep = layout(1, 1, [(TRACEMEM, 4, 0), (TRACEMEM, 2, 0)])
    dev = FakeDevice({1: ep})
    p = run_ecbs(dev, 1, [b"\x00\xff\x7f\x10", b"ok"], quiet=True)
    (rec,) = lines(p.out.getvalue())
    assert rec["output"] == [
        {"kind": "tracemem", "size": 4, "hex": "00ff7f10"},
        {"kind": "tracemem", "size": 2, "hex": "6f6b"},
    ]


def test_quiet_skips_firings_without_output_but_not_the_others():
    silent = layout(1, 1, [(EXIT, 4, 0)])
    dev = FakeDevice({1: silent})
    assert run_ecbs(dev, 1, [i32(0)], quiet=True).out.getvalue() == b""
    (rec,) = lines(run_ecbs(dev, 1, [i32(0)], quiet=False).out.getvalue())
    assert rec["output"] == []


def test_printf_record_has_its_text_and_typed_arguments():
    f = fmt.with_signs(fmt.parse("%d|%u|%*d|%s|%x\n"), [True, False, True, False, False])
    ep = layout(
        1,
        1,
        [(PRINTF, 4, 1), (PRINTF, 4, 0), (PRINTF, 4, 0), (PRINTF, 8, 0)]
        + [(PRINTF, 256, 0), (PRINTF, 8, 0)],
    )
    dev = FakeDevice({1: ep})
    vals = [i32(-1), i32(-1), i32(5), i64(42), strrec(b"caf\xc3\xa9"), i64(255)]
    (rec,) = lines(run_ecbs(dev, 1, vals, formats=[f], quiet=True).out.getvalue())
    (pf,) = rec["output"]
    assert pf["kind"] == "printf"
    assert pf["text"] == "-1|4294967295|   42|café|ff\n"
    assert pf["args"] == [
        {"kind": "int", "size": 4, "signed": True, "value": -1},
        {"kind": "int", "size": 4, "signed": False, "value": 4294967295},
        {"kind": "int", "size": 4, "signed": True, "value": 5},
        {"kind": "int", "size": 8, "signed": True, "value": 42},
        {"kind": "string", "value": "café"},
        {"kind": "int", "size": 8, "signed": False, "value": 255},
    ]


def test_printf_float_and_non_utf8_string_arguments():
    f = fmt.parse("%.1f %s\n")
    ep = layout(1, 1, [(PRINTF, 8, 1), (PRINTF, 8, 0)])
    dev = FakeDevice({1: ep})
    vals = [struct.pack("=d", 2.5), b"\xff\xfe\0\0\0\0\0\0"]
    (rec,) = lines(run_ecbs(dev, 1, vals, formats=[f], quiet=True).out.getvalue())
    (pf,) = rec["output"]
    assert pf["text"] == "2.5 \ufffd\ufffd\n"
    assert pf["args"] == [
        {"kind": "float", "size": 8, "value": 2.5},
        {"kind": "bytes", "size": 2, "hex": "fffe"},
    ]


# -- faults, drops, exit ----------------------------------------------------------


def test_fault_is_an_error_record_on_the_output():
    dev = FakeDevice({1: layout(1, 1, [(DIFEXPR, 8, 0)]), 5: error_layout(5)})
    warnings: list[str] = []
    out = io.BytesIO()
    p = J.JsonPrinter(dev, [], out, warn=warnings.append)
    data = ecb_bytes(
        dev.eprobes[5],
        [i64(1), i64(2), i64(16), i64(lib.DTRACEFLT_BADADDR), i64(-8)],
        timestamp=987_654_321_000,
    )
    for r in records.ecb_records(0, data, 0, dev.eprobe):
        p.ecb(r)
    (rec,) = lines(out.getvalue())
    assert warnings == []
    assert rec["type"] == "error"
    assert rec["timestamp"] == 987_654_321_000  # the ERROR clause's record
    assert (rec["enabled-probe-id"], rec["id"], rec["action"], rec["offset"]) == (1, 1, 2, 16)
    assert rec["fault"] == lib.DTRACEFLT_BADADDR and rec["fault-name"] == "invalid address"
    assert rec["address"] == (1 << 64) - 8
    assert rec["message"] == (
        "error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        "invalid address (0xfffffffffffffff8) in action #2 at DIF offset 16"
    )


ALL_DROPS = Status(1, 2, 3, 4, 5, 6, 0, 0, 7, 8, False, False, 2)


@pytest.mark.parametrize(
    ("message", "kind", "count", "cpu"),
    [
        (cpu_drops(3, 1), "principal", 3, 1),
        (cpu_drops(1, 0), "principal", 1, 0),
        (agg_drops(2, 1), "aggregation", 2, 1),
        (agg_drops(1, 0), "aggregation", 1, 0),
    ]
    + list(
        zip(
            status_drops(None, ALL_DROPS),
            [
                "dynamic",
                "dynamic-rinsing",
                "dynamic-dirty",
                "speculative",
                "speculative-busy",
                "speculative-unavailable",
                "stack-string-overflow",
                "error-in-error-probe",
            ],
            [1, 2, 3, 4, 5, 6, 7, 8],
            [None] * 8,
            strict=True,
        )
    ),
)
def test_every_drop_message_becomes_a_drop_record(message, kind, count, cpu):
    out, other = io.BytesIO(), []
    J.json_warn(out, other.append)(message)
    assert other == []
    (rec,) = lines(out.getvalue())
    assert rec == {"type": "drop", "kind": kind, "count": count, "cpu": cpu, "message": message}


def test_tagged_drop_messages_are_drop_records_too():
    for message, kind in (
        (cpu_drops(3, 1, tags=True), "principal"),
        (agg_drops(2, 0, tags=True), "aggregation"),
        (status_drops(None, ALL_DROPS, tags=True)[3], "speculative"),
    ):
        rec = J.drop_record(message)
        assert rec is not None and rec["kind"] == kind and rec["message"] == message


def test_other_warnings_are_not_records():
    out, other = io.BytesIO(), []
    J.json_warn(out, other.append)("allowing destructive actions")
    assert out.getvalue() == b"" and other == ["allowing destructive actions"]


def test_session_drops_are_records_in_the_output_order():
    ep = layout(1, 1, [(DIFEXPR, 8, 0), (EXIT, 4, 0)])
    dev = FakeDevice({1: ep})
    dev.on_go = {0: ecb_bytes(ep, [i64(9), i32(2)])}
    dev.drops = {0: 3}
    dev.exiting = True
    out = io.BytesIO()
    warn = J.json_warn(out, pytest.fail)
    printer = J.make_printer("json", dev, [], out, quiet=True, warn=warn)
    s = Session(dev, printer, bufsize=4096, warn=warn)
    s.go()
    status = s.run(lambda: False)
    assert isinstance(printer, J.JsonPrinter)
    printer.finish(status)
    recs = lines(out.getvalue())
    assert [r["type"] for r in recs] == ["probe", "drop", "exit"]
    assert recs[0]["output"][0]["value"] == 9
    assert recs[1]["cpu"] == 0 and recs[1]["count"] == 3
    assert recs[2] == {"type": "exit", "status": 2}


def test_exit_record_without_aggregations():
    p = J.JsonPrinter(FakeDevice({}), [], io.BytesIO())
    assert J.end_of_run(p, 0) == b'{"type":"exit","status":0}\n'
    p.finish(7)
    assert lines(p.out.getvalue()) == [{"type": "exit", "status": 7}]


# -- aggregations -------------------------------------------------------------------------


class Var:
    def __init__(self, id: int, name: str, kind: int, keys=()) -> None:
        self.id, self.name, self.kind, self.arg, self.keys = id, name, kind, 0, list(keys)


class Unsigned:
    signed = False


def aggs_of(descs, data: list[bytes], variables) -> A.Aggregations:
    by_id = {d.aggid: d for d in descs}
    aggs = A.Aggregations(by_id.__getitem__, {v.id: v for v in variables})
    for chunk in data:
        aggs.merge(chunk)
    return aggs


def end_records(aggs: A.Aggregations) -> list[dict]:
    p = J.JsonPrinter(FakeDevice({}), [], io.BytesIO(), aggs=aggs)
    p.finish(0)
    recs = lines(p.out.getvalue())
    assert recs[-1] == {"type": "exit", "status": 0}
    return recs[:-1]


def test_count_sum_avg_with_keys_in_dtrace_order():
    dc = mkdesc(1, A.COUNT, [256, 4], 1)
    ds = mkdesc(2, A.SUM, [], 1)
    da = mkdesc(3, A.AVG, [4], 2)
    aggs = aggs_of(
        [dc, ds, da],
        [
            record(dc, 1, [b"bash", i32(-1)], [5])
            + record(dc, 1, [b"sshd", i32(2)], [2])
            + record(ds, 2, [], [-40])
            + record(da, 3, [i32(-1)], [2, 7])
        ],
        [Var(1, "calls", A.COUNT), Var(2, "", A.SUM), Var(3, "a", A.AVG, [Unsigned()])],
    )
    recs = end_records(aggs)
    assert recs == [
        {
            "type": "aggregation",
            "name": "calls",
            "id": 1,
            "function": "count",
            "data": [{"keys": ["sshd", 2], "value": 2}, {"keys": ["bash", -1], "value": 5}],
        },
        {
            "type": "aggregation",
            "name": "",
            "id": 2,
            "function": "sum",
            "data": [{"keys": [], "value": -40}],
        },
        {
            "type": "aggregation",
            "name": "a",
            "id": 3,
            "function": "avg",
            "data": [{"keys": [0xFFFFFFFF], "value": 3}],
        },
    ]
    # the same rows, in the same order, as the text output
    text = aggs.print_unprinted(OPTS).decode()
    assert [ln.split()[-1] for ln in text.splitlines()] == ["2", "5", "-40", "3"]


def quantize_bucket(v: int) -> int:
    """dtrace_aggregate_quantize's bucket of a value (the reference)."""
    zero = H.QUANTIZE_ZEROBUCKET
    if v < 0:
        return next(i for i in range(zero) if v <= H.quantize_bucketval(i))
    for i in range(zero + 1, H.QUANTIZE_NBUCKETS):
        if v < H.quantize_bucketval(i):
            return i - 1
    return H.QUANTIZE_NBUCKETS - 1


SAMPLES = [-(1 << 63), -(1 << 62) - 1, -5, -4, -3, -1, 0, 1, 2, 3, 7, 8, 1000, (1 << 63) - 1]


def test_quantize_buckets_are_bounds_and_counts_of_nonzero_buckets():
    d = mkdesc(1, A.QUANTIZE, [], H.QUANTIZE_NBUCKETS)
    words = [0] * H.QUANTIZE_NBUCKETS
    for n, v in enumerate(SAMPLES):
        words[quantize_bucket(v)] += n + 1
    aggs = aggs_of([d], [record(d, 1, [], words)], [Var(1, "q", A.QUANTIZE)])
    (rec,) = end_records(aggs)
    (row,) = rec["data"]
    bks = row["value"]["buckets"]
    assert sum(c for _, _, c in bks) == sum(range(1, len(SAMPLES) + 1))
    for lo, hi, _ in bks:
        assert lo <= hi
    for (_, hi, _), (lo, _, _) in zip(bks, bks[1:], strict=False):
        assert hi < lo
    for v in SAMPLES:
        (b,) = [b for b in bks if b[0] <= v <= b[1]]
        # the bucket holding v counts everything in v's reference bucket
        same = [n + 1 for n, u in enumerate(SAMPLES) if quantize_bucket(u) == quantize_bucket(v)]
        assert b[2] == sum(same), v
    assert bks[0][0] == -(1 << 63) and bks[-1][1] == (1 << 63) - 1


def test_lquantize_and_llquantize_buckets():
    arg = (1 << 48) * 10 | (1 << 32) * 3 | 0  # base 0, step 10, 3 levels
    dl = mkdesc(1, A.LQUANTIZE, [], 6, arg)
    ll_arg = (10 << 48) | (0 << 32) | (2 << 16) | 10  # factor 10, low 0, high 2, 10 steps
    nb = H.llquantize_nbuckets(ll_arg)
    dll = mkdesc(2, A.LLQUANTIZE, [], nb + 1, ll_arg)
    ll_words = [ll_arg] + [0] * nb
    ll_words[1 + 0] = 1  # underflow: < 1
    ll_words[1 + 1] = 2  # [1, 1]
    ll_words[nb] = 3  # overflow
    aggs = aggs_of(
        [dl, dll],
        [record(dl, 1, [], [arg, 4, 0, 5, 0, 6]) + record(dll, 2, [], ll_words)],
        [Var(1, "l", A.LQUANTIZE), Var(2, "ll", A.LLQUANTIZE)],
    )
    lq, llq = end_records(aggs)
    assert lq["function"] == "lquantize"
    assert lq["data"][0]["value"] == {
        "buckets": [[-(1 << 63), -1, 4], [10, 19, 5], [30, (1 << 63) - 1, 6]]
    }
    assert llq["function"] == "llquantize"
    top = A.llquantize_bounds(ll_arg)[-1]
    assert llq["data"][0]["value"] == {
        "buckets": [[-(1 << 63), 0, 1], [1, 1, 2], [top, (1 << 63) - 1, 3]]
    }


def test_printa_in_a_probe_record_and_not_again_at_the_end():
    d = mkdesc(1, A.COUNT, [4], 1)
    printa = int(lib.DTRACEACT_PRINTA)
    ep, data = _ecb(1, [(printa, 8, 16, 1, 0)], [i64(1)])
    dev = AggDevice({1: ep}, {0: data}, {0: [record(d, 1, [i32(5)], [3])]}, {1: d})
    aggs = A.Aggregations(dev.aggdesc, {1: Var(1, "n", A.COUNT)})
    out = io.BytesIO()
    f = fmt.with_signs(fmt.parse("%d %@d\n"), [True, False])
    printer = J.JsonPrinter(dev, [f], out, quiet=True, aggs=aggs)
    s = Session(dev, printer, bufsize=64, warn=pytest.fail)
    s.ncpus, s.began_on = 1, 0
    s.snap_aggregations(force=True)
    s.consume(force=True)
    printer.finish(0)
    probe, ex = lines(out.getvalue())
    assert probe["output"] == [
        {
            "kind": "printa",
            "text": "5 3\n",
            "names": ["n"],
            "data": [{"keys": [5], "values": [3]}],
        }
    ]
    assert ex["type"] == "exit"


# -- the option and the factory ------------------------------------------------------------


def test_oformat_option_values():
    o = Options()
    assert o.get("oformat") == "text"
    o.set("oformat", "json")
    assert o.get("oformat") == "json"
    for bad in ("xml", "JSON", None, ""):
        with pytest.raises(DError, match="failed to set option 'oformat': Invalid value"):
            o.set("oformat", bad)


def test_text_printer_is_unchanged():
    ep = layout(1, 1, [(DIFEXPR, 256, 0), (DIFEXPR, 8, 0)])
    dev = FakeDevice({1: ep})
    data = ecb_bytes(ep, [strrec(b"hello"), i64(3)])
    outs = []
    for printer in (
        Printer(dev, [], io.BytesIO()),
        J.make_printer("text", dev, [], io.BytesIO()),
    ):
        assert type(printer) is Printer
        for r in records.ecb_records(0, data, 0, dev.eprobe):
            printer.ecb(r)
        outs.append(printer.out.getvalue())
    assert outs[0] == outs[1] and outs[0].startswith(b"CPU")
    assert isinstance(J.make_printer("json", dev, [], io.BytesIO()), J.JsonPrinter)
    assert J.make_printer is make_printer  # moved to loop, re-exported
    assert isinstance(make_printer("json", dev, [], io.BytesIO(), quiet=True), J.JsonPrinter)


class Signed:
    signed = True


def test_integer_keys_take_the_signedness_of_their_d_type():
    d = mkdesc(1, A.COUNT, [2, 2, 1], 1)
    aggs = aggs_of(
        [d],
        [record(d, 1, [struct.pack("=h", -2), struct.pack("=h", -2), b"\xff"], [1])],
        [Var(1, "k", A.COUNT, [Signed(), Unsigned(), Signed()])],
    )
    (rec,) = end_records(aggs)
    assert rec["data"] == [{"keys": [-2, 0xFFFE, -1], "value": 1}]
