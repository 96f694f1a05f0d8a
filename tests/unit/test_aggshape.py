"""agghist, aggpack, aggzoom and encoding=utf8 (illumos dtrace options): the
expected bytes are worked out by hand from libdtrace's dt_consume.c and
dt_aggregate.c rules, written out in each test."""

from __future__ import annotations

import dataclasses

from test_aggregate import COUNT, LQUANTIZE, QUANTIZE, i32, mkdesc, record, table

from pydtrace.consume import aggregate as A
from pydtrace.consume import histogram as H

DIST = b"------------- Distribution -------------"
HIST = b" %41s count    \n" % DIST  # "%41s %-9s": the 40-column title right-aligned in 41
OPTS = A.SortOptions()


def quantize_words(counts: dict[int, int]) -> list[int]:
    """127 buckets from {bucket value: count} (positive powers of two and 0)."""
    words = [0] * 127
    for value, n in counts.items():
        words[63 if value == 0 else 63 + value.bit_length()] = n
    return words


def test_aggzoom_scales_the_tallest_bar_to_95_percent():
    words = quantize_words({1: 1, 2: 4})
    plain = H.quantize(words)
    zoomed = H.quantize(words, zoom=True)
    # total 5: 4 -> 32 '@', 1 -> 8; zoomed, total = 4 / 0.95: 4 -> 38, 1 -> 10
    assert b"|" + b"@" * 32 + b" " * 8 + b" 4 " in plain
    assert b"|" + b"@" * 8 + b" " * 32 + b" 1 " in plain
    assert b"|" + b"@" * 38 + b" " * 2 + b" 4 " in zoomed
    assert b"|" + b"@" * 10 + b" " * 30 + b" 1 " in zoomed


def test_utf8_bars_use_eighths_of_a_cell():
    words = quantize_words({1: 1, 2: 2})
    out = H.quantize(words, utf8=True).decode()
    # total 3: 1 -> 40/3 = 13.33 cells: 13 full and 2/8 (U+258E); 2 -> 26.67:
    # 26 full and 5/8 (U+258B)
    assert "|" + "\u2588" * 13 + "\u258e" + " " * 26 + " 1 " in out
    assert "|" + "\u2588" * 26 + "\u258b" + " " * 13 + " 2 " in out
    assert "|" + " " * 40 + " 0 " in out  # the zero rows stay blank


def test_agghist_draws_counts_as_one_histogram_under_a_key_header():
    d = mkdesc(1, COUNT, [16], 1)
    aggs = table(d)
    aggs.merge(record(d, 1, [b"a"], [3]))
    aggs.merge(record(d, 1, [b"bb"], [1]))
    out = aggs.printa([1], dataclasses.replace(OPTS, hist=True))
    # the key column: a 16-byte key is 16 wide plus a space; strings are
    # right-aligned in 16; bars share the variable's total, 4
    assert out == (
        b"\n"
        + b"\n" + b"key".rjust(17) + HIST
        + b" " + b"bb".rjust(16) + b" |" + b"@" * 10 + b" " * 30 + b" 1        \n"
        + b" " + b"a".rjust(16) + b" |" + b"@" * 30 + b" " * 10 + b" 3        \n"
    )


def test_agghist_with_aggzoom_scales_to_the_largest_key():
    d = mkdesc(1, COUNT, [4], 1)
    aggs = table(d)
    aggs.merge(record(d, 1, [i32(1)], [20]))
    aggs.merge(record(d, 1, [i32(2)], [10]))
    out = aggs.printa([1], A.SortOptions(hist=True, zoom=True))
    # total = (int64)(20 / 0.95) = 21: 20 -> 38.1 -> 38, 10 -> 19.05 -> 19
    assert b" %8d |" % 2 + b"@" * 19 + b" " * 21 + b" 10       \n" in out
    assert b" %8d |" % 1 + b"@" * 38 + b" " * 2 + b" 20       \n" in out
    assert out.startswith(b"\n\n" + b"key".rjust(9) + HIST)


def test_aggpack_quantize_one_line_per_key_over_a_shared_range():
    d = mkdesc(1, QUANTIZE, [16], 127)
    aggs = table(d)
    aggs.merge(record(d, 1, [b"a"], quantize_words({1: 1, 2: 4})))
    aggs.merge(record(d, 1, [b"b"], quantize_words({8: 2})))
    out = aggs.printa([1], A.SortOptions(pack=True, encoding="ascii"))
    # used buckets 1..8 of the variable; one more either side: 0..16 (6
    # cells); "min"/"max" columns at least 4 wide
    header = b"\n" + b"key".rjust(17) + b"  min .------. max  | count\n"
    # a: total 5 over its cells: 1 -> (7/5 + .5) -> 1 '_', 4 -> (28/5 + .5) -> 6 'X'
    line_a = b" " + b"a".rjust(16) + b"    0 : _X   : 16   | 5\n"
    # b: total 2: 2 -> 7 'X' in the cell of 8
    line_b = b" " + b"b".rjust(16) + b"    0 :    X : 16   | 2\n"
    # sorted by value: quantize values compare by sum of bucket value x count
    # (a: 1 + 8 = 9, b: 16)
    assert out == b"\n" + header + line_a + line_b


def test_aggpack_lquantize_shows_its_whole_range_in_utf8():
    d = mkdesc(1, LQUANTIZE, [], 1 + 4)
    aggs = table(d)
    param = (1 << 48) | (2 << 32) | 0  # step 1, 2 levels, base 0
    aggs.merge(record(d, 1, [], [param, 0, 3, 1, 0]))
    out = aggs.printa([1], A.SortOptions(pack=True, encoding="utf8")).decode()
    # no keys: header without "key"; cells < 0, 0, 1, >= 2; total 4:
    # 3 -> 0x2581 + (21/4 + .5 -> 5), 1 -> 0x2581 + (7/4 + .5 -> 2)
    assert out == (
        "\n" + "\n" + "     min .----. max      | count\n"
        + "     < 0 : \u2586\u2583 : >= 2     | 4\n"
    )


def test_aggpack_leaves_other_functions_as_they_print():
    d = mkdesc(1, COUNT, [4], 1)
    aggs = table(d)
    aggs.merge(record(d, 1, [i32(5)], [7]))
    assert aggs.printa([1], A.SortOptions(pack=True)) == aggs.printa([1], OPTS)


def test_ndigits_counts_like_libdtrace():
    assert [H.ndigits(v) for v in (0, 9, 10, 11, 99999, 100001, -1, -12345)] == [
        4, 4, 4, 4, 5, 6, 4, 6,
    ]
