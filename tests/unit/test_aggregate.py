"""Aggregations on synthetic aggregation-buffer snapshots: merging, the library
actions, sorting and printing, against dtrace-internals 7.5-7.10 and Oracle's
dtrace-utils expected outputs (test/unittest/aggs/*.r)."""

from __future__ import annotations

import io
import random
import struct
import sys

import pytest

from pydtrace import fmt
from pydtrace.abi import ffi, lib
from pydtrace.consume import aggregate as A
from pydtrace.consume import histogram as H
from pydtrace.consume.loop import Printer, Session
from pydtrace.consume.printf import format_printa
from pydtrace.runtime import BufSnapshot, EProbe, ProbeDesc, RecDesc
from pydtrace.runtime.kernel import AggDesc

DIFEXPR = int(lib.DTRACEACT_DIFEXPR)

# -- building snapshots ----------------------------------------------------------


def _align(off: int, size: int) -> int:
    a = next((a for a in (8, 4, 2, 1) if size % a == 0), 1)
    return (off + a - 1) // a * a


def mkdesc(aggid: int, kind: int, keysizes: list[int], nwords: int, arg: int = 0) -> AggDesc:
    """An aggregation laid out as the module does: id at 0, variable id at 8,
    the keys, the value 8-aligned."""
    recs = [RecDesc(DIFEXPR, 8, 8, 8, 0, 0, 0)]
    off = 16
    for size in keysizes:
        off = _align(off, size)
        recs.append(RecDesc(DIFEXPR, size, off, min(size, 8), 0, 0, 0))
        off += size
    off = (off + 7) // 8 * 8
    recs.append(RecDesc(kind, 8 * nwords, off, 8, 0, arg, 0))
    return AggDesc(aggid, aggid, off + 8 * nwords, tuple(recs))


def record(desc: AggDesc, varid: int, keys: list[bytes], words: list[int]) -> bytes:
    size = (desc.size + 7) // 8 * 8
    buf = bytearray(size)
    struct.pack_into("=I", buf, 0, desc.aggid)
    struct.pack_into("=Q", buf, desc.recs[0].offset, varid)
    for rec, k in zip(desc.recs[1:-1], keys, strict=True):
        buf[rec.offset : rec.offset + rec.size] = k.ljust(rec.size, b"\0")
    val = desc.recs[-1]
    struct.pack_into(f"={len(words)}q", buf, val.offset, *words)
    return bytes(buf)


def i32(v: int) -> bytes:
    return struct.pack("=i", v)


def i64(v: int) -> bytes:
    return struct.pack("=q", v)


def table(*descs: AggDesc) -> A.Aggregations:
    by_id = {d.aggid: d for d in descs}
    return A.Aggregations(by_id.__getitem__)


OPTS = A.SortOptions()
COUNT, SUM, AVG, STDDEV = A.COUNT, A.SUM, A.AVG, A.STDDEV
MIN, MAX, QUANTIZE, LQUANTIZE = A.MIN, A.MAX, A.QUANTIZE, A.LQUANTIZE


# -- merging ---------------------------------------------------------------------


def test_reference_quiet_example_count_twice():
    # 7.9: BEGIN { @a = count(); @a = count(); exit(0); } prints "\n" (the
    # final newline) then the value; the two increments came from two CPUs
    d = mkdesc(1, COUNT, [], 1)
    aggs = table(d)
    aggs.merge(record(d, 1, [], [1]))
    aggs.merge(record(d, 1, [], [1]))
    # " %16lld": a space, then the value right-justified in 16 columns
    assert aggs.print_unprinted(OPTS) == b" " + b"2".rjust(16) + b"\n"
    # printa() prints a blank line first, and marks it printed
    assert aggs.printa([1], OPTS) == b"\n" + b" " * 16 + b"2\n"
    assert aggs.print_unprinted(OPTS) == b""


def test_merge_functions():
    dmin, dmax = mkdesc(1, MIN, [], 1), mkdesc(2, MAX, [], 1)
    davg, dsd = mkdesc(3, AVG, [], 2), mkdesc(4, STDDEV, [], 4)
    dlq = mkdesc(5, LQUANTIZE, [], 1 + 12, arg=(1 << 48) | (10 << 32))
    aggs = table(dmin, dmax, davg, dsd, dlq)
    param = dlq.recs[-1].arg
    for cpu_values in ([5, -3], [7, 9]):
        buf = b"".join(
            [
                record(dmin, 1, [], [min(cpu_values)]),
                record(dmax, 2, [], [max(cpu_values)]),
                record(davg, 3, [], [len(cpu_values), sum(cpu_values)]),
                record(dsd, 4, [], [2, sum(cpu_values), 25 + 9, 0]),
                record(dlq, 5, [], [param] + [1] * 12),
            ]
        )
        aggs.merge(buf)
    by_var = {e.varid: e.words for e in aggs.entries()}
    assert by_var[1] == [-3]
    assert by_var[2] == [9]
    assert by_var[3] == [4, 18]
    assert by_var[4] == [4, 18, 68, 0]
    # the parameter word is not added
    assert by_var[5] == [param] + [2] * 12


def test_padding_between_records_is_skipped():
    d = mkdesc(1, COUNT, [4], 1)
    aggs = table(d)
    data = b"\0" * 8 + record(d, 1, [i32(3)], [2]) + b"\0" * 4
    assert aggs.merge(data) == 1
    with pytest.raises(ValueError):
        aggs.merge(record(d, 1, [i32(3)], [2])[:-8])


def test_cython_merge_agrees_with_python():
    descs = [
        mkdesc(1, COUNT, [4], 1),
        mkdesc(2, MIN, [8], 1),
        mkdesc(3, MAX, [8, 16], 1),
        mkdesc(4, LQUANTIZE, [], 6, arg=(1 << 48) | (3 << 32)),
        mkdesc(5, SUM, [2], 1),
    ]
    rng = random.Random(5)
    chunks = []
    for _ in range(400):
        d = rng.choice(descs)
        keys = [rng.choice([b"a", b"b", b"\xff" * r.size])[: r.size] for r in d.recs[1:-1]]
        words = [rng.randint(-(1 << 63), (1 << 63) - 1) for _ in range(d.recs[-1].size // 8)]
        if d.aggid == 4:
            words[0] = d.recs[-1].arg
        chunks.append(record(d, d.aggid, keys, words))
    data = b"".join(chunks)
    by_id = {d.aggid: d for d in descs}

    def run(fn: object) -> dict[tuple[bytes, ...], list[int]]:
        t: dict[tuple[bytes, ...], A.Entry] = {}

        def layout_of(aggid: int) -> A.Layout:
            return A.layout(by_id[aggid])

        def new(aggid: int, raw: tuple[bytes, ...], words: list[int]) -> A.Entry:
            return A.Entry(by_id[aggid], raw, words)

        fn(data, layout_of, t, new)  # type: ignore[operator]
        fn(data, layout_of, t, new)  # type: ignore[operator]
        return {k: e.words for k, e in t.items()}

    try:
        from pydtrace.consume._aggmerge import merge
    except ImportError:
        pytest.skip("the Cython extension is not built")
    assert run(merge) == run(A.py_merge)




# -- values ----------------------------------------------------------------------


def test_avg_is_integer_division_toward_zero():
    assert A.value_text(AVG, [2, 3]) == b" %16d" % 1
    assert A.value_text(AVG, [2, -7]) == b" %16d" % -3
    assert A.value_text(AVG, [0, 0]) == b" %16d" % 0


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (0, 0, 0x0),
        (0x10, 0x20, 0x8),
        (0x100, 0x200, 0x80),
        (0x1000000, 0x2000000, 0x800000),
        (0x10000000, 0x20000000, 0x8000000),
        (0x20000000, 0x40000000, 0x10000000),
        (0x40000000, 0x80000000, 0x20000000),
        (0x80000000, 0x100000000, 0x40000000),
        (0x100000000, 0x200000000, 0x80000000),
    ],
)
def test_stddev_as_oracle_stddev2(a: int, b: int, want: int):
    # Oracle's tst.stddev2: @x = stddev(a); @x = stddev(b); printa("%9@x\n")
    sq = a * a + b * b
    d = mkdesc(1, STDDEV, [], 4)
    aggs = table(d)
    words = [2, a + b, A.s64(sq & ((1 << 64) - 1)), A.s64(sq >> 64)]
    aggs.merge(record(d, 1, [], words))
    out = aggs.printa_format(fmt.parse("%9@x\n"), [1], OPTS, format_printa)
    assert out == b"%9x\n" % want


def test_stddev_128_bit_sum_of_squares():
    # values of 2^40 and 3 * 2^40: the squares overflow 64 bits
    a, b = 1 << 40, 3 << 40
    sq = a * a + b * b
    assert A.stddev([2, a + b, A.s64(sq), A.s64(sq >> 64)]) == 1 << 40


# -- library actions --------------------------------------------------------------


def _sums(aggs: A.Aggregations, d: AggDesc, pairs: list[tuple[int, int]]) -> None:
    aggs.merge(b"".join(record(d, 1, [i32(k)], [v]) for k, v in pairs))


def test_trunc_sum_as_oracle_trunc_sum_5():
    # Oracle's tst.trunc-sum-5: @[100 + i] = sum(1000 + i) for i < 100,
    # trunc(@, 5), then @[301] = sum(2101); printed at the end of the run
    d = mkdesc(1, SUM, [4], 1)
    aggs = table(d)
    _sums(aggs, d, [(100 + i, 1000 + i) for i in range(100)])
    aggs.trunc(1, 5)
    _sums(aggs, d, [(301, 2101)])
    want = (
        b"      195             1095\n"
        b"      196             1096\n"
        b"      197             1097\n"
        b"      198             1098\n"
        b"      199             1099\n"
        b"      301             2101\n"
    )
    assert aggs.print_unprinted(OPTS) == want


def test_trunc_negative_keeps_the_smallest_and_no_count_removes_all():
    d = mkdesc(1, SUM, [4], 1)
    aggs = table(d)
    _sums(aggs, d, [(k, k * 10) for k in range(10)])
    aggs.trunc(1, -3)
    assert sorted(e.words[0] for e in aggs.entries()) == [0, 10, 20]
    aggs.trunc(1, 0)
    assert aggs.entries() == []


def test_trunc_lquantize_as_oracle():
    # Oracle's tst.trunc-lquantize-5 (see its .r): the five largest by
    # lquantize sum survive, then key 301 arrives
    arg = (1 << 48) | (150 << 32)
    d = mkdesc(1, LQUANTIZE, [4], 1 + 152, arg)
    aggs = table(d)

    def lq(values: range, incr: int) -> list[int]:
        words = [arg] + [0] * 152
        for v in values:
            words[1 + v + 1] += incr
        return words

    aggs.merge(
        b"".join(
            record(d, 1, [i32(100 + i)], lq(range(i + 1, i + 5), 10000 + i)) for i in range(100)
        )
    )
    aggs.trunc(1, 5)
    aggs.merge(record(d, 1, [i32(301)], lq(range(102, 106), 20101)))
    out = aggs.print_unprinted(OPTS)
    keys = [
        line
        for line in out.split(b"\n")
        if line.startswith(b"      ") and line.strip().isdigit() and b"|" not in line
    ]
    assert keys == [b"      %d" % k for k in (195, 196, 197, 198, 199, 301)]
    first = out.split(b"\n\n")[0]
    assert first == (
        b"      195"
        + H.HEADER
        + b"              95 |                                         0        \n"
        + b"              96 |@@@@@@@@@@                               10095    \n"
        + b"              97 |@@@@@@@@@@                               10095    \n"
        + b"              98 |@@@@@@@@@@                               10095    \n"
        + b"              99 |@@@@@@@@@@                               10095    \n"
        + b"             100 |                                         0        "
    )


def test_clear_keeps_keys_and_lquantize_parameters():
    d = mkdesc(1, COUNT, [4], 1)
    arg = (1 << 48) | (4 << 32)
    dl = mkdesc(2, LQUANTIZE, [], 7, arg)
    aggs = table(d, dl)
    _sums(aggs, d, [(1, 5), (2, 6)])
    aggs.merge(record(dl, 2, [], [arg, 1, 2, 3, 4, 5, 6]))
    aggs.clear(1)
    aggs.clear(2)
    assert aggs.print_unprinted(OPTS).startswith(
        b"        1                0\n        2                0\n"
    )
    assert [e.words for e in aggs.entries(2)] == [[arg, 0, 0, 0, 0, 0, 0]]


def test_normalize_and_denormalize():
    d = mkdesc(1, SUM, [4], 1)
    aggs = table(d)
    _sums(aggs, d, [(1, 100), (2, 7)])
    aggs.normalize(1, 10)
    assert aggs.print_unprinted(OPTS) == b"        2                0\n        1               10\n"
    aggs.denormalize(1)
    assert aggs.print_unprinted(OPTS) == b"        2                7\n        1              100\n"


# -- sorting ---------------------------------------------------------------------


def test_signed_keys_as_oracle_signedkeys():
    # Oracle's tst.signedkeys with aggsortkey: keys sort as unsigned, print by size
    descs = [mkdesc(i + 1, SUM, [size], 1) for i, size in enumerate((1, 2, 4, 8))]
    aggs = table(*descs)
    for d, size in zip(descs, (1, 2, 4, 8), strict=True):
        for k in (-2, -1, 0, 1, 2):
            key = (k & ((1 << (8 * size)) - 1)).to_bytes(size, sys.byteorder)
            aggs.merge(record(d, d.aggid, [key], [k]))
    want = (
        b"   0                0\n   1                1\n   2                2\n"
        b" 254               -2\n 255               -1\n"
        b"     0                0\n     1                1\n     2                2\n"
        b" 65534               -2\n 65535               -1\n"
        b"        0                0\n        1                1\n        2                2\n"
        b"       -2               -2\n       -1               -1\n"
        b"                0                0\n                1                1\n"
        b"                2                2\n               -2               -2\n"
        b"               -1               -1\n"
    )
    assert aggs.print_unprinted(A.SortOptions(key=True)) == want


def test_default_order_is_value_then_key_and_aggsortrev_reverses():
    d = mkdesc(1, COUNT, [4], 1)
    aggs = table(d)
    _sums(aggs, d, [(3, 1), (1, 2), (2, 1)])
    assert [e.keys[0] for e in aggs.sorted(OPTS)] == [i32(2), i32(3), i32(1)]
    rev = A.SortOptions(rev=True)
    assert [e.keys[0] for e in aggs.sorted(rev)] == [i32(1), i32(3), i32(2)]
    assert [e.keys[0] for e in aggs.sorted(A.SortOptions(key=True))] == [i32(1), i32(2), i32(3)]


def test_aggsortkeypos_sorts_by_another_key_first():
    d = mkdesc(1, COUNT, [4, 4], 1)
    aggs = table(d)
    aggs.merge(b"".join(record(d, 1, [i32(a), i32(b)], [1]) for a, b in ((1, 9), (2, 8), (3, 7))))
    keys = [e.keys for e in aggs.sorted(A.SortOptions(key=True, keypos=1))]
    assert [k[1] for k in keys] == [i32(7), i32(8), i32(9)]


def test_variables_print_in_id_order_with_string_keys():
    da, db = mkdesc(1, COUNT, [16], 1), mkdesc(2, SUM, [], 1)
    aggs = table(da, db)
    aggs.merge(record(db, 2, [], [42]))
    aggs.merge(record(da, 1, [b"dtrace"], [1]))
    # Oracle's tst.chararray-key.r: "  dtrace", 60 spaces, "1"
    assert aggs.print_unprinted(OPTS) == (b"  dtrace" + b" " * 60 + b"1\n" + b" " * 15 + b"42\n")


# -- printa ------------------------------------------------------------------------


def _two_vars() -> A.Aggregations:
    da, db = mkdesc(1, COUNT, [16], 1), mkdesc(2, SUM, [16], 1)
    aggs = table(da, db)
    aggs.merge(
        b"".join(
            [
                record(da, 1, [b"bash"], [3]),
                record(da, 1, [b"sshd"], [1]),
                record(db, 2, [b"sshd"], [100]),
                record(db, 2, [b"init"], [7]),
            ]
        )
    )
    return aggs


def test_printa_several_aggregations_joins_by_key():
    aggs = _two_vars()
    out = aggs.printa_format(fmt.parse("%-6s %@d %@d\n"), [1, 2], OPTS, format_printa)
    # sorted by the first aggregation's value; init has no count: 0
    assert out == b"init   0 7\nsshd   1 100\nbash   3 0\n"
    by_b = A.SortOptions(pos=1)
    out = aggs.printa_format(fmt.parse("%-6s %@d %@d\n"), [1, 2], by_b, format_printa)
    assert out == b"bash   3 0\ninit   0 7\nsshd   1 100\n"
    # the last %@ repeats
    out = aggs.printa_format(fmt.parse("%s %@d %@d %@d\n"), [1, 2], OPTS, format_printa)
    assert out.split(b"\n")[0] == b"init 0 7 7"
    assert aggs.print_unprinted(OPTS) == b""


def test_printa_several_aggregations_without_format():
    aggs = _two_vars()
    assert aggs.printa([1, 2], OPTS) == (
        b"\n"
        + b"  init"
        + b" " * 46
        + b" %16d %16d\n" % (0, 7)
        + b"  sshd"
        + b" " * 46
        + b" %16d %16d\n" % (1, 100)
        + b"  bash"
        + b" " * 46
        + b" %16d %16d\n" % (3, 0)
    )


def test_printa_format_without_value_and_histogram_value():
    d = mkdesc(1, QUANTIZE, [4], 127)
    aggs = table(d)
    words = [0] * 127
    words[64] = 2
    aggs.merge(record(d, 1, [i32(7)], words))
    assert aggs.printa_format(fmt.parse("key %d\n"), [1], OPTS, format_printa) == b"key 7\n"
    out = aggs.printa_format(fmt.parse("%d:%@d"), [1], OPTS, format_printa)
    assert out == b"7:" + H.quantize(words)


def test_printa_count_value_is_unsigned_and_avg_divides():
    dc, da = mkdesc(1, COUNT, [], 1), mkdesc(2, AVG, [], 2)
    aggs = table(dc, da)
    aggs.merge(record(dc, 1, [], [-1]) + record(da, 2, [], [4, 10]))
    assert aggs.printa_format(fmt.parse("%@d"), [1], OPTS, format_printa) == b"%d" % ((1 << 64) - 1)
    assert aggs.printa_format(fmt.parse("[%5@d]"), [2], OPTS, format_printa) == b"[    2]"


# -- the consumer loop ---------------------------------------------------------------


class FakeDevice:
    """CONF/GO/STOP/STATUS/BUFSNAP/AGGSNAP/EPROBE/AGGDESC of a canned session."""

    def __init__(
        self,
        eprobes: dict[int, EProbe],
        principal: dict[int, bytes],
        aggdata: dict[int, list[bytes]],
        descs: dict[int, AggDesc],
    ) -> None:
        self.eprobes = eprobes
        self.principal = principal
        self.aggdata = aggdata
        self.descs = descs

    def probe(self, probeid: int) -> ProbeDesc:
        return ProbeDesc(probeid, "dtrace", "", "", "BEGIN" if probeid == 1 else "END")

    def eprobe(self, epid: int) -> EProbe:
        return self.eprobes[epid]

    def aggdesc(self, aggid: int) -> AggDesc:
        return self.descs[aggid]

    def aggsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        chunks = self.aggdata.get(cpu)
        if not chunks:
            return None
        return BufSnapshot(cpu, chunks.pop(0), 1 if cpu == 1 else 0, 0, 0, 0)

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        data = self.principal.pop(cpu, b"")
        return BufSnapshot(cpu, data, 0, 0, 0, 0)


def _ecb(
    epid: int, recs: list[tuple[int, int, int, int, int]], values: list[bytes]
) -> tuple[EProbe, bytes]:
    """(action, size, offset, format, arg/uarg) records after the record
    header (struct dtrace_rechdr: EPID, timestamp)."""
    hdr = ffi.new("struct dtrace_rechdr *")
    hdr.dtrh_epid = epid
    assert all(o >= ffi.sizeof(hdr[0]) for _, _, o, _, _ in recs)
    rds = tuple(RecDesc(a, s, o, 8, f, x, 1) for a, s, o, f, x in recs)
    size = max(o + s for _, s, o, _, _ in recs)
    buf = bytearray(size)
    buf[: ffi.sizeof(hdr[0])] = ffi.buffer(hdr)
    for r, v in zip(rds, values, strict=True):
        buf[r.offset : r.offset + r.size] = v
    return EProbe(epid, 1, 0, size, rds), bytes(buf)


def test_loop_printa_and_library_actions_through_the_printer():
    d = mkdesc(1, COUNT, [4], 1)
    printa = int(lib.DTRACEACT_PRINTA)
    libact = int(lib.DTRACEACT_LIBACT)
    # BEGIN: printa("%d %@d\n", @); normalize(@, 2); printa(@)
    ep, data = _ecb(
        1,
        [
            (printa, 8, 16, 1, 0),
            (libact, 8, 24, 0, 2),
            (libact, 8, 32, 0, 2),
            (printa, 8, 40, 0, 0),
        ],
        [i64(1), i64(1), i64(2), i64(1)],
    )
    ep = EProbe(
        ep.epid,
        ep.probeid,
        ep.uarg,
        ep.size,
        tuple(
            RecDesc(r.action, r.size, r.offset, 8, r.format, r.arg, 1 if i == 0 else 2 + i)
            for i, r in enumerate(ep.recs)
        ),
    )
    dev = FakeDevice(
        {1: ep},
        {0: data},
        {0: [record(d, 1, [i32(5)], [3])], 1: [record(d, 1, [i32(5)], [1])]},
        {1: d},
    )
    aggs = A.Aggregations(dev.aggdesc)
    out = io.BytesIO()
    warnings: list[str] = []
    printer = Printer(
        dev, [fmt.with_signs(fmt.parse("%d %@d\n"), [True, False])], out, quiet=True, aggs=aggs
    )
    s = Session(dev, printer, bufsize=64, warn=warnings.append)
    s.ncpus, s.began_on = 2, 0
    s.snap_aggregations(force=True)
    s.consume(force=True)
    assert warnings == ["1 aggregation drop on CPU 1"]
    assert out.getvalue() == b"5 4\n" + b"\n        5                2\n"
    assert aggs.print_unprinted(OPTS) == b""


def test_setopt_changes_the_runtime_sort_options():
    printer = Printer(FakeDevice({}, {}, {}, {}), [], io.BytesIO())
    printer.setopt("aggsortrev", None)
    printer.setopt("aggsortkeypos", "1")
    printer.setopt("quiet", "1")
    assert printer.aggopts == A.SortOptions(rev=True, keypos=1)
    assert printer.quiet
    printer.setopt("aggsortrev", "0")
    assert not printer.aggopts.rev
