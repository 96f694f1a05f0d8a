"""quantize(), lquantize() and llquantize() histograms as dtrace(1) prints
them (dtrace-internals 7.6; libdtrace's dt_print_quantize and friends).

Bucket counts are signed 64-bit words (increments may be negative); the
lquantize and llquantize word lists start with their parameter word.
Everything returns bytes and does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fractions (and decimal) only when a bar needs them
    from fractions import Fraction

    # Bar totals are integers, or fractions under aggzoom.
    Total = int | Fraction

QUANTIZE_NBUCKETS = 127
QUANTIZE_ZEROBUCKET = 63
BAR = 40

HEADER = b"\n%16s %41s %-9s\n" % (b"value", b"------------- Distribution -------------", b"count")

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1

_ZOOM: Fraction | None = None


def zoom_factor() -> Fraction:
    """aggzoom: the tallest bar is DTRACE_AGGZOOM_MAX (0.95) of the full
    height; libdtrace scales by 1 / DTRACE_AGGZOOM_MAX, a double."""
    global _ZOOM
    if _ZOOM is None:
        from fractions import Fraction

        _ZOOM = Fraction(1 / 0.95)
    return _ZOOM

# -encoding=utf8 bars (dt_print_quantline_utf8): whole cells of U+2588 and a
# last cell of U+2589..U+258F for the eighths; aggpack cells U+2581..U+2588.
_UTF8_FULL = chr(0x2588).encode()
_UTF8_BASE = 0x258F
_PACK_BASE = 0x2581


def _s64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


def _s32(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >> 31 else v


def quantize_bucketval(i: int) -> int:
    """DTRACE_QUANTIZE_BUCKETVAL: the value bucket i stands for."""
    if i < QUANTIZE_ZEROBUCKET:
        return -(1 << (QUANTIZE_ZEROBUCKET - 1 - i))
    if i == QUANTIZE_ZEROBUCKET:
        return 0
    return 1 << (i - QUANTIZE_ZEROBUCKET - 1)


def lquantize_params(arg: int) -> tuple[int, int, int]:
    """(base, step, levels) of an lquantize parameter word."""
    return _s32(arg), (arg >> 48) & 0xFFFF, (arg >> 32) & 0xFFFF


def llquantize_params(arg: int) -> tuple[int, int, int, int]:
    """(factor, low, high, nsteps) of an llquantize parameter word."""
    return (arg >> 48) & 0xFFFF, (arg >> 32) & 0xFFFF, (arg >> 16) & 0xFFFF, arg & 0xFFFF


def _count(val: int, normal: int) -> int:
    """(long long)val / normal with normal a uint64_t: C's unsigned division."""
    if normal == 1:
        return val
    return _s64((val & _M64) // max(normal & _M64, 1))


def _depth(val: int, total: Total, width: int) -> int:
    """(uint)(|val| * width / total + 0.5), exactly."""
    return int((2 * abs(val) * width + total) // (2 * total))


def bar_total(values: Iterable[int], zoom: bool = False) -> Total:
    """dt_quantize_total() over the rows shown: the sum of |v|, or under
    aggzoom the largest |v| scaled up so that it fills 95% of the bar."""
    if not zoom:
        return sum(abs(v) for v in values)
    z = zoom_factor()
    return max((abs(v) * z for v in values), default=0)


def _utf8_line(val: int, shown: int, total: Total) -> bytes:
    """dt_print_quantline_utf8(): eighths of a cell."""
    from fractions import Fraction

    f = Fraction(abs(val) * BAR) / total
    whole = int(f)
    partial = int((f - whole) * 8)
    bar = _UTF8_FULL * whole
    used = whole
    if partial:
        bar += chr(_UTF8_BASE - (partial - 1)).encode()
        used += 1
    return b"|%s%s %-9d\n" % (bar, b" " * (BAR - used), shown)


def quant_line(
    val: int, normal: int, total: Total, positives: bool, negatives: bool, utf8: bool = False
) -> bytes:
    """dt_print_quantline(): the bar and the count of one row."""
    shown = _count(val, normal)
    if not negatives:
        if positives and utf8:
            return _utf8_line(val, shown, total)
        depth = _depth(val, total, BAR) if positives else 0
        return b"|%s%s %-9d\n" % (b"@" * depth, b" " * (BAR - depth), shown)
    if not positives:
        depth = _depth(val, total, BAR)
        return b"%s%s| %-9d\n" % (b" " * (BAR - depth), b"@" * depth, shown)
    half = BAR // 2
    depth = _depth(val, total, half)
    if val <= 0:
        return b"%s%s|%s %-9d\n" % (b" " * (half - depth), b"@" * depth, b" " * half, shown)
    return b"%s|%s%s %-9d\n" % (b" " * half, b"@" * depth, b" " * (half - depth), shown)


def _shown_range(data: Sequence[int], empty: tuple[int, int]) -> tuple[int, int]:
    """One zero row either side of the non-zero buckets; ``empty`` if none."""
    n = len(data)
    first = 0
    while first < n and data[first] == 0:
        first += 1
    if first == n:
        return empty
    last = n - 1
    while last > 0 and data[last] == 0:
        last -= 1
    return max(first - 1, 0), min(last + 1, n - 1)


def _totals(data: Sequence[int], first: int, last: int, zoom: bool) -> tuple[Total, bool, bool]:
    rows = data[first : last + 1]
    return bar_total(rows, zoom), any(v > 0 for v in rows), any(v < 0 for v in rows)


def quantize(data: Sequence[int], normal: int = 1, zoom: bool = False, utf8: bool = False) -> bytes:
    """dt_print_quantize(): 127 bucket counts."""
    if len(data) != QUANTIZE_NBUCKETS:
        raise ValueError(f"quantize value of {len(data)} buckets")
    # (illumos skips data found only in the last bucket; Oracle's fix shows it)
    first, last = _shown_range(data, (QUANTIZE_ZEROBUCKET - 1, QUANTIZE_ZEROBUCKET + 1))
    total, pos, neg = _totals(data, first, last, zoom)
    out = [HEADER]
    for i in range(first, last + 1):
        out.append(b"%16d " % quantize_bucketval(i))
        out.append(quant_line(data[i], normal, total, pos, neg, utf8))
    return b"".join(out)


def lquantize(
    words: Sequence[int], normal: int = 1, zoom: bool = False, utf8: bool = False
) -> bytes:
    """dt_print_lquantize(): the parameter word, then levels + 2 buckets."""
    if not words:
        raise ValueError("lquantize value without its parameter word")
    base, step, levels = lquantize_params(words[0] & _M64)
    data = words[1:]
    if len(data) != levels + 2:
        raise ValueError(f"lquantize value of {len(data)} buckets, {levels + 2} expected")
    first, last = _shown_range(data, (0, 2))
    total, pos, neg = _totals(data, first, last, zoom)
    out = [HEADER]
    for i in range(first, last + 1):
        if i == 0:
            under = _s32((base & _M32) // max(normal & _M32, 1))
            out.append(b"%16s " % (b"< %d" % under))
        elif i == levels + 1:
            out.append(b"%16s " % (b">= %d" % _s32(base + levels * step)))
        else:
            out.append(b"%16d " % _s32(base + (i - 1) * step))
        out.append(quant_line(data[i], normal, total, pos, neg, utf8))
    return b"".join(out)


def llquantize_nbuckets(arg: int) -> int:
    """Buckets of an llquantize value (illumos layout): underflow, the steps
    of every order from low to high, overflow."""
    factor, low, high, nsteps = llquantize_params(arg)
    value = factor**low
    nb = 1
    nxt = value * factor
    step = nxt // nsteps if nxt > nsteps else 1
    order = low
    while order <= high:
        nb += 1
        value += step
        if value != nxt:
            continue
        nxt = value * factor
        step = nxt // nsteps if nxt > nsteps else 1
        order += 1
    return nb + 1


def llquantize(
    words: Sequence[int], normal: int = 1, zoom: bool = False, utf8: bool = False
) -> bytes:
    """dt_print_llquantize() (illumos): the parameter word, then the buckets."""
    if not words:
        raise ValueError("llquantize value without its parameter word")
    factor, low, high, nsteps = llquantize_params(words[0] & _M64)
    if factor < 2 or low >= high or nsteps == 0 or factor > nsteps:
        raise ValueError("bad llquantize parameters")
    data = words[1:]
    levels = len(data)
    first, last = _shown_range(data, (0, 1))
    total, pos, neg = _totals(data, first, last, zoom)
    out = [HEADER]
    value = factor**low
    nxt = value * factor
    step = nxt // nsteps if nxt > nsteps else 1
    if first == 0:
        out.append(b"%16s " % (b"< %d" % value))
        out.append(quant_line(data[0], normal, total, pos, neg, utf8))
    order = low
    bucket = 1
    while order <= high:
        if first <= bucket <= last:
            out.append(b"%16d " % _s64(value))
            out.append(quant_line(data[bucket], normal, total, pos, neg, utf8))
        bucket += 1
        value += step
        if value != nxt:
            continue
        nxt = value * factor
        step = nxt // nsteps if nxt > nsteps else 1
        order += 1
    if last >= bucket and bucket < levels:
        out.append(b"%16s " % (b">= %d" % _s64(value)))
        out.append(quant_line(data[bucket], normal, total, pos, neg, utf8))
    return b"".join(out)


# -- aggpack: one line per key (dt_print_quantize_packed and friends) ------------


def ndigits(val: int) -> int:
    """dt_ndigits(): the columns of a bucket bound, at least 4 (libdtrace
    compares with '>', so 10, 100, ... count one digit fewer)."""
    n = 1
    if val < 0:
        val = (1 << 63) - 1 if val == -(1 << 63) else -val
        n += 1
    cmp = 10
    while val > cmp and cmp < (1 << 63):
        n += 1
        cmp *= 10
    return max(n, 4)


def packed_cell(datum: int, total: Total, utf8: bool) -> bytes:
    """dt_print_packed(): one bucket as one cell."""
    if datum == 0:
        return b" "
    if datum < 0:
        return b"vvvvVV"[_depth(datum, total, 5)].to_bytes(1, "big")
    if utf8:
        return chr(_PACK_BASE + _depth(datum, total, 7)).encode()
    return b"__xxxxXX"[_depth(datum, total, 7)].to_bytes(1, "big")


def _packed_range(minbin: int, maxbin: int) -> tuple[int, int]:
    """The quantize buckets aggpack shows: one more either side of the
    variable's used range (not below the zero bucket when it starts there)."""
    if minbin not in (0, QUANTIZE_ZEROBUCKET):
        minbin -= 1
    if maxbin < QUANTIZE_NBUCKETS - 1:
        maxbin += 1
    return minbin, maxbin


def quantize_packed(
    data: Sequence[int], minbin: int, maxbin: int, zoom: bool = False, utf8: bool = False
) -> bytes:
    """A quantize value on one line; minbin..maxbin is the used range of
    every key of the variable, so that the lines align."""
    lo, hi = _packed_range(minbin, maxbin)
    minval, maxval = quantize_bucketval(lo), quantize_bucketval(hi)
    rows = data[lo : hi + 1]
    total = bar_total(rows, zoom)
    cells = b"".join(packed_cell(v, total, utf8) for v in rows)
    return b" %*d :%s: %-*d | %d\n" % (
        ndigits(minval),
        minval,
        cells,
        ndigits(maxval),
        maxval,
        sum(rows),
    )


def quantize_packed_header(keywidth: int, minbin: int, maxbin: int) -> bytes:
    """dt_print_quanthdr_packed() for quantize."""
    lo, hi = _packed_range(minbin, maxbin)
    return b"\n%*s %*s .%s. %-*s | count\n" % (
        keywidth,
        b"key" if keywidth > 0 else b"",
        ndigits(quantize_bucketval(lo)),
        b"min",
        b"-" * (hi - lo + 1),
        ndigits(quantize_bucketval(hi)),
        b"max",
    )


def lquantize_packed(words: Sequence[int], zoom: bool = False, utf8: bool = False) -> bytes:
    """An lquantize value on one line: always its whole range."""
    base, step, levels = lquantize_params(words[0] & _M64)
    data = words[1:]
    if len(data) != levels + 2:
        raise ValueError(f"lquantize value of {len(data)} buckets, {levels + 2} expected")
    total = bar_total(data, zoom)
    cells = b"".join(packed_cell(v, total, utf8) for v in data)
    return b"%8s :%s: %-8s | %d\n" % (
        b"< %d" % base,
        cells,
        b">= %d" % _s32(base + levels * step),
        sum(data),
    )


def lquantize_packed_header(keywidth: int, levels: int) -> bytes:
    """dt_print_quanthdr_packed() for lquantize."""
    return b"\n%*s %*s .%s. %-*s | count\n" % (
        keywidth,
        b"key" if keywidth > 0 else b"",
        7,
        b"min",
        b"-" * (levels + 2),
        8,
        b"max",
    )


def hist_header(keywidth: int) -> bytes:
    """dt_print_quanthdr(): agghist's header, "key" over the keys' columns."""
    return b"\n%*s %41s %-9s\n" % (
        keywidth or 16,
        b"key" if keywidth else b"value",
        b"------------- Distribution -------------",
        b"count",
    )
