"""quantize(), lquantize() and llquantize() histograms as dtrace(1) prints
them (dtrace-internals 7.6; libdtrace's dt_print_quantize and friends).

Bucket counts are signed 64-bit words (increments may be negative); the
lquantize and llquantize word lists start with their parameter word.
Everything returns bytes and does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

QUANTIZE_NBUCKETS = 127
QUANTIZE_ZEROBUCKET = 63
BAR = 40

HEADER = b"\n%16s %41s %-9s\n" % (b"value", b"------------- Distribution -------------", b"count")

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1


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


def _depth(val: int, total: int, width: int) -> int:
    """(uint)(|val| * width / total + 0.5), exactly."""
    return (2 * abs(val) * width + total) // (2 * total)


def quant_line(val: int, normal: int, total: int, positives: bool, negatives: bool) -> bytes:
    """dt_print_quantline(): the bar and the count of one row."""
    shown = _count(val, normal)
    if not negatives:
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


def _totals(data: Sequence[int], first: int, last: int) -> tuple[int, bool, bool]:
    rows = data[first : last + 1]
    return sum(abs(v) for v in rows), any(v > 0 for v in rows), any(v < 0 for v in rows)


def quantize(data: Sequence[int], normal: int = 1) -> bytes:
    """dt_print_quantize(): 127 bucket counts."""
    if len(data) != QUANTIZE_NBUCKETS:
        raise ValueError(f"quantize value of {len(data)} buckets")
    # (illumos skips data found only in the last bucket; Oracle's fix shows it)
    first, last = _shown_range(data, (QUANTIZE_ZEROBUCKET - 1, QUANTIZE_ZEROBUCKET + 1))
    total, pos, neg = _totals(data, first, last)
    out = [HEADER]
    for i in range(first, last + 1):
        out.append(b"%16d " % quantize_bucketval(i))
        out.append(quant_line(data[i], normal, total, pos, neg))
    return b"".join(out)


def lquantize(words: Sequence[int], normal: int = 1) -> bytes:
    """dt_print_lquantize(): the parameter word, then levels + 2 buckets."""
    if not words:
        raise ValueError("lquantize value without its parameter word")
    base, step, levels = lquantize_params(words[0] & _M64)
    data = words[1:]
    if len(data) != levels + 2:
        raise ValueError(f"lquantize value of {len(data)} buckets, {levels + 2} expected")
    first, last = _shown_range(data, (0, 2))
    total, pos, neg = _totals(data, first, last)
    out = [HEADER]
    for i in range(first, last + 1):
        if i == 0:
            under = _s32((base & _M32) // max(normal & _M32, 1))
            out.append(b"%16s " % (b"< %d" % under))
        elif i == levels + 1:
            out.append(b"%16s " % (b">= %d" % _s32(base + levels * step)))
        else:
            out.append(b"%16d " % _s32(base + (i - 1) * step))
        out.append(quant_line(data[i], normal, total, pos, neg))
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


def llquantize(words: Sequence[int], normal: int = 1) -> bytes:
    """dt_print_llquantize() (illumos): the parameter word, then the buckets."""
    if not words:
        raise ValueError("llquantize value without its parameter word")
    factor, low, high, nsteps = llquantize_params(words[0] & _M64)
    if factor < 2 or low >= high or nsteps == 0 or factor > nsteps:
        raise ValueError("bad llquantize parameters")
    data = words[1:]
    levels = len(data)
    first, last = _shown_range(data, (0, 1))
    total, pos, neg = _totals(data, first, last)
    out = [HEADER]
    value = factor**low
    nxt = value * factor
    step = nxt // nsteps if nxt > nsteps else 1
    if first == 0:
        out.append(b"%16s " % (b"< %d" % value))
        out.append(quant_line(data[0], normal, total, pos, neg))
    order = low
    bucket = 1
    while order <= high:
        if first <= bucket <= last:
            out.append(b"%16d " % _s64(value))
            out.append(quant_line(data[bucket], normal, total, pos, neg))
        bucket += 1
        value += step
        if value != nxt:
            continue
        nxt = value * factor
        step = nxt // nsteps if nxt > nsteps else 1
        order += 1
    if last >= bucket and bucket < levels:
        out.append(b"%16s " % (b">= %d" % _s64(value)))
        out.append(quant_line(data[bucket], normal, total, pos, neg))
    return b"".join(out)
