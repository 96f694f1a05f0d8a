"""Structured output: ``-O json`` / ``-x oformat=json`` (docs/json.md).

One JSON document per line (NDJSON) on the output stream instead of
dtrace(1)'s text: each probe firing with its typed records, printf() output
as its text and arguments, aggregations as objects, drops, faults and the
exit status as records of their own.  Field names follow FreeBSD's libxo
output where it has one (``enabled-probe-id``, ``probe-description``).

:class:`JsonPrinter` takes the place of :class:`~pydtrace.consume.loop.Printer`
(same constructor); :func:`~pydtrace.consume.loop.make_printer` picks one
from the oformat option (re-exported here);
:func:`json_warn` turns the consumer loop's drop messages into records;
:meth:`JsonPrinter.finish` writes the end-of-run records.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

from pydtrace.abi import DTRACE_UARG_ERROR, lib
from pydtrace.consume import histogram, stackfmt, symbols
from pydtrace.consume.aggregate import (
    AVG,
    COUNT,
    HISTOGRAMS,
    LLQUANTIZE,
    LQUANTIZE,
    MAX,
    MIN,
    QUANTIZE,
    STDDEV,
    SUM,
    Aggregations,
    Entry,
    Row,
    SortOptions,
    average,
    llquantize_bounds,
    s64,
    stddev,
)
from pydtrace.consume.destr import ShellItem
from pydtrace.consume.loop import (
    ConsumeError,
    PrintaItem,
    Printer,
    PrintfItem,
    TracememItem,
)
from pydtrace.consume.loop import make_printer as make_printer  # re-exported (moved to loop)
from pydtrace.consume.output import FAULT_TEXT, fault_message, tracemem_size
from pydtrace.consume.records import EcbRecord
from pydtrace.fmt import Conversion, Format
from pydtrace.runtime import ProbeDesc, RecDesc

JSON = dict[str, object]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_M64 = (1 << 64) - 1

FUNCTIONS: dict[int, str] = {
    COUNT: "count",
    SUM: "sum",
    AVG: "avg",
    MIN: "min",
    MAX: "max",
    STDDEV: "stddev",
    QUANTIZE: "quantize",
    LQUANTIZE: "lquantize",
    LLQUANTIZE: "llquantize",
}

_STACK_KEYS = (int(lib.DTRACEACT_STACK), int(lib.DTRACEACT_USTACK))
_ADDR_KEYS = (
    int(lib.DTRACEACT_SYM),
    int(lib.DTRACEACT_MOD),
    int(lib.DTRACEACT_USYM),
    int(lib.DTRACEACT_UMOD),
    int(lib.DTRACEACT_UADDR),
)
_PRINTABLE_CTRL = frozenset(b"\b\a\t\n\v\f\r")


def dumps(obj: JSON) -> bytes:
    """One NDJSON line."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# -- values ----------------------------------------------------------------------


def as_string(raw: bytes) -> str | None:
    """The text of a record dtrace(1) prints as a string (dt_print_bytes'
    rule: printable bytes up to a NUL followed only by NULs), else None."""
    if not raw:
        return None
    nul = raw.find(b"\0")
    body = raw if nul < 0 else raw[:nul]
    if nul == 0 or raw[len(body) :].strip(b"\0"):
        return None
    if not all(0x20 <= c <= 0x7E or c in _PRINTABLE_CTRL for c in body):
        return None
    return body.decode("ascii")


def int_value(raw: bytes, signed: bool) -> JSON:
    return {
        "kind": "int",
        "size": len(raw),
        "signed": signed,
        "value": int.from_bytes(raw, sys.byteorder, signed=signed),
    }


def bytes_value(raw: bytes) -> JSON:
    return {"kind": "bytes", "size": len(raw), "hex": raw.hex()}


def trace_value(raw: bytes, rawbytes: bool = False) -> JSON:
    """A trace() record as dtrace(1) reads it (output.trace_value): 8 and 4
    byte integers signed, 2 and 1 byte unsigned, strings, else bytes."""
    n = len(raw)
    if n in (1, 2, 4, 8):
        return int_value(raw, n in (4, 8))
    text = None if rawbytes else as_string(raw)
    if text is not None:
        return {"kind": "string", "value": text}
    return bytes_value(raw)


def tracemem_value(raw: bytes, dynsize: int = 0) -> JSON:
    """A tracemem() record: always bytes, never a string or a number.  Only
    the first dynsize bytes (the TRACEMEM_DYNSIZE record before it) are
    kept, unless dynsize is 0 or larger than the record: the bytes the text
    output's hex dump shows (output.tracemem_value, dt_consume_cpu's clamp)."""
    n = tracemem_size(raw, dynsize)
    return {"kind": "tracemem", "size": n, "hex": raw[:n].hex()}


def _cstr_value(raw: bytes) -> JSON:
    """A %s / %S argument: the bytes up to the NUL, as text if UTF-8."""
    nul = raw.find(b"\0")
    body = raw if nul < 0 else raw[:nul]
    try:
        return {"kind": "string", "value": body.decode("utf-8")}
    except UnicodeDecodeError:
        return bytes_value(body)


def printf_args(fmt: Format, args: Sequence[bytes]) -> list[JSON]:
    """Each argument record of a printf() typed by the conversion it feeds
    ('*' widths and precisions are signed ints); records beyond the
    conversions as bytes."""
    out: list[JSON] = []
    it = iter(args)
    for piece in fmt.pieces:
        if not isinstance(piece, Conversion):
            continue
        for star in (piece.width == -1, piece.precision == -1):
            raw = next(it, None) if star else None
            if raw is not None:
                out.append(_arg(raw, "d", True))
        raw = next(it, None)
        if raw is None:
            break
        out.append(_arg(raw, piece.conv, piece.signed))
    out += [bytes_value(raw) for raw in it]
    return out


def _arg(raw: bytes, conv: str, signed: bool) -> JSON:
    n = len(raw)
    if conv in "sS":
        return _cstr_value(raw)
    if conv in "eEfgG" and n in (4, 8):
        return {
            "kind": "float",
            "size": n,
            "value": struct.unpack("=f" if n == 4 else "=d", raw)[0],
        }
    if n in (1, 2, 4, 8):
        return int_value(raw, signed if conv in "di" else False)
    return bytes_value(raw)


def text(b: bytes) -> str:
    """Printed output as a JSON string (invalid UTF-8 becomes U+FFFD)."""
    return b.decode("utf-8", "replace")


def stack_value(action: int, arg: int, raw: bytes) -> JSON:
    """A stack or symbol record: {"kind": "stack", "pid", "frames": [pc, ...],
    "symbols": [text, ...]} or {"kind": "address", "pid", "value": pc,
    "symbol": text}; pid is null for kernel ones; the texts are the ones the
    text output prints."""
    sym = symbols.default()
    w = symbols.words(raw)
    if action in _STACK_KEYS:
        pid = None
        if action == lib.DTRACEACT_USTACK:
            pid, w = (w[0], w[1 : 1 + (arg & 0xFFFFFFFF)]) if w else (0, [])
        frames = []
        for pc in w:
            if pc == 0:
                break
            frames.append(pc)
        if pid is None:
            names = [sym.addr2str(pc) for pc in frames]
        else:
            names = [sym.uaddr2str(pid, pc) for pc in frames]
        return {"kind": "stack", "pid": pid, "frames": frames, "symbols": names}
    text_of = stackfmt.record_text(action, arg, raw, sym)[2:].rstrip(b" ")
    return {
        "kind": "address",
        "pid": w[0] if len(w) > 1 else None,
        "value": w[-1] if w else 0,
        "symbol": text_of.decode("utf-8", "replace"),
    }


# -- aggregations ------------------------------------------------------------------


def key_value(rec: RecDesc, raw: bytes, signed: bool = True) -> object:
    """An aggregation key: a JSON number (integers by size), a string, or an
    object for stacks, addresses and other bytes."""
    if rec.action in _STACK_KEYS or rec.action in _ADDR_KEYS:
        return stack_value(rec.action, rec.arg, raw)
    if len(raw) in (1, 2, 4, 8):
        return int.from_bytes(raw, sys.byteorder, signed=signed)
    s = as_string(raw)
    return s if s is not None else bytes_value(raw)


def _count(val: int, normal: int) -> int:
    """A bucket count as the text histograms show it (unsigned division)."""
    if normal == 1:
        return val
    return s64((val & _M64) // max(normal & _M64, 1))


def buckets(kind: int, words: Sequence[int], normal: int = 1) -> list[list[int]]:
    """The non-zero buckets of a quantize-family value as [lower, upper,
    count], bounds inclusive, lowest first."""
    spans: list[tuple[int, int]] = []
    data: Sequence[int]
    if kind == QUANTIZE:
        data = words
        val = histogram.quantize_bucketval
        zero = histogram.QUANTIZE_ZEROBUCKET
        last = histogram.QUANTIZE_NBUCKETS - 1
        for i in range(len(data)):
            if i < zero:
                lo = INT64_MIN if i == 0 else val(i - 1) + 1
                spans.append((lo, val(i)))
            elif i == zero:
                spans.append((0, 0))
            else:
                spans.append((val(i), INT64_MAX if i == last else val(i + 1) - 1))
    elif kind == LQUANTIZE:
        base, step, levels = histogram.lquantize_params(words[0] & _M64)
        data = words[1:]
        spans.append((INT64_MIN, base - 1))
        spans += [(base + i * step, base + (i + 1) * step - 1) for i in range(levels)]
        spans.append((base + levels * step, INT64_MAX))
    elif kind == LLQUANTIZE:
        bounds = llquantize_bounds(words[0])
        data = words[1:]
        spans.append((INT64_MIN, bounds[0] - 1))
        spans += [(bounds[i], bounds[i + 1] - 1) for i in range(1, len(bounds) - 1)]
        spans.append((bounds[-1], INT64_MAX))
    else:
        raise ValueError(f"aggregating function {kind} has no buckets")
    return [[lo, hi, _count(v, normal)] for (lo, hi), v in zip(spans, data, strict=False) if v]


def agg_value(e: Entry) -> object:
    """A value as the text output shows it: an integer, or for the quantize
    family ``{"buckets": [[lower, upper, count], ...]}``."""
    kind, words, normal = e.kind, e.words, e.normal
    if kind in HISTOGRAMS:
        return {"buckets": buckets(kind, words, normal)}
    if kind == AVG:
        return average(words, normal)
    if kind == STDDEV:
        return stddev(words, normal)
    return words[0] if normal == 1 else s64((words[0] & _M64) // (normal & _M64))


def _signs(aggs: Aggregations, varid: int) -> list[bool]:
    var = aggs.variables.get(varid)
    return [bool(getattr(t, "signed", True)) for t in getattr(var, "keys", None) or []]


def keys_of(aggs: Aggregations, e: Entry) -> list[object]:
    signs = _signs(aggs, e.varid)
    return [
        key_value(rec, raw, signs[i] if i < len(signs) else True)
        for i, (rec, raw) in enumerate(zip(e.keyrecs, e.keys, strict=True))
    ]


def var_name(aggs: Aggregations, varid: int) -> str:
    var = aggs.variables.get(varid)
    return var.name if var is not None else f"<{varid}>"


def aggregation_records(aggs: Aggregations, opts: SortOptions) -> Iterable[JSON]:
    """The end of run (what print_unprinted prints in text): one record per
    variable with every entry not printed by printa(), in dtrace's order."""
    current: JSON | None = None
    for e in aggs.sorted(opts):
        if e.aggid in aggs.printed:
            continue
        if current is None or current["id"] != e.varid:
            if current is not None:
                yield current
            current = {
                "type": "aggregation",
                "name": var_name(aggs, e.varid),
                "id": e.varid,
                "function": FUNCTIONS.get(e.kind, str(e.kind)),
                "data": [],
            }
        data = current["data"]
        assert isinstance(data, list)
        data.append({"keys": keys_of(aggs, e), "value": agg_value(e)})
    if current is not None:
        yield current


def exit_record(status: int) -> JSON:
    return {"type": "exit", "status": status}


def probe_description(p: ProbeDesc) -> JSON:
    return {"provider": p.provider, "module": p.mod, "function": p.func, "name": p.name}


# -- the printer -------------------------------------------------------------------


class JsonPrinter(Printer):
    """Writes each ECB as a ``probe`` record (docs/json.md); faults as
    ``error`` records.  Same constructor as Printer."""

    fast = False  # every record is a JSON document: no drain-loop plans

    def ecb(self, rec: EcbRecord) -> None:
        if rec.eprobe.uarg == DTRACE_UARG_ERROR:
            self.fault(rec)
            return
        output: list[JSON] = []
        for item in self.actions(rec):
            if isinstance(item, PrintfItem):
                printed = self._printf(rec, item)
                args = [rec.raw(x) for x in item.recs if x.size]
                output.append(
                    {"kind": "printf", "text": text(printed), "args": printf_args(item.fmt, args)}
                )
            elif isinstance(item, PrintaItem):
                if self.aggs is not None and item.varids:
                    output.append(self._printa_record(rec, item.fmtidx, item.varids))
            elif isinstance(item, TracememItem):
                output.append(tracemem_value(rec.raw(item.rec), item.dynsize))
            elif isinstance(item, ShellItem):
                self.shell(rec, item)  # system(), freopen(): nothing recorded
            elif item.action in stackfmt.KINDS and item.size:
                output.append(stack_value(item.action, item.arg, rec.raw(item)))
            elif item.size:
                output.append(trace_value(rec.raw(item), self.rawbytes))
        if self.quiet and not output:
            return
        p = self.probe(rec)
        self.out.write(
            dumps(
                {
                    "type": "probe",
                    "timestamp": rec.timestamp,
                    "cpu": rec.cpu,
                    "id": p.id,
                    "enabled-probe-id": rec.eprobe.epid,
                    "probe-description": probe_description(p),
                    "output": output,
                }
            )
        )

    def _printa_record(self, rec: EcbRecord, fmtidx: int, varids: list[int]) -> JSON:
        assert self.aggs is not None
        aggs = self.aggs
        try:
            rows: list[Row] = aggs.rows(varids, self.aggopts)
        except (ValueError, KeyError) as e:
            raise ConsumeError(self._fault(rec, str(e))) from e
        printed = self._printa(rec, fmtidx, varids)  # marks the rows printed
        return {
            "kind": "printa",
            "text": text(printed),
            "names": [var_name(aggs, v) for v in varids],
            "data": [
                {"keys": keys_of(aggs, row.key), "values": [agg_value(v) for v in row.values]}
                for row in rows
            ],
        }

    def fault(self, rec: EcbRecord) -> None:
        """The library's ERROR clause: an ``error`` record; tracing goes on."""
        epid, probe, action, offset, code, addr = self.fault_args(rec)
        self.out.write(
            dumps(
                {
                    "type": "error",
                    "timestamp": rec.timestamp,
                    "cpu": rec.cpu,
                    "enabled-probe-id": epid,
                    "id": probe.id,
                    "probe-description": probe_description(probe),
                    "action": action,
                    "offset": offset,
                    "fault": code,
                    "fault-name": FAULT_TEXT.get(code, "unknown fault"),
                    "address": addr & _M64,
                    "message": fault_message(epid, probe, action, offset, code, addr),
                }
            )
        )

    def finish(self, status: int) -> None:
        """The end of run: the unprinted aggregations, then the exit record."""
        if self.aggs is not None:
            for r in aggregation_records(self.aggs, self.aggopts):
                self.out.write(dumps(r))
        self.out.write(dumps(exit_record(status)))
        self.out.flush()


def end_of_run(printer: Printer, status: int) -> bytes:
    """For a JsonPrinter, the end-of-run records as bytes (aggregations not
    printed by printa(), then the exit record); what JsonPrinter.finish writes."""
    out: list[bytes] = []
    if printer.aggs is not None:
        out += [dumps(r) for r in aggregation_records(printer.aggs, printer.aggopts)]
    out.append(dumps(exit_record(status)))
    return b"".join(out)


# -- drops -------------------------------------------------------------------------

# The drop messages of consume.output, and each one's kind.
_DROP_KINDS: tuple[tuple[str, str], ...] = (
    ("aggregation drop", "aggregation"),
    ("drop", "principal"),
    ("dynamic variable drop with non-empty rinsing list", "dynamic-rinsing"),
    ("dynamic variable drop with non-empty dirty list", "dynamic-dirty"),
    ("dynamic variable drop", "dynamic"),
    ("speculative drop", "speculative"),
    ("failed speculation (available buffer(s) still busy)", "speculative-busy"),
    ("failed speculation (no speculative buffer available)", "speculative-unavailable"),
    ("jstack()/ustack() string table overflow", "stack-string-overflow"),
    ("error in ERROR probe enabling", "error-in-error-probe"),
)
_DROP = re.compile(r"(?:\[DTRACEDROP_\w+\] )?(\d+) (.+?)(?: on CPU (\d+))?")


def drop_record(message: str) -> JSON | None:
    """The drop record of one of the consumer loop's drop messages, or None
    if the message is not a drop."""
    m = _DROP.fullmatch(message)
    if m is None:
        return None
    what = m.group(2)
    for phrase, kind in _DROP_KINDS:
        if what in (phrase, _plural(phrase)):
            cpu = m.group(3)
            return {
                "type": "drop",
                "kind": kind,
                "count": int(m.group(1)),
                "cpu": None if cpu is None else int(cpu),
                "message": message,
            }
    return None


def _plural(phrase: str) -> str:
    """consume.output's plural: the noun before any tail gets an 's'."""
    for noun in ("drop", "speculation", "overflow", "error"):
        at = phrase.find(noun)
        if at >= 0:
            end = at + len(noun)
            return phrase[:end] + "s" + phrase[end:]
    return phrase


def json_warn(out: BinaryIO, fallback: Callable[[str], None]) -> Callable[[str], None]:
    """A warn callback for the Session (and Printer) when JSON is on: drop
    messages become ``drop`` records on out; anything else goes to fallback
    (the usual ``pydtrace: ...`` line on stderr)."""

    def warn(message: str) -> None:
        rec = drop_record(message)
        if rec is None:
            fallback(message)
            return
        out.write(dumps(rec))
        out.flush()

    return warn
