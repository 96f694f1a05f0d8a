"""Aggregations in the module: DTRACEIOC_AGGDESC layouts, DTRACEIOC_AGGSNAP
records, every aggregating function's kernel values (expected values are
computed here from the definitions in dtrace-internals.md 3.6), drops and
parameter checks.  Test VM, module loaded."""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest
from progbuild import (
    NONE,
    Act,
    Builder,
    Consumer,
    agg_records,
    all_cpus,
    builtin_difo,
    const_difo,
    string_difo,
    void_difo,
)
from test_variables import WORKER, arg0_is, new_magic

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

BEGIN = ("dtrace", "", "", "BEGIN")
M64 = (1 << 64) - 1
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
DIFEXPR = lib.DTRACEACT_DIFEXPR


@pytest.fixture
def dt() -> Iterator[Consumer]:
    with Consumer() as c:
        yield c


def s64(x: int) -> int:
    x &= M64
    return x - (1 << 64) if x >> 63 else x


def decode(dt: Consumer, data: bytes) -> dict[tuple[bytes, ...], tuple[int, list[int]]]:
    """{key record bytes: (aggregating action, value words)}."""
    out = {}
    for aggid, rec in agg_records(data, dt):
        ad, recs = dt.aggdesc(aggid)
        assert len(rec) == ad.dtagd_size
        keys = tuple(rec[r.dtrd_offset : r.dtrd_offset + r.dtrd_size] for r in recs[:-1])
        v = recs[-1]
        words = list(struct.unpack_from(f"<{v.dtrd_size // 8}q", rec, v.dtrd_offset))
        assert keys not in out
        out[keys] = (int(v.dtrd_action), words)
    return out


def q(x: int) -> bytes:
    return struct.pack("<q", x)


def run_values(kind: int, values: list[int], arg: int = 0) -> list[int]:
    """@[0] = kind(v) for each v in BEGIN; the value words."""
    b = Builder()
    for v in values:
        b.clause(BEGIN, b.agg(kind, [const_difo(0)], const_difo(v), arg=arg))
    with Consumer() as dt:
        dt.enable(b)
        data, bd = dt.aggsnap(dt.go())
        assert bd.dtbd_drops == 0
        got = decode(dt, data)
    assert list(got) == [(q(1), q(0))]
    action, words = got[(q(1), q(0))]
    assert action == kind
    return words


VALUES = [-5, 0, 1, 3, 7, 8, 1 << 40, -(1 << 62) - 3, INT64_MAX, INT64_MIN, -1]


# ------------------------------------------------------ reference functions


def quantize_ref(values: list[int], incr: int = 1) -> list[int]:
    def bv(k: int) -> int:
        if k < 63:
            return -(1 << (62 - k))
        return 0 if k == 63 else 1 << (k - 64)

    b = [0] * 127
    for v in values:
        if v < 0:
            k = next(k for k in range(63) if v <= bv(k))
        else:
            k = next((k - 1 for k in range(64, 127) if v < bv(k)), 126)
        b[k] += incr
    return b


def lquantize_ref(values: list[int], base: int, step: int, levels: int) -> list[int]:
    b = [0] * (levels + 2)
    for v in values:
        v = (v & 0xFFFFFFFF) - ((v & 0x80000000) << 1)  # truncated to s32
        if v < base:
            b[0] += 1
        elif (v - base) // step < levels:
            b[(v - base) // step + 1] += 1
        else:
            b[levels + 1] += 1
    return b


def llquantize_bucket(v: int, factor: int, low: int, high: int, nsteps: int) -> int:
    this = factor**low
    if v < this:
        return 0
    base, last, this = 1, this, this * factor
    for _ in range(low, high + 1):
        nb = min(this, nsteps)
        if v < this:
            return base + (v - last) // (this // nb)
        base += nb - nb // factor
        last, this = this, this * factor
    return base


# ----------------------------------------------------------------- tests


def test_count_layout_snapshot_and_switch(dt: Consumer) -> None:
    b = Builder()
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [const_difo(5)]))
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [const_difo(5)]))
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [const_difo(6)]))
    dt.enable(b)
    ad, recs = dt.aggdesc(1)
    assert ad.dtagd_epid == 1
    assert ad.dtagd_size == 32
    assert [(r.dtrd_action, r.dtrd_offset, r.dtrd_size) for r in recs] == [
        (DIFEXPR, 8, 8),
        (DIFEXPR, 16, 8),
        (lib.DTRACEAGG_COUNT, 24, 8),
    ]
    assert dt.aggdesc(3)[0].dtagd_epid == 3
    with pytest.raises(OSError) as e:
        dt.aggdesc(4)
    assert e.value.errno == errno.EINVAL
    # the ECB itself records nothing
    epd, erecs = dt.eprobe(1)
    assert (epd.dtepd_size, epd.dtepd_nrecs) == (0, 0)

    cpu = dt.go()
    data, bd = dt.aggsnap(cpu)
    assert decode(dt, data) == {
        (q(1), q(5)): (lib.DTRACEAGG_COUNT, [2]),
        (q(1), q(6)): (lib.DTRACEAGG_COUNT, [1]),
    }
    assert dt.bufsnap(cpu)[0] == b""
    # a snapshot switches the buffer: the next one starts empty
    assert dt.aggsnap(cpu)[0] == b""
    # too small a buffer: ENOSPC and the size needed
    with pytest.raises(OSError) as e:
        dt.aggsnap(cpu, size=64)
    assert e.value.errno == errno.ENOSPC


def test_sum_min_max_avg() -> None:
    assert s64(sum(VALUES)) == run_values(lib.DTRACEAGG_SUM, VALUES)[0]
    assert run_values(lib.DTRACEAGG_MIN, VALUES) == [min(VALUES)]
    assert run_values(lib.DTRACEAGG_MAX, VALUES) == [max(VALUES)]
    assert run_values(lib.DTRACEAGG_AVG, VALUES) == [len(VALUES), s64(sum(VALUES))]
    # the initial values of min and max lose to anything
    assert run_values(lib.DTRACEAGG_MIN, [INT64_MAX]) == [INT64_MAX]
    assert run_values(lib.DTRACEAGG_MAX, [INT64_MIN]) == [INT64_MIN]


def test_stddev_sum_of_squares_is_128_bits() -> None:
    vals = [3, -4, 1 << 40, -(1 << 62), INT64_MIN]
    words = run_values(lib.DTRACEAGG_STDDEV, vals)
    sq = sum(abs(v) ** 2 for v in vals) & ((1 << 128) - 1)
    assert [w & M64 for w in words] == [
        len(vals),
        sum(vals) & M64,
        sq & M64,
        sq >> 64,
    ]


def test_quantize() -> None:
    assert run_values(lib.DTRACEAGG_QUANTIZE, VALUES) == quantize_ref(VALUES)


def test_quantize_increment_argument(dt: Consumer) -> None:
    b = Builder()
    b.clause(
        BEGIN, b.agg(lib.DTRACEAGG_QUANTIZE, [const_difo(0)], const_difo(3), incr=void_difo(5))
    )
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_QUANTIZE, [const_difo(0)], const_difo(-2)))
    dt.enable(b)
    ad, recs = dt.aggdesc(1)
    # the argument is not a record of the aggregation
    assert [r.dtrd_action for r in recs] == [DIFEXPR, DIFEXPR, lib.DTRACEAGG_QUANTIZE]
    got = decode(dt, dt.aggsnap(dt.go())[0])
    want = [a + b for a, b in zip(quantize_ref([3], 5), quantize_ref([-2]), strict=True)]
    assert got == {(q(1), q(0)): (lib.DTRACEAGG_QUANTIZE, want)}


def test_lquantize() -> None:
    base, step, levels = -2, 3, 4
    arg = (step << 48) | (levels << 32) | (base & 0xFFFFFFFF)
    vals = [*VALUES, -3, -2, 0, 1, 2, 9, 10, 11, (1 << 32) + 4]
    words = run_values(lib.DTRACEAGG_LQUANTIZE, vals, arg)
    assert words[0] & M64 == arg
    assert words[1:] == lquantize_ref(vals, base, step, levels)


def test_llquantize() -> None:
    factor, low, high, nsteps = 10, 0, 2, 10
    arg = (factor << 48) | (low << 32) | (high << 16) | nsteps
    vals = [*VALUES, 0, 5, 9, 10, 15, 99, 100, 250, 999, 1000, 5000]
    words = run_values(lib.DTRACEAGG_LLQUANTIZE, vals, arg)
    nb = llquantize_bucket(INT64_MAX, factor, low, high, nsteps) + 1
    want = [0] * nb
    for v in vals:
        want[llquantize_bucket(v, factor, low, high, nsteps)] += 1
    assert words[0] & M64 == arg
    assert words[1:] == want


def test_string_key(dt: Consumer) -> None:
    key = string_difo(lib.DIF_VAR_EXECNAME, 32)
    b = Builder()
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [key]))
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [string_difo(lib.DIF_VAR_EXECNAME, 32)]))
    dt.enable(b)
    assert dt.aggdesc(1)[1][1].dtrd_offset == 16
    got = decode(dt, dt.aggsnap(dt.go())[0])
    with open("/proc/self/comm", "rb") as f:
        comm = f.read().strip()
    assert got == {(q(1), comm.ljust(32, b"\0")): (lib.DTRACEAGG_COUNT, [2])}


def test_drops_when_aggsize_is_tiny(dt: Consumer) -> None:
    b = Builder()
    b.opts.append((lib.DTRACEOPT_AGGSIZE, 512))
    n = 40
    for i in range(n):
        b.clause(BEGIN, b.agg(lib.DTRACEAGG_SUM, [const_difo(i)], const_difo(i)))
    dt.enable(b)
    data, bd = dt.aggsnap(dt.go())
    got = decode(dt, data)
    assert 0 < len(got) < n
    assert bd.dtbd_drops == n - len(got)
    assert got == {(q(1), q(i)): (lib.DTRACEAGG_SUM, [i]) for i in range(len(got))}


def test_two_functions_on_one_key_fault(dt: Consumer) -> None:
    b = Builder()
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_COUNT, [const_difo(1)]))
    b.clause(BEGIN, b.agg(lib.DTRACEAGG_SUM, [const_difo(1)], const_difo(1)))
    dt.enable(b)
    cpu = dt.go()
    assert dt.status().dtst_errors == 1
    assert decode(dt, dt.aggsnap(cpu)[0]) == {(q(1), q(1)): (lib.DTRACEAGG_COUNT, [1])}


@pytest.mark.parametrize(
    "kind,arg,ntuple,value",
    [
        (lib.DTRACEAGG_LQUANTIZE, 0 << 48 | 4 << 32, 2, True),  # step 0
        (lib.DTRACEAGG_LQUANTIZE, 1 << 48 | 0 << 32, 2, True),  # 0 levels
        (lib.DTRACEAGG_LLQUANTIZE, 1 << 48 | 0 << 32 | 2 << 16 | 10, 2, True),  # factor 1
        (lib.DTRACEAGG_LLQUANTIZE, 10 << 48 | 2 << 32 | 2 << 16 | 10, 2, True),  # low = high
        (lib.DTRACEAGG_LLQUANTIZE, 10 << 48 | 0 << 32 | 2 << 16 | 15, 2, True),  # nsteps
        (lib.DTRACEAGG_LLQUANTIZE, 10 << 48 | 0 << 32 | 40 << 16 | 10, 2, True),  # 10^41
        (lib.DTRACEAGG_SUM, 0, 2, False),  # no expression
        (lib.DTRACEAGG_COUNT, 0, 3, False),  # the tuple runs past the clause
        (lib.DTRACEACT_AGGREGATION + 10, 0, 2, True),  # no such function
    ],
)
def test_bad_aggregations_refused(
    dt: Consumer, kind: int, arg: int, ntuple: int, value: bool
) -> None:
    b = Builder()
    acts = [b.expr(const_difo(1)), b.expr(const_difo(2))]
    acts.append(Act(kind, b.difo(const_difo(3)) if value else NONE, arg=arg, ntuple=ntuple))
    b.clause(BEGIN, acts)
    err, de = dt.enable_raw(b.build())
    assert err == errno.EINVAL
    assert de.de_err == lib.DTRACE_EPROG_ACTION


def test_tuple_cannot_reach_into_another_aggregation(dt: Consumer) -> None:
    b = Builder()
    acts = b.agg(lib.DTRACEAGG_COUNT, [const_difo(1)])
    acts += [b.expr(const_difo(2)), Act(lib.DTRACEAGG_COUNT, NONE, ntuple=3)]
    b.clause(BEGIN, acts)
    err, de = dt.enable_raw(b.build())
    assert err == errno.EINVAL and de.de_err == lib.DTRACE_EPROG_ACTION


def test_many_cpus_aggregate_per_cpu(dt: Consumer) -> None:
    magic = new_magic()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs 2 CPUs")
    n = 300
    probe = ("syscall", "", "close", "entry")
    b = Builder()
    b.clause(
        probe,
        b.agg(lib.DTRACEAGG_COUNT, [builtin_difo(lib.DIF_VAR_PID)])
        + b.agg(
            lib.DTRACEAGG_SUM,
            [builtin_difo(lib.DIF_VAR_PID)],
            builtin_difo(lib.DIF_VAR_ARG0),
            varid=2,
        ),
        pred=arg0_is(magic),
    )
    if dt.enable(b) == 0:
        pytest.skip("no syscall::close:entry probe")
    dt.go()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(cpu), str(n), str(magic)],
            stdin=subprocess.PIPE,
        )
        for cpu in cpus[:2]
    ]
    for w in workers:
        assert w.stdin is not None
        w.stdin.write(b"go\n")
        w.stdin.close()
    for w in workers:
        assert w.wait(timeout=120) == 0
    total: dict[tuple[bytes, ...], int] = {}
    for data in all_cpus(dt):
        got = decode(dt, data)
        for k, (_, words) in got.items():
            total[k] = total.get(k, 0) + words[0]
    for w in workers:
        assert total[(q(1), q(w.pid))] == n
        assert total[(q(2), q(w.pid))] == n * magic
