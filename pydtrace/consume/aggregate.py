"""Aggregations on the user side (dtrace-internals 3.6, 7.5-7.7, 7.9, 7.10).

Every ``aggrate`` the consumer snapshots each CPU's aggregation buffer; the
records (per-interval deltas) are merged here into one table keyed by the
raw bytes of their key records (the variable id first), as libdtrace's
dt_aggregate_snap_cpu does.  The table is sorted as libdtrace sorts it,
cleared/truncated/normalized by the library actions, and printed with
dtrace(1)'s formats.  Nothing here does I/O: printing returns bytes.
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import isqrt
from typing import Protocol

from pydtrace.abi import lib
from pydtrace.consume import aggshape, histogram, stackfmt
from pydtrace.consume.output import print_bytes
from pydtrace.consume.printf import convert
from pydtrace.fmt import Conversion, Format
from pydtrace.runtime.kernel import AggDesc, RecDesc

_M64 = (1 << 64) - 1
_M128 = (1 << 128) - 1

# How the words of a value merge (dt_aggregate_count, _lquantize, _min, _max).
MERGE_ADD = 0  # add word-wise (count sum avg stddev quantize)
MERGE_ADD_PARAM = 1  # add word-wise after the parameter word (l/llquantize)
MERGE_MIN = 2
MERGE_MAX = 3

COUNT = int(lib.DTRACEAGG_COUNT)
SUM = int(lib.DTRACEAGG_SUM)
MIN = int(lib.DTRACEAGG_MIN)
MAX = int(lib.DTRACEAGG_MAX)
AVG = int(lib.DTRACEAGG_AVG)
STDDEV = int(lib.DTRACEAGG_STDDEV)
QUANTIZE = int(lib.DTRACEAGG_QUANTIZE)
LQUANTIZE = int(lib.DTRACEAGG_LQUANTIZE)
LLQUANTIZE = int(lib.DTRACEAGG_LLQUANTIZE)
HISTOGRAMS = (QUANTIZE, LQUANTIZE, LLQUANTIZE)
_PAIR_KEYS = (int(lib.DTRACEACT_USYM), int(lib.DTRACEACT_UMOD), int(lib.DTRACEACT_UADDR))
_SYM_KEYS = (int(lib.DTRACEACT_SYM), int(lib.DTRACEACT_MOD))
_STACK_KEYS = (int(lib.DTRACEACT_STACK),)

# (record size, (offset, size) of every record but the value, value offset,
#  value words, MERGE_*) of an aggregation id: what the merge needs.
Layout = tuple[int, tuple[tuple[int, int], ...], int, int, int]


def s64(v: int) -> int:
    """v as a signed 64-bit integer (C's wrap-around)."""
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


def cdiv(a: int, b: int) -> int:
    """C's signed division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def merge_mode(kind: int) -> int:
    if kind == MIN:
        return MERGE_MIN
    if kind == MAX:
        return MERGE_MAX
    if kind in (LQUANTIZE, LLQUANTIZE):
        return MERGE_ADD_PARAM
    return MERGE_ADD


def layout(desc: AggDesc) -> Layout:
    if len(desc.recs) < 2:
        raise ValueError(f"aggregation {desc.aggid} has {len(desc.recs)} records")
    value = desc.recs[-1]
    spans = tuple((r.offset, r.size) for r in desc.recs[:-1])
    return desc.size, spans, value.offset, value.size // 8, merge_mode(value.action)


class Entry:
    """One key of one aggregation variable in the user-side table."""

    __slots__ = ("aggid", "desc", "raw", "words", "normal", "varid")

    def __init__(self, desc: AggDesc, raw: tuple[bytes, ...], words: list[int]) -> None:
        self.aggid = desc.aggid  # the aggregation id that created it
        self.desc = desc
        self.raw = raw  # bytes of every record but the value
        self.words = words  # the value, signed 64-bit words
        self.normal = 1
        self.varid = int.from_bytes(raw[0][:8], sys.byteorder) if raw else 0

    @property
    def kind(self) -> int:
        return self.desc.recs[-1].action

    @property
    def keyrecs(self) -> tuple[RecDesc, ...]:
        return self.desc.recs[1:-1]

    @property
    def keys(self) -> tuple[bytes, ...]:
        return self.raw[1:]

    def __repr__(self) -> str:
        return f"Entry(var={self.varid}, keys={self.keys!r}, words={self.words!r})"


# -- merging ---------------------------------------------------------------------


def py_merge(
    data: bytes,
    layout_of: Callable[[int], Layout],
    table: dict[tuple[bytes, ...], Entry],
    new_entry: Callable[[int, tuple[bytes, ...], list[int]], Entry],
) -> int:
    """Merge one aggregation-buffer snapshot into table; the records merged."""
    off, n, count = 0, len(data), 0
    while off + 4 <= n:
        aggid = int.from_bytes(data[off : off + 4], sys.byteorder)
        if aggid == 0:
            off += 4
            continue
        size, spans, valoff, nwords, mode = layout_of(aggid)
        if size < 4 or off + size > n or valoff + 8 * nwords > size:
            raise ValueError(
                f"aggregation {aggid} at offset {off}: record of {size} bytes overruns the buffer"
            )
        key = tuple(data[off + o : off + o + s] for o, s in spans)
        vals = struct.unpack_from(f"={nwords}q", data, off + valoff)
        entry = table.get(key)
        if entry is None:
            table[key] = new_entry(aggid, key, list(vals))
        else:
            words = entry.words
            if mode == MERGE_MIN:
                if vals[0] < words[0]:
                    words[0] = vals[0]
            elif mode == MERGE_MAX:
                if vals[0] > words[0]:
                    words[0] = vals[0]
            else:
                for i in range(1 if mode == MERGE_ADD_PARAM else 0, nwords):
                    words[i] = s64(words[i] + vals[i])
        off += size
        count += 1
    return count


try:
    from pydtrace.consume._aggmerge import merge
except ImportError:  # the extension is not built: same behaviour, slower
    merge = py_merge


# -- values ----------------------------------------------------------------------


def stddev(words: Sequence[int], normal: int = 1) -> int:
    """libdtrace's dt_stddev(): sqrt(avg(x^2) - avg(x)^2) in 128-bit integers."""
    n = words[0] & _M64
    if n == 0:
        return 0
    normal &= _M64
    sq = (words[2] & _M64) | ((words[3] & _M64) << 64)
    avg_sq = sq // normal // normal // n
    avg = abs(cdiv(cdiv(s64(words[1]), s64(normal)), s64(n)))
    diff = (avg_sq - avg * avg) & _M128
    return isqrt(diff) & _M64


def average(words: Sequence[int], normal: int = 1) -> int:
    """dt_print_average(): sum / normal / count, signed, 0 without data."""
    if words[0] == 0:
        return 0
    return cdiv(cdiv(words[1], s64(normal)), words[0])


def _quantize_sum(words: Sequence[int]) -> tuple[int, int]:
    total = sum(histogram.quantize_bucketval(i) * v for i, v in enumerate(words))
    return total, words[histogram.QUANTIZE_ZEROBUCKET]


def _lquantize_sum(words: Sequence[int]) -> tuple[int, int]:
    base, step, levels = histogram.lquantize_params(words[0] & _M64)
    data = words[1:]
    total = data[0] * (base - 1)
    zero = data[0] if base - 1 == 0 else None
    b = base
    for i in range(levels):
        total += data[i + 1] * b
        if b == 0 and zero is None:
            zero = data[i + 1]
        b += step
    total += data[levels + 1] * (b + 1)
    if zero is None:
        zero = data[levels + 1] if b + 1 == 0 else 0
    return total, zero


def _llquantize_sum(words: Sequence[int]) -> tuple[int, int]:
    factor, low, high, nsteps = histogram.llquantize_params(words[0] & _M64)
    data = words[1:]
    value = factor**low
    total = data[0] * (value - 1)
    bucket = 1
    nxt = value * factor
    step = nxt // nsteps if nxt > nsteps else 1
    order = low
    while order <= high and bucket < len(data):
        total += data[bucket] * value
        bucket += 1
        value += step
        if value != nxt:
            continue
        nxt = value * factor
        step = nxt // nsteps if nxt > nsteps else 1
        order += 1
    if bucket < len(data):
        total += data[bucket] * value
    return total, data[0]


def sort_value(kind: int, words: Sequence[int]) -> tuple[int, ...]:
    """What dt_aggregate_valcmp compares for a value, in order."""
    if kind == AVG:
        return (cdiv(words[1], words[0]) if words[0] else 0,)
    if kind == STDDEV:
        return (stddev(words),)
    if kind == QUANTIZE:
        return _quantize_sum(words)
    if kind == LQUANTIZE:
        return _lquantize_sum(words)
    if kind == LLQUANTIZE:
        return _llquantize_sum(words)
    return (words[0],)


def value_text(
    kind: int, words: Sequence[int], normal: int = 1, zoom: bool = False, utf8: bool = False
) -> bytes:
    """The value as printa() without a format and the end of run print it
    (7.6); histograms scaled by aggzoom and drawn in UTF-8 with encoding=utf8."""
    if kind == QUANTIZE:
        return histogram.quantize(words, normal, zoom, utf8)
    if kind == LQUANTIZE:
        return histogram.lquantize(words, normal, zoom, utf8)
    if kind == LLQUANTIZE:
        return histogram.llquantize(words, normal, zoom, utf8)
    if kind == AVG:
        return b" %16d" % average(words, normal)
    if kind == STDDEV:
        return b" %16d" % stddev(words, normal)
    # (long long)*(uint64_t *)addr / normal: an unsigned division
    v = words[0] if normal == 1 else s64((words[0] & _M64) // (normal & _M64))
    return b" %16d" % v


def key_text(rec: RecDesc, raw: bytes) -> bytes:
    """One key as printa() without a format prints it (dt_print_datum)."""
    if rec.action in stackfmt.KINDS and (rec.arg or rec.action not in stackfmt.STACKS):
        return stackfmt.record_text(rec.action, rec.arg, raw)
    n = len(raw)
    if n == 8:
        return b" %16d" % int.from_bytes(raw, sys.byteorder, signed=True)
    if n == 4:
        return b" %8d" % int.from_bytes(raw, sys.byteorder, signed=True)
    if n == 2:
        return b" %5d" % int.from_bytes(raw, sys.byteorder)
    if n == 1:
        return b" %3d" % raw[0]
    return print_bytes(raw, -50, False)


def value_conversion(
    kind: int,
    words: Sequence[int],
    normal: int,
    c: Conversion,
    width: int | None,
    prec: int | None,
    opts: SortOptions | None = None,
) -> bytes:
    """A %@ conversion of printa() applied to one value (libdtrace's pfprint_*)."""
    if kind in HISTOGRAMS:
        o = opts if opts is not None else SortOptions()
        return value_text(kind, words, normal, o.zoom, o.encoding == "utf8")
    n = normal & _M64
    if kind == AVG:
        # pfprint_average divides as uint64_t
        v = ((words[1] & _M64) // n // (words[0] & _M64)) if words[0] else 0
        signed = True
    elif kind == STDDEV:
        v, signed = stddev(words, normal), True
    elif kind == COUNT:
        v, signed = (words[0] & _M64) // n, False
    else:
        v, signed = cdiv(words[0], s64(normal)), True
    piece = Conversion(c.text, c.flags, c.width, c.precision, c.length, c.conv, signed)
    return convert(piece, (v & _M64).to_bytes(8, sys.byteorder), width, prec)


# -- sorting ---------------------------------------------------------------------


@dataclass(frozen=True)
class SortOptions:
    """The options of aggregation printing: the aggsort* options (7.7;
    ``pos``/``keypos`` already validated) and how values are drawn
    (agghist, aggpack, aggzoom, encoding: pydtrace.consume.aggshape)."""

    key: bool = False
    rev: bool = False
    pos: int = 0
    keypos: int = 0
    hist: bool = False
    pack: bool = False
    zoom: bool = False
    encoding: str = ""


def _cmp(a: object, b: object) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


def varcmp(lhs: Entry, rhs: Entry) -> int:
    return _cmp(lhs.varid, rhs.varid)


def keycmp(lhs: Entry, rhs: Entry, keypos: int = 0) -> int:
    """dt_aggregate_keycmp: record by record from keypos, unsigned by size."""
    c = _cmp(len(lhs.desc.recs), len(rhs.desc.recs))
    if c:
        return c
    nrecs = len(lhs.desc.recs) - 1
    if keypos < 0 or keypos + 1 >= nrecs:
        keypos = 0
    for i in range(1, nrecs):
        ndx = i + keypos
        if ndx >= nrecs:
            ndx = ndx - nrecs + 1
        lrec, rrec = lhs.desc.recs[ndx], rhs.desc.recs[ndx]
        c = _cmp(lrec.size, rrec.size)
        if c:
            return c
        lraw, rraw = lhs.raw[ndx], rhs.raw[ndx]
        if lrec.size in (1, 2, 4, 8):
            c = _cmp(int.from_bytes(lraw, sys.byteorder), int.from_bytes(rraw, sys.byteorder))
        elif lrec.action in _PAIR_KEYS:
            lw = struct.unpack_from("=2Q", lraw)
            rw = struct.unpack_from("=2Q", rraw)
            c = _cmp(lw, rw)
        else:
            c = _cmp(lraw, rraw)
        if c:
            return c
    return 0


def valcmp(lhs: Entry, rhs: Entry) -> int:
    """dt_aggregate_valcmp: same layout first, then the value by its function."""
    lrecs, rrecs = lhs.desc.recs, rhs.desc.recs
    c = _cmp(len(lrecs), len(rrecs))
    if c:
        return c
    for lr, rr in zip(lrecs, rrecs, strict=True):
        c = _cmp(lr.offset, rr.offset) or _cmp(lr.action, rr.action)
        if c:
            return c
    return _cmp(sort_value(lhs.kind, lhs.words), sort_value(rhs.kind, rhs.words))


def sort_entries(entries: Iterable[Entry], opts: SortOptions) -> list[Entry]:
    """dt_aggregate_qsort with the default comparison: variable, then value
    and key (or key only with aggsortkey); aggsortrev reverses everything."""
    sign = -1 if opts.rev else 1

    def compare(a: Entry, b: Entry) -> int:
        c = varcmp(a, b)
        if c:
            return c * sign
        if not opts.key:
            c = valcmp(a, b)
            if c:
                return c * sign
        return keycmp(a, b, opts.keypos) * sign

    return sorted(entries, key=functools.cmp_to_key(compare))


def _valkey_sorted(entries: Iterable[Entry]) -> list[Entry]:
    """dtrace_aggregate_walk_valsorted: var, value, key; options ignored."""

    def compare(a: Entry, b: Entry) -> int:
        return varcmp(a, b) or valcmp(a, b) or keycmp(a, b)

    return sorted(entries, key=functools.cmp_to_key(compare))


# -- the table -------------------------------------------------------------------


class AggVarInfo(Protocol):
    """What the consumer knows of an aggregation variable from the compiler
    (pydtrace.sema.aggs.AggVar has these)."""

    id: int
    name: str
    kind: int
    arg: int


def value_words(kind: int, arg: int) -> int:
    """Words of a value of that function and parameter word."""
    if kind == AVG:
        return 2
    if kind == STDDEV:
        return 4
    if kind == QUANTIZE:
        return histogram.QUANTIZE_NBUCKETS
    if kind == LQUANTIZE:
        return histogram.lquantize_params(arg)[2] + 3
    if kind == LLQUANTIZE:
        return histogram.llquantize_nbuckets(arg) + 1
    return 1


@dataclass(frozen=True)
class Row:
    """One printed row: the entry whose keys are shown, and one value per
    aggregation of the printa()."""

    key: Entry
    values: tuple[Entry, ...]


class Aggregations:
    """The merged aggregations of one consumer."""

    def __init__(
        self,
        describe: Callable[[int], AggDesc],
        variables: Mapping[int, AggVarInfo] | None = None,
    ) -> None:
        self._describe = describe
        self.variables: Mapping[int, AggVarInfo] = variables if variables is not None else {}
        self._layouts: dict[int, Layout] = {}
        self.table: dict[tuple[bytes, ...], Entry] = {}
        self.printed: set[int] = set()  # aggregation ids printed by printa()

    # -- merging -----------------------------------------------------------
    def desc(self, aggid: int) -> AggDesc:
        return self._describe(aggid)

    def _layout(self, aggid: int) -> Layout:
        lay = self._layouts.get(aggid)
        if lay is None:
            lay = self._layouts[aggid] = layout(self.desc(aggid))
        return lay

    def _new(self, aggid: int, raw: tuple[bytes, ...], words: list[int]) -> Entry:
        return Entry(self.desc(aggid), raw, words)

    def merge(self, data: bytes) -> int:
        """Add one CPU's snapshot; the number of records in it."""
        return merge(data, self._layout, self.table, self._new)

    def entries(self, varid: int | None = None) -> list[Entry]:
        return [e for e in self.table.values() if varid is None or e.varid == varid]

    # -- library actions (7.10) ----------------------------------------------
    def clear(self, varid: int) -> None:
        """Zero every value (keys stay); l/llquantize keep their parameters."""
        for e in self.entries(varid):
            start = 1 if e.kind in (LQUANTIZE, LLQUANTIZE) else 0
            for i in range(start, len(e.words)):
                e.words[i] = 0

    def trunc(self, varid: int, n: int = 0) -> None:
        """Keep the n largest values (n < 0: the -n smallest), drop the rest."""
        ordered = _valkey_sorted(self.entries(varid))
        if n >= 0:
            ordered.reverse()
        for e in ordered[abs(n) :]:
            del self.table[e.raw]

    def normalize(self, varid: int, n: int) -> None:
        for e in self.entries(varid):
            e.normal = n if n else 1

    def denormalize(self, varid: int) -> None:
        for e in self.entries(varid):
            e.normal = 1

    # -- walking -----------------------------------------------------------
    def sorted(self, opts: SortOptions, varid: int | None = None) -> list[Entry]:
        return sort_entries(self.entries(varid), opts)

    def _zero(self, varid: int, like: Entry | None) -> Entry:
        """A zero value of a variable without data for a key (joined printa)."""
        proto = next((e for e in self.table.values() if e.varid == varid), None)
        var = self.variables.get(varid)
        if proto is not None:
            desc, kind, param = proto.desc, proto.kind, proto.words[0]
            nwords = len(proto.words)
        else:
            if like is None or var is None:
                raise KeyError(f"aggregation variable {varid} is unknown")
            kind, param = var.kind, var.arg
            nwords = value_words(kind, param)
            vrec = like.desc.recs[-1]
            value = RecDesc(kind, 8 * nwords, vrec.offset, 8, 0, param, 0)
            desc = AggDesc(0, 0, vrec.offset + 8 * nwords, (*like.desc.recs[:-1], value))
        words = [0] * nwords
        if kind in (LQUANTIZE, LLQUANTIZE):
            words[0] = param
        raw = (varid.to_bytes(8, sys.byteorder), *(like.raw[1:] if like else ()))
        return Entry(desc, raw, words)

    def joined(self, varids: Sequence[int], opts: SortOptions) -> list[Row]:
        """dtrace_aggregate_walk_joined: the keys of several variables, each
        with every variable's value (zero where it has none), sorted by the
        aggsortpos-th value (or the key with aggsortkey)."""
        n = len(varids)
        sortpos = opts.pos if 0 <= opts.pos < n else 0
        pos: dict[int, int] = {}
        remap = [0] * n
        for i in range(n):
            var = varids[(i + sortpos) % n]
            if var in pos:
                remap[i] = pos[var]
            else:
                pos[var] = i + 1
        ents = [e for e in self.table.values() if e.varid in pos]
        if not ents:
            return []

        def keyvar(a: Entry, b: Entry) -> int:
            return keycmp(a, b, opts.keypos) or varcmp(a, b)

        ents.sort(key=functools.cmp_to_key(keyvar))
        zeros: dict[int, Entry] = {}
        bundles: list[list[Entry]] = []
        start = 0
        for i in range(1, len(ents) + 1):
            if i < len(ents) and keycmp(ents[i], ents[i - 1], opts.keypos) == 0:
                continue
            group = ents[start:i]
            start = i
            slots: list[Entry | None] = [None] * n
            for e in group:
                slots[pos[e.varid] - 1] = e
            for j in range(n):
                if slots[j] is not None:
                    continue
                if remap[j]:
                    slots[j] = slots[remap[j] - 1]
                    continue
                var = varids[(j - sortpos) % n]
                if var not in zeros:
                    zeros[var] = self._zero(var, group[0])
                slots[j] = zeros[var]
            bundles.append([*(s for s in slots if s is not None), group[0]])

        sign = -1 if opts.rev else 1

        def bundlecmp(lb: list[Entry], rb: list[Entry]) -> int:
            if opts.key:
                c = keycmp(lb[-1], rb[-1], opts.keypos)
                if c:
                    return c * sign
            for a, b in zip(lb[:-1], rb[:-1], strict=True):
                c = valcmp(a, b)
                if c:
                    return c * sign
            if opts.key:
                return 0
            return keycmp(lb[-1], rb[-1], opts.keypos) * sign

        bundles.sort(key=functools.cmp_to_key(bundlecmp))
        return [Row(b[-1], tuple(b[(j - sortpos) % n] for j in range(n))) for b in bundles]

    def rows(self, varids: Sequence[int], opts: SortOptions) -> list[Row]:
        """The rows printa() of those variables prints, in order."""
        if len(varids) == 1:
            return [Row(e, (e,)) for e in self.sorted(opts, varids[0])]
        return self.joined(varids, opts)

    # -- printing ----------------------------------------------------------
    def _mark(self, rows: Iterable[Row]) -> None:
        for r in rows:
            self.printed.update(v.aggid for v in r.values)

    def printa(self, varids: Sequence[int], opts: SortOptions) -> bytes:
        """printa(@a[, @b ...]) without a format: a blank line, then each row:
        its keys, its values, a newline."""
        rows = self.rows(varids, opts)
        self._mark(rows)
        return b"\n" + self._rows_text(rows, opts)

    def _rows_text(self, rows: Iterable[Row], opts: SortOptions) -> bytes:
        """Rows as dt_print_aggs prints them; under agghist/aggpack a drawn
        variable's rows follow a header printed before its first one."""
        if not (opts.hist or opts.pack):
            return b"".join(default_row(r, opts) for r in rows)
        out: list[bytes] = []
        shapes: dict[int, aggshape.Shape | None] = {}
        header_of: int | None = None
        for r in rows:
            e = r.key
            shape = None
            if len(r.values) == 1:
                if e.varid not in shapes:
                    words = [x.words for x in self.entries(e.varid)]
                    shapes[e.varid] = aggshape.var_shape(
                        e.kind, words, opts.hist, opts.pack, opts.zoom
                    )
                shape = shapes[e.varid]
            if shape is None:
                out.append(default_row(r, opts))
                continue
            if header_of != e.varid:
                width = aggshape.key_width(rec.size for rec in e.keyrecs)
                out.append(aggshape.header(shape, e.kind, width))
                header_of = e.varid
            out += [packed_key_text(rec, raw) for rec, raw in zip(e.keyrecs, e.keys, strict=True)]
            out.append(aggshape.value(shape, e.kind, e.words, e.normal, opts.zoom, opts.encoding))
        return b"".join(out)

    def printa_format(
        self,
        fmt: Format,
        varids: Sequence[int],
        opts: SortOptions,
        render: Callable[[Format, list[bytes], list[Callable[..., bytes]]], bytes],
    ) -> bytes:
        """printa("fmt", @a[, @b ...]): the format applied to each row."""
        rows = self.rows(varids, opts)
        self._mark(rows)
        out = []
        for r in rows:
            values = [
                functools.partial(value_conversion, v.kind, v.words, v.normal, opts=opts)
                for v in r.values
            ]
            keys = [
                stackfmt.tagged(rec.action, rec.arg, raw)
                for rec, raw in zip(r.key.keyrecs, r.key.keys, strict=True)
            ]
            out.append(render(fmt, keys, values))
        return b"".join(out)

    def print_unprinted(self, opts: SortOptions) -> bytes:
        """The end of run (7.9): every entry not printed by printa(), all
        variables in order, each entry as printa() prints it."""
        rows = [Row(e, (e,)) for e in self.sorted(opts) if e.aggid not in self.printed]
        return self._rows_text(rows, opts)


def default_row(row: Row, opts: SortOptions | None = None) -> bytes:
    """dt_print_aggs: the keys, then every value, then a newline."""
    o = opts if opts is not None else SortOptions()
    e = row.key
    out = [key_text(rec, raw) for rec, raw in zip(e.keyrecs, e.keys, strict=True)]
    out += [value_text(v.kind, v.words, v.normal, o.zoom, o.encoding == "utf8") for v in row.values]
    out.append(b"\n")
    return b"".join(out)


def packed_key_text(rec: RecDesc, raw: bytes) -> bytes:
    """A key under agghist/aggpack: strings and bytes in 16 columns."""
    if len(raw) in (1, 2, 4, 8) or rec.action in _STACK_KEYS + _SYM_KEYS + _PAIR_KEYS:
        return key_text(rec, raw)
    return print_bytes(raw, aggshape.PACKED_BYTES_WIDTH, False)


# -- Python values for the scripting API -------------------------------------------


def python_key(
    rec: RecDesc, raw: bytes, signed: bool = True
) -> int | str | bytes | tuple[str, ...]:
    """A key as a Python value: integers by size, strings up to their NUL,
    stacks as tuples of their frames' text, symbols as their text."""
    if rec.action in stackfmt.KINDS:
        return stackfmt.python_value(rec.action, rec.arg, raw)
    if rec.size in (1, 2, 4, 8) and rec.action == lib.DTRACEACT_DIFEXPR:
        return int.from_bytes(raw, sys.byteorder, signed=signed)
    nul = raw.find(b"\0")
    text = raw if nul < 0 else raw[:nul]
    if nul >= 0 and not raw[nul:].strip(b"\0"):
        return text.decode("utf-8", "surrogateescape")
    return raw


def python_value(entry: Entry) -> int | list[tuple[int | None, int]]:
    """A value as a Python value: an integer, or for the quantize family the
    non-zero buckets as (lower bound, count), None for lquantize/llquantize's
    underflow bucket."""
    kind, words, normal = entry.kind, entry.words, entry.normal
    if kind == QUANTIZE:
        return [
            (histogram.quantize_bucketval(i), cdiv(v, normal)) for i, v in enumerate(words) if v
        ]
    if kind == LQUANTIZE:
        base, step, levels = histogram.lquantize_params(words[0] & _M64)
        out: list[tuple[int | None, int]] = []
        for i, v in enumerate(words[1:]):
            if v:
                out.append((None if i == 0 else base + (i - 1) * step, cdiv(v, normal)))
        return out
    if kind == LLQUANTIZE:
        return [
            (None if i == 0 else b, cdiv(v, normal))
            for i, (b, v) in enumerate(zip(llquantize_bounds(words[0]), words[1:], strict=False))
            if v
        ]
    if kind == AVG:
        return average(words, normal)
    if kind == STDDEV:
        return stddev(words, normal)
    return cdiv(words[0], normal)


def llquantize_bounds(arg: int) -> list[int]:
    """The lower bound of every llquantize bucket (bucket 0: factor^low too)."""
    factor, low, high, nsteps = histogram.llquantize_params(arg & _M64)
    value = factor**low
    out = [value]
    nxt = value * factor
    step = nxt // nsteps if nxt > nsteps else 1
    order = low
    while order <= high:
        out.append(value)
        value += step
        if value != nxt:
            continue
        nxt = value * factor
        step = nxt // nsteps if nxt > nsteps else 1
        order += 1
    out.append(value)
    return out
