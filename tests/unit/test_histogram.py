"""quantize/lquantize/llquantize histograms, byte for byte as dtrace(1) prints them.

Expected blocks come from dtrace-internals 7.6 and Oracle's dtrace-utils test
suite (test/unittest/aggs/*.r); bars are checked against C's printf formats.
"""

from __future__ import annotations

import ctypes

from pydtrace.consume import histogram as H

_libc = ctypes.CDLL(None)


def c_fmt(spec: bytes, *args: object) -> bytes:
    buf = ctypes.create_string_buffer(256)
    _libc.snprintf(buf, 256, spec, *args)
    return buf.value


def lq_arg(base: int, limit: int, step: int = 1) -> int:
    levels = (limit - base) // step
    return (step << 48) | (levels << 32) | (base & 0xFFFFFFFF)


def llq_arg(factor: int, low: int, high: int, nsteps: int) -> int:
    return (factor << 48) | (low << 32) | (high << 16) | nsteps


def quantize_words(**counts: int) -> list[int]:
    """127 buckets from {bucket value: count} given as v<value>=count (m for minus)."""
    words = [0] * H.QUANTIZE_NBUCKETS
    for name, n in counts.items():
        v = int(name[2:]) * (-1 if name[1] == "m" else 1)
        i = next(k for k in range(H.QUANTIZE_NBUCKETS) if H.quantize_bucketval(k) == v)
        words[i] += n
    return words


def test_header_line_has_dtrace_spacing():
    assert H.HEADER == (b"\n           value  ------------- Distribution ------------- count    \n")
    assert H.HEADER == b"\n" + c_fmt(
        b"%16s %41s %-9s\n", b"value", b"------------- Distribution -------------", b"count"
    )


def test_bucket_values():
    assert H.quantize_bucketval(0) == -(1 << 62)
    assert H.quantize_bucketval(62) == -1
    assert H.quantize_bucketval(63) == 0
    assert H.quantize_bucketval(64) == 1
    assert H.quantize_bucketval(65) == 2
    assert H.quantize_bucketval(126) == 1 << 62


def test_reference_example_two_and_two():
    # dtrace-internals 7.6: zero and one bucket with 2 each
    want = (
        H.HEADER
        + b"              -1 |                                         0        \n"
        + b"               0 |@@@@@@@@@@@@@@@@@@@@                     2        \n"
        + b"               1 |@@@@@@@@@@@@@@@@@@@@                     2        \n"
        + b"               2 |                                         0        \n"
    )
    assert H.quantize(quantize_words(vp0=2, vp1=2)) == want


def test_quantize_data_only_in_the_last_bucket():
    # Oracle's tst.quantlast: @ = quantize(0x4000000000000000, 1234)
    want = (
        H.HEADER
        + b"2305843009213693952 |                                         0        \n"
        + b"4611686018427387904 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1234     \n"
    )
    words = [0] * H.QUANTIZE_NBUCKETS
    words[126] = 1234
    assert H.quantize(words) == want


def test_all_zero_buckets_show_the_rows_around_zero():
    out = H.quantize([0] * H.QUANTIZE_NBUCKETS).split(b"\n")
    assert [line[:16].strip() for line in out[2:5]] == [b"-1", b"0", b"1"]
    lq = H.lquantize([lq_arg(0, 10)] + [0] * 12).split(b"\n")
    assert [line[:16].strip() for line in lq[2:5]] == [b"< 0", b"0", b"1"]
    llq = H.llquantize([llq_arg(10, 0, 2, 10)] + [0] * 30).split(b"\n")
    assert [line[:16].strip() for line in llq[2:4]] == [b"< 1", b"1"]


def test_bar_rounding_half_up_over_the_shown_rows():
    # 1 of 3 -> 13.33 -> 13; 2 of 3 -> 26.67 -> 27
    out = H.quantize(quantize_words(vp1=1, vp2=2))
    rows = out.split(b"\n")[2:-1]
    assert rows[1] == b"               1 |" + b"@" * 13 + b" " * 27 + b" 1        "
    assert rows[2] == b"               2 |" + b"@" * 27 + b" " * 13 + b" 2        "
    # exactly half rounds up: 1 of 80 -> 0.5 -> 1
    out = H.quantize(quantize_words(vp1=1, vp2=79))
    assert b"|@ " in out.split(b"\n")[3]


def test_negative_counts_grow_leftwards():
    line = H.quant_line(-2, 1, 4, False, True)
    assert line == c_fmt(b"%s%s| %-9lld\n", b" " * 20, b"@" * 20, ctypes.c_longlong(-2))
    assert line == b" " * 20 + b"@" * 20 + b"| -2       \n"


def test_mixed_signs_use_half_bars_around_a_centre():
    neg = H.quant_line(-1, 1, 2, True, True)
    pos = H.quant_line(1, 1, 2, True, True)
    zero = H.quant_line(0, 1, 2, True, True)
    assert neg == b" " * 10 + b"@" * 10 + b"|" + b" " * 20 + b" -1       \n"
    assert pos == b" " * 20 + b"|" + b"@" * 10 + b" " * 10 + b" 1        \n"
    assert zero == b" " * 20 + b"|" + b" " * 20 + b" 0        \n"


def test_normalized_counts_are_divided():
    assert H.quant_line(10, 5, 10, True, False).endswith(b" 2        \n")


def test_lquantize_labels_and_overflow():
    # lquantize(x, 0, 10, 5): buckets < 0, 0, 5, >= 10
    words = [lq_arg(0, 10, 5), 1, 0, 2, 3]
    want = (
        H.HEADER
        + b"             < 0 |@@@@@@@                                  1        \n"
        + b"               0 |                                         0        \n"
        + b"               5 |@@@@@@@@@@@@@                            2        \n"
        + b"           >= 10 |@@@@@@@@@@@@@@@@@@@@                     3        \n"
    )
    assert H.lquantize(words) == want


def test_lquantize_trunc_block_from_oracle():
    # the first block of Oracle's tst.trunc-lquantize-5.r: key 195, values
    # 96..99 with 10095 each, lquantize(v, 0, 150, 1)
    words = [lq_arg(0, 150)] + [0] * 152
    for v in (96, 97, 98, 99):
        words[1 + v + 1] = 10095
    want = (
        H.HEADER
        + b"              95 |                                         0        \n"
        + b"              96 |@@@@@@@@@@                               10095    \n"
        + b"              97 |@@@@@@@@@@                               10095    \n"
        + b"              98 |@@@@@@@@@@                               10095    \n"
        + b"              99 |@@@@@@@@@@                               10095    \n"
        + b"             100 |                                         0        \n"
    )
    assert H.lquantize(words) == want


def test_llquantize_buckets_and_labels():
    # llquantize(v, 10, 0, 1, 10): < 1, 1..9, 10, 20, ..., 90, >= 100
    arg = llq_arg(10, 0, 1, 10)
    n = H.llquantize_nbuckets(arg)
    assert n == 1 + 9 + 9 + 1
    words = [arg] + [0] * n
    words[1 + 1] = 1  # value 1
    words[1 + 10] = 2  # value 10
    words[1 + n - 1] = 1  # >= 100
    out = H.llquantize(words)
    labels = [line[:16].strip() for line in out.split(b"\n")[2:-1]]
    # one zero row below the first non-zero bucket: the underflow row
    assert labels[:2] == [b"< 1", b"1"] and labels[-1] == b">= 100"
    assert b"90" in labels
    assert labels.index(b"10") == 10
