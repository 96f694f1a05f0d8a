"""Aggregations drawn as histograms: illumos dtrace's agghist, aggpack and
aggzoom options (libdtrace's dt_aggregate_total, dt_aggregate_minmaxbin and
the packed printers of dt_consume.c).

- ``agghist``: count() and sum() values print as one histogram per
  variable, a bar per key (its share of the variable's total), under a
  ``key`` header.
- ``aggpack``: quantize() and lquantize() values print one key per line,
  the buckets packed into one character each, over a range shared by every
  key of the variable so the lines align.
- ``aggzoom``: bars are scaled to the variable's (or histogram's) largest
  value instead of its total.

Everything works on plain words and returns bytes; the rows come from
:mod:`pydtrace.consume.aggregate`.  avg() and stddev() values are not drawn
(libdtrace asserts they never are) and print as usual.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydtrace.abi import lib
from pydtrace.consume import histogram
from pydtrace.consume.histogram import QUANTIZE_ZEROBUCKET

if TYPE_CHECKING:
    from pydtrace.consume.histogram import Total

COUNT = int(lib.DTRACEAGG_COUNT)
SUM = int(lib.DTRACEAGG_SUM)
QUANTIZE = int(lib.DTRACEAGG_QUANTIZE)
LQUANTIZE = int(lib.DTRACEAGG_LQUANTIZE)

# dt_print_datum's fmttab: the packed width of a key record by its size.
_PACKED_WIDTH = {1: 3, 2: 5, 4: 8, 8: 16}
PACKED_BYTES_WIDTH = 16

_M64 = (1 << 64) - 1


@dataclass(frozen=True)
class Shape:
    """How one variable is drawn: "hist" (with the variable's total and
    signs) or "pack" (with its bucket range, or its lquantize levels)."""

    how: str
    total: Total = 0
    positives: bool = False
    negatives: bool = False
    minbin: int = 0
    maxbin: int = 0
    levels: int = 0


def _s64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


def hist_shape(values: Iterable[int], zoom: bool) -> Shape:
    """dt_aggregate_total() over a count() or sum() variable's values."""
    total: Total = 0
    pos = neg = False
    z = histogram.zoom_factor() if zoom else 0
    for v in values:
        v = _s64(v)
        pos |= v > 0
        neg |= v < 0
        if zoom:
            total = max(total, int(abs(v) * z))  # (int64_t)(val * 1/0.95)
        else:
            total += abs(v)
    return Shape("hist", total, pos, neg)


def quantize_range(values: Iterable[Sequence[int]]) -> tuple[int, int]:
    """dt_aggregate_minmaxbin() for quantize(): the lowest and highest
    non-zero bucket of any key (the zero bucket when none has data)."""
    lo = hi = -1
    for words in values:
        used = [i for i, v in enumerate(words) if v]
        if not used:
            a = b = QUANTIZE_ZEROBUCKET
        else:
            a, b = used[0], used[-1]
        lo = a if lo < 0 else min(lo, a)
        hi = max(hi, b)
    return (lo, hi) if lo >= 0 else (QUANTIZE_ZEROBUCKET, QUANTIZE_ZEROBUCKET)


def var_shape(
    kind: int, values: Sequence[Sequence[int]], hist: bool, pack: bool, zoom: bool
) -> Shape | None:
    """The shape of a variable of aggregating function ``kind`` whose keys
    have the value words ``values``; None when it prints as usual."""
    if hist and kind in (COUNT, SUM):
        return hist_shape((w[0] for w in values), zoom)
    if pack and kind == QUANTIZE:
        lo, hi = quantize_range(values)
        return Shape("pack", minbin=lo, maxbin=hi)
    if pack and kind == LQUANTIZE and values:
        _, _, levels = histogram.lquantize_params(values[0][0] & _M64)
        return Shape("pack", levels=levels)
    return None


def key_width(sizes: Iterable[int]) -> int:
    """The header's key column: every key's packed width plus its space."""
    return sum(_PACKED_WIDTH.get(n, PACKED_BYTES_WIDTH) + 1 for n in sizes)


def header(shape: Shape, kind: int, keywidth: int) -> bytes:
    """The header printed before a variable's first drawn key."""
    if shape.how == "hist":
        return histogram.hist_header(keywidth)
    if kind == QUANTIZE:
        return histogram.quantize_packed_header(keywidth, shape.minbin, shape.maxbin)
    return histogram.lquantize_packed_header(keywidth, shape.levels)


def packed_utf8(encoding: str) -> bool:
    """dt_print_packed()'s choice of cells: the encoding option, else UTF-8
    unless TERM names a terminal that cannot show it."""
    if encoding:
        return encoding == "utf8"
    return os.environ.get("TERM") not in ("sun", "sun-color", "dumb")


def value(
    shape: Shape, kind: int, words: Sequence[int], normal: int, zoom: bool, encoding: str
) -> bytes:
    """One drawn value, after its keys; it ends the line."""
    if shape.how == "hist":
        return b" " + histogram.quant_line(
            _s64(words[0]),
            normal,
            shape.total,
            shape.positives,
            shape.negatives,
            encoding == "utf8",
        )
    utf8 = packed_utf8(encoding)
    if kind == QUANTIZE:
        return histogram.quantize_packed(words, shape.minbin, shape.maxbin, zoom, utf8)
    return histogram.lquantize_packed(words, zoom, utf8)
