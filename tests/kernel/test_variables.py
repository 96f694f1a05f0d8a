"""User variables in the module: global scalars, clause-locals, thread-locals
and associative arrays, driven with hand-built DIF (test VM, module loaded)."""

from __future__ import annotations

import errno
import itertools
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from progbuild import (
    FIRST8,
    NONE,
    UBASE,
    Act,
    Builder,
    Consumer,
    Difo,
    Var,
    add,
    const_difo,
    flushts,
    ins,
    push,
    records,
    ret,
    sets,
    setx,
    string_var,
    var,
)

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

BEGIN = ("dtrace", "", "", "BEGIN")
END = ("dtrace", "", "", "END")
G, T, L = lib.DIFV_SCOPE_GLOBAL, lib.DIFV_SCOPE_THREAD, lib.DIFV_SCOPE_LOCAL
ARRAY = lib.DIFV_KIND_ARRAY
DIFEXPR = lib.DTRACEACT_DIFEXPR


@pytest.fixture
def dt() -> Iterator[Consumer]:
    with Consumer() as c:
        yield c


def store(op: str, vid: int, value: int, vars_: list[Var]) -> Difo:
    """A void expression: <var> = value."""
    return Difo([setx(0, 1), var(op, vid, 1), ret(1)], ints=[value], size=0, vars=vars_)


def load(op: str, vid: int, vars_: list[Var], size: int = 8, **kw: int) -> Difo:
    return Difo([var(op, vid, 1), ret(1)], size=size, vars=vars_, **kw)


def assoc(op: str, keys: list[int], value: int | None, vid: int, scope: int) -> Difo:
    """a[keys...] = value (void), or a[keys...] (8 bytes) when value is None."""
    text = [flushts()]
    for i in range(len(keys)):
        text += [setx(i, 1), push(False, 0, 0, 1)]
    ints = list(keys)
    if value is None:
        text += [var(op, vid, 2), ret(2)]
    else:
        ints.append(value)
        text += [setx(len(ints) - 1, 2), var(op, vid, 2), ret(2)]
    return Difo(text, ints=ints, size=0 if value is not None else 8, vars=[Var(vid, scope, ARRAY)])


def begin_values(dt: Consumer, cpu: int) -> list[int]:
    """The 8-byte trace() values the BEGIN clauses recorded, in order."""
    data, bd = dt.bufsnap(cpu)
    assert bd.dtbd_errors == 0
    return [struct.unpack_from("<q", r, FIRST8)[0] for _, r in records(data, dt)]


# --------------------------------------------------------------- statics


def test_global_scalar_persists_across_clauses_and_end(dt: Consumer) -> None:
    x = [Var(UBASE, G)]
    b = Builder()
    b.clause(BEGIN, [b.expr(store("stgs", UBASE, 5, x))])
    inc = Difo([var("ldgs", UBASE, 1), setx(0, 2), add(1, 2, 3), ret(3)], ints=[1], vars=x)
    b.clause(BEGIN, [b.expr(inc)])
    b.clause(END, [b.expr(load("ldgs", UBASE, x))])
    dt.enable(b)
    assert begin_values(dt, dt.go()) == [6]
    end = dt.stop()
    assert begin_values(dt, end) == [5]


def test_global_string_byref_and_null(dt: Consumer) -> None:
    s = [string_var(UBASE, G, 32)]
    b = Builder()
    assign = Difo([sets(0, 1), var("stgs", UBASE, 1), ret(1)], strtab=b"hello\0", size=0, vars=s)
    b.clause(BEGIN, [b.expr(assign)])
    b.clause(
        BEGIN,
        [b.expr(load("ldgs", UBASE, s, size=32, kind=1, flags=lib.DIF_TF_BYREF))],
    )
    # s = NULL; then the variable reads as 0 (the header's NULL mark)
    b.clause(BEGIN, [b.expr(Difo([var("stgs", UBASE, 0), ret(0)], size=0, vars=s))])
    b.clause(BEGIN, [b.expr(load("ldgs", UBASE, s))])
    dt.enable(b)
    data, _ = dt.bufsnap(dt.go())
    recs = [r for _, r in records(data, dt)]
    assert recs[0][FIRST8 : FIRST8 + 32] == b"hello" + bytes(27)  # header, pad, string
    assert struct.unpack_from("<Q", recs[1], FIRST8)[0] == 0


def test_clause_local_shared_by_clauses_of_one_firing(dt: Consumer) -> None:
    t = [Var(UBASE, L)]
    b = Builder()
    b.clause(BEGIN, [b.expr(store("stls", UBASE, 7, t))])
    b.clause(BEGIN, [b.expr(load("ldls", UBASE, t))])
    dt.enable(b)
    assert begin_values(dt, dt.go()) == [7]


def test_variable_tables_must_agree(dt: Consumer) -> None:
    b = Builder()
    b.clause(BEGIN, [b.expr(store("stgs", UBASE, 1, [Var(UBASE, G)]))])
    b.clause(BEGIN, [b.expr(load("ldgs", UBASE, [Var(UBASE, G, tsize=4)]))])
    err, de = dt.enable_raw(b.build())
    assert err == errno.EINVAL
    assert de.de_err == lib.DTRACE_EPROG_VARTAB and de.de_difo == 1
    # across enablings too; the refused one leaves the first intact
    b1 = Builder()
    b1.clause(BEGIN, [b1.expr(store("stgs", UBASE, 3, [Var(UBASE, G)]))])
    b1.clause(BEGIN, [b1.expr(load("ldgs", UBASE, [Var(UBASE, G)]))])
    assert dt.enable(b1) == 2
    b2 = Builder()
    b2.clause(BEGIN, [b2.expr(load("ldgs", UBASE, [string_var(UBASE, G, 16)], size=8))])
    err, de = dt.enable_raw(b2.build())
    assert err == errno.EINVAL and de.de_err == lib.DTRACE_EPROG_VARTAB
    assert begin_values(dt, dt.go()) == [3]


# ------------------------------------------------------------ dynamics


def test_thread_local_store_load_delete(dt: Consumer) -> None:
    t = [Var(UBASE, T)]
    b = Builder()
    b.clause(BEGIN, [b.expr(store("stts", UBASE, 9, t))])
    b.clause(BEGIN, [b.expr(load("ldts", UBASE, t))])
    b.clause(BEGIN, [b.expr(store("stts", UBASE, 0, t))])  # deletes
    b.clause(BEGIN, [b.expr(load("ldts", UBASE, t))])
    dt.enable(b)
    assert begin_values(dt, dt.go()) == [9, 0]
    st = dt.status()
    assert (st.dtst_dyndrops, st.dtst_dyndrops_dirty, st.dtst_dyndrops_rinsing) == (0, 0, 0)


def test_assoc_arrays_keys_and_delete(dt: Consumer) -> None:
    b = Builder()
    b.clause(BEGIN, [b.expr(assoc("stgaa", [1], 10, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("stgaa", [1, 2], 20, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("ldgaa", [1], None, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("ldgaa", [1, 2], None, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("ldgaa", [2], None, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("stgaa", [1], 0, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("ldgaa", [1], None, UBASE, G))])
    b.clause(BEGIN, [b.expr(assoc("ldgaa", [1, 2], None, UBASE, G))])
    # a thread-local array with the same id and keys is a different variable
    b.clause(BEGIN, [b.expr(assoc("ldtaa", [1, 2], None, UBASE, T))])
    dt.enable(b)
    assert begin_values(dt, dt.go()) == [10, 20, 0, 0, 20, 0]


def test_assoc_string_key_compares_bytes(dt: Consumer) -> None:
    a = [Var(UBASE, G, ARRAY)]

    def prog(key: bytes, value: int | None) -> Difo:
        text = [sets(0, 1), flushts(), push(True, lib.DIF_TYPE_STRING, 0, 1)]
        if value is None:
            return Difo(text + [var("ldgaa", UBASE, 2), ret(2)], strtab=key + b"\0", vars=a)
        text += [setx(0, 2), var("stgaa", UBASE, 2), ret(2)]
        return Difo(text, ints=[value], strtab=key + b"\0", size=0, vars=a)

    b = Builder()
    b.clause(BEGIN, [b.expr(prog(b"foo", 3))])
    b.clause(BEGIN, [b.expr(prog(b"foo", None))])  # another copy of "foo"
    b.clause(BEGIN, [b.expr(prog(b"fo", None))])
    b.clause(BEGIN, [b.expr(prog(b"food", None))])
    dt.enable(b)
    assert begin_values(dt, dt.go()) == [3, 0, 0]


def test_drops_when_dynvarsize_is_tiny(dt: Consumer) -> None:
    b = Builder()
    b.opts.append((lib.DTRACEOPT_DYNVARSIZE, 1024))
    n = 20
    for i in range(n):
        b.clause(
            BEGIN,
            [b.expr(assoc("stgaa", [i + 1], 1, UBASE, G)), b.expr(const_difo(i))],
        )
    dt.enable(b)
    got = begin_values(dt, dt.go())
    st = dt.status()
    # the ECBs whose store found no chunk were dropped silently, in order
    assert 0 < len(got) < n
    assert got == list(range(len(got)))
    assert st.dtst_dyndrops == n - len(got)
    assert st.dtst_errors == 0


def test_deleted_chunks_wait_for_the_cleaner(dt: Consumer) -> None:
    # allocate and delete over and over within one firing: the freed chunks
    # are dirty until the cleaner has synchronised, so the space runs dry
    b = Builder()
    b.opts.append((lib.DTRACEOPT_DYNVARSIZE, 1024))
    n = 12
    for i in range(n):
        b.clause(
            BEGIN,
            [
                b.expr(assoc("stgaa", [i + 1], 1, UBASE, G)),
                b.expr(assoc("stgaa", [i + 1], 0, UBASE, G)),
                b.expr(const_difo(i)),
            ],
        )
    dt.enable(b)
    got = begin_values(dt, dt.go())
    st = dt.status()
    assert 0 < len(got) < n
    assert st.dtst_dyndrops_dirty == n - len(got)
    assert st.dtst_dyndrops == 0


# ------------------------------------------------- many CPUs, same table

_MAGICS = itertools.count()


def new_magic() -> int:
    """An fd number to close() that no other test (or process) uses."""
    return 1_000_000 + (os.getpid() % 40_000) * 25 + next(_MAGICS) % 25


WORKER = """
import os, sys
os.sched_setaffinity(0, {int(sys.argv[1])})
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    try:
        os.close(int(sys.argv[3]))
    except OSError:
        pass
"""


def arg0_is(value: int) -> Difo:
    text = [
        var("ldgs", lib.DIF_VAR_ARG0, 1),
        setx(0, 2),
        ins(lib.DIF_OP_CMP, 1, 2, 0),
        (lib.DIF_OP_BNE << 24) | 6,
        setx(1, 3),
        ret(3),
        ret(0),
    ]
    return Difo(text, ints=[value, 1], size=4)


def test_many_cpus_share_the_dynamic_space(dt: Consumer) -> None:
    magic = new_magic()
    ncpu = len(os.sched_getaffinity(0))
    if ncpu < 2:
        pytest.skip("needs 2 CPUs")
    n = 400
    a = [Var(UBASE, G, ARRAY)]
    t = [Var(UBASE, T)]
    k = [Var(UBASE + 1, G, ARRAY)]
    pid = lib.DIF_VAR_PID
    # a[pid] = a[pid] + 1, traced
    count = Difo(
        [
            var("ldgs", pid, 1),
            flushts(),
            push(False, 0, 0, 1),
            var("ldgaa", UBASE, 2),
            setx(0, 3),
            add(2, 3, 2),
            var("stgaa", UBASE, 2),
            ret(2),
        ],
        ints=[1],
        vars=a,
    )
    # self->n = self->n + 1, traced
    tls = Difo(
        [var("ldts", UBASE, 1), setx(0, 2), add(1, 2, 1), var("stts", UBASE, 1), ret(1)],
        ints=[1],
        vars=t,
    )
    # every CPU inserts and deletes the same key: k[0] = pid; k[0] = 0
    churn = Difo(
        [
            flushts(),
            push(False, 0, 0, 0),
            var("ldgs", pid, 1),
            var("stgaa", UBASE + 1, 1),
            var("stgaa", UBASE + 1, 0),
            ret(0),
        ],
        size=0,
        vars=k,
    )
    probe = ("syscall", "", "close", "entry")
    b = Builder()
    b.clause(
        probe,
        [b.expr(count), b.expr(tls), b.expr(Difo([var("ldgs", pid, 1), ret(1)]))],
        pred=arg0_is(magic),
    )
    b.clause(probe, [b.expr(churn)], pred=arg0_is(magic))
    if dt.enable(b) == 0:
        pytest.skip("no syscall::close:entry probe")
    dt.go()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(cpu), str(n), str(magic)],
            stdin=subprocess.PIPE,
        )
        for cpu in sorted(os.sched_getaffinity(0))[:2]
    ]
    for w in workers:
        assert w.stdin is not None
        w.stdin.write(b"go\n")
        w.stdin.close()
    for w in workers:
        assert w.wait(timeout=120) == 0
    seen: dict[int, list[tuple[int, int]]] = {}
    for cpu in range(os.cpu_count() or 1):
        data, bd = dt.bufsnap(cpu)
        assert bd.dtbd_drops == 0 and bd.dtbd_errors == 0
        for epid, r in records(data, dt):
            if epid != 1:
                continue
            av, tv, p = struct.unpack_from("<qqq", r, FIRST8)
            seen.setdefault(p, []).append((av, tv))
    for w in workers:
        assert seen.get(w.pid) == [(i, i) for i in range(1, n + 1)]
    assert dt.status().dtst_dyndrops == 0


def test_unused_action_kind_still_refused(dt: Consumer) -> None:
    # aggregation actions need a tuple: ntuple 0 is refused
    b = Builder()
    b.clause(BEGIN, [Act(lib.DTRACEAGG_COUNT, NONE, ntuple=0)])
    err, de = dt.enable_raw(b.build())
    assert err == errno.EINVAL and de.de_err == lib.DTRACE_EPROG_ACTION


@pytest.mark.parametrize("cleanrate,recycled", [(None, True), (60 * 10**9, False)])
def test_cleaner_recycles_deleted_chunks(
    dt: Consumer, cleanrate: int | None, recycled: bool
) -> None:
    magic = new_magic()
    # each firing allocates a chunk and frees it; with a few chunks only, the
    # space lasts as long as the cleaner gives the freed ones back
    b = Builder()
    b.opts.append((lib.DTRACEOPT_DYNVARSIZE, 1024))
    if cleanrate is not None:
        b.opts.append((lib.DTRACEOPT_CLEANRATE, cleanrate))
    b.clause(
        ("syscall", "", "close", "entry"),
        [
            b.expr(assoc("stgaa", [1], 1, UBASE, G)),
            b.expr(assoc("stgaa", [1], 0, UBASE, G)),
            b.expr(const_difo(7)),
        ],
        pred=arg0_is(magic),
    )
    if dt.enable(b) == 0:
        pytest.skip("no syscall::close:entry probe")
    dt.go()
    n = 30
    for _ in range(n):
        try:
            os.close(magic)
        except OSError:
            pass
        time.sleep(0.05)
    got = sum(len(records(dt.bufsnap(cpu)[0], dt)) for cpu in sorted(os.sched_getaffinity(0)))
    st = dt.status()
    assert got + st.dtst_dyndrops_dirty + st.dtst_dyndrops_rinsing == n
    if recycled:
        assert got == n
    else:
        assert got < n and st.dtst_dyndrops_dirty > 0


def test_string_values_in_dynamic_variables(dt: Consumer) -> None:
    ts = [string_var(UBASE, T, 64)]
    a = [string_var(UBASE, G, 64, ARRAY)]
    byref = {"size": 64, "kind": lib.DIF_TYPE_KIND_STRING, "flags": lib.DIF_TF_BYREF}
    b = Builder()
    # self->s = "thread"; a[5] = "array"; trace(self->s); trace(a[5])
    b.clause(
        BEGIN,
        [
            b.expr(
                Difo(
                    [sets(0, 1), var("stts", UBASE, 1), ret(1)], strtab=b"thread\0", size=0, vars=ts
                )
            ),
            b.expr(
                Difo(
                    [
                        sets(0, 1),
                        setx(0, 2),
                        flushts(),
                        push(False, 0, 0, 2),
                        var("stgaa", UBASE, 1),
                        ret(1),
                    ],
                    ints=[5],
                    strtab=b"array\0",
                    size=0,
                    vars=a,
                )
            ),
        ],
    )
    b.clause(BEGIN, [b.expr(load("ldts", UBASE, ts, **byref))])
    b.clause(
        BEGIN,
        [
            b.expr(
                Difo(
                    [setx(0, 2), flushts(), push(False, 0, 0, 2), var("ldgaa", UBASE, 1), ret(1)],
                    ints=[5],
                    vars=a,
                    **byref,
                )
            )
        ],
    )
    # assigning an empty string does not delete; a NULL does
    b.clause(
        BEGIN,
        [b.expr(Difo([sets(0, 1), var("stts", UBASE, 1), ret(1)], strtab=b"\0", size=0, vars=ts))],
    )
    b.clause(BEGIN, [b.expr(Difo([var("ldts", UBASE, 1), ret(1)], vars=ts))])
    b.clause(BEGIN, [b.expr(Difo([var("stts", UBASE, 0), ret(0)], size=0, vars=ts))])
    b.clause(BEGIN, [b.expr(Difo([var("ldts", UBASE, 1), ret(1)], vars=ts))])
    dt.enable(b)
    data, _ = dt.bufsnap(dt.go())
    recs = [r for _, r in records(data, dt)]
    assert recs[0][FIRST8 : FIRST8 + 64] == b"thread".ljust(64, b"\0")
    assert recs[1][FIRST8 : FIRST8 + 64] == b"array".ljust(64, b"\0")
    assert struct.unpack_from("<Q", recs[2], FIRST8)[0] != 0  # the data address
    assert struct.unpack_from("<Q", recs[3], FIRST8)[0] == 0  # deleted
