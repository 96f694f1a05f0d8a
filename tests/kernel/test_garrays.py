"""D scalar arrays in variables against the module (test VM, module loaded):
an element store outside the array is refused with DTrace's error line,
tracing goes on, the neighbouring variable keeps its value, and the kernel
stays clean (the harness fails the run on any oops or warning in dmesg).
String and struct copies into elements (copys) are refused past the
variable's data too, in every scope.  The values themselves are
tests/dtest/tst.garrays.d and tst.copyarrays.d."""

from __future__ import annotations

import os
import re
import struct

import pytest
from kutil import pydtrace
from progbuild import (
    M64,
    UBASE,
    Builder,
    Consumer,
    Difo,
    Var,
    add,
    ins,
    records,
    ret,
    sets,
    setx,
    var,
)

from pydtrace.abi import lib

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

ERROR = (r"pydtrace: error on enabled probe ID {epid} \(ID 1: dtrace:::BEGIN\): "
         r"invalid address \({addr}\) in action #{act} at DIF offset \d+\n")


def test_out_of_bounds_stores_are_invalid_addresses() -> None:
    """A run-time index outside the bounds (past the end: into where the
    next variable is; negative: the header) is an invalid address (0x0)
    from the generated check; a store through a pointer just past the
    array reaches the module's store check, which refuses it with the
    real address.  The clauses after each error still run."""
    p = pydtrace(
        "-qn",
        "int a[4]; int b[4];"
        "BEGIN { b[0] = 5; i = 6; a[i] = 1; printf(\"not reached\\n\"); }"
        "BEGIN { i = -1; a[i] = 2; }"
        "BEGIN { q = (int *)a; q[3] = 4; q[4] = 3; }"
        "BEGIN { printf(\"%d %d %d %d\\n\", b[0], b[1], a[0], a[3]); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "5 0 0 4\n\n"   # dtrace ends with a newline
    want = (ERROR.format(epid=1, addr="0x0", act=3) + ERROR.format(epid=2, addr="0x0", act=2)
            + ERROR.format(epid=3, addr="0x[0-9a-f]+", act=3))
    assert re.fullmatch(want, p.stderr), p.stderr
    addr = re.findall(r"invalid address \((0x[0-9a-f]+)\)", p.stderr)[-1]
    assert int(addr, 16) >= 1 << 63      # the kernel address after a[3], not 0


def test_array_stores_from_many_firings() -> None:
    """Stores into a global array from a profile probe on every CPU, with
    an out-of-bounds store faulting after each: the counts add up, the
    errors are reported, and nothing else is written."""
    p = pydtrace(
        "-qn",
        "long a[2]; long b[2];"
        "profile-199 { a[cpu & 1]++; i = (cpu & 1) + 3; a[i] = 1; }"
        "tick-1s { exit(0); }"
        "END { printf(\"%d %d %d\\n\", a[0] + a[1] > 0, b[0], b[1]); }",
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1 0 0\n\n"
    lines = p.stderr.splitlines()
    assert lines and all(re.fullmatch(
        r"pydtrace: error on enabled probe ID 1 \(ID \d+: profile:::profile-199\): "
        r"invalid address \(0x0\) in action #3 at DIF offset \d+", x) for x in lines), lines[:3]


def test_array_larger_than_a_global_may_be_is_refused_cleanly() -> None:
    """A by-reference global is at most 16 KiB (dtrace_global_maxsize): the
    module's validator refuses a bigger array and pydtrace says so."""
    p = pydtrace("-qn", "int a[5000]; BEGIN { a[1] = 1; exit(0); }")
    assert p.returncode != 0
    assert p.stderr.startswith("pydtrace: ") and "Traceback" not in p.stderr, p.stderr
    print(p.stderr)


def test_string_and_struct_copies_and_out_of_bounds() -> None:
    """String and struct copies into elements of global, clause-local and
    thread-local arrays and struct members read back; a run-time index
    outside a string array is an invalid address (0x0) and the elements
    either side keep their strings.  The values are tst.copyarrays.d."""
    p = pydtrace(
        "-qn",
        "string s[2]; self string t[2]; struct pt { int x; long y; }; struct pt p[2];"
        " self struct pt st;"
        'BEGIN { s[0] = "a"; s[1] = "b"; i = 2; s[i] = "over"; }'
        'BEGIN { self->t[1] = "tee"; i = -1; self->t[i] = "under"; }'
        "BEGIN { p[1].y = 5; p[0] = p[1]; self->st = p[0]; self->st.x = 2; i = 2; p[i] = p[0]; }"
        'BEGIN { printf("%s %s %s %d %d %d\\n", s[0], s[1], self->t[1], p[0].y,'
        " self->st.x, self->st.y); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "a b tee 5 2 5\n\n"
    want = (ERROR.format(epid=1, addr="0x0", act=4) + ERROR.format(epid=2, addr="0x0", act=3)
            + ERROR.format(epid=3, addr="0x0", act=6))
    assert re.fullmatch(want, p.stderr), p.stderr


BEGIN = ("dtrace", "", "", "BEGIN")
SCOPES = {
    "global": (lib.DIFV_SCOPE_GLOBAL, "ldgs"),
    "clause-local": (lib.DIFV_SCOPE_LOCAL, "ldls"),
    "thread-local": (lib.DIFV_SCOPE_THREAD, "ldts"),
}


def _data(scope: int, load: str, vid: int) -> list[int]:
    """%r1 = the address of the variable's 16 bytes of data (a thread-local
    is created first, as the compiler's fault-in does)."""
    text = [var(load, vid, 1)]
    if scope == lib.DIFV_SCOPE_THREAD:
        n = len(text)
        text += [ins(lib.DIF_OP_TST, 1), (lib.DIF_OP_BNE << 24) | (n + 7),
                 setx(0, 1), ins(lib.DIF_OP_ALLOCS, 1, 0, 1), var("stts", vid, 1),
                 var(load, vid, 1), ins(lib.DIF_OP_NOP)]
    return text


@pytest.mark.parametrize("name", list(SCOPES))
def test_copys_writes_only_the_variables_data(name: str) -> None:
    """Hand-built DIF: copys of the variable's 16 bytes into its data is
    accepted; one byte more, one byte at its end, or 8 bytes over its
    header are refused by the module's store check with the destination
    address (BADADDR in the ERROR probe), the clause's record abandoned,
    and the data keeps the 16 bytes of the first copy."""
    scope, load = SCOPES[name]
    vid = UBASE
    v = [Var(vid, scope, tflags=lib.DIF_TF_BYREF, tsize=16)]
    src = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\0"

    def copy(size: int, off: int, mark: int) -> Difo:
        # %r2 = data + off (off is added modulo 2^64); copys src, size -> %r2
        text = _data(scope, load, vid) + [
            setx(1, 2), add(1, 2, 2), sets(0, 3), setx(2, 4),
            ins(lib.DIF_OP_COPYS, 3, 4, 2), setx(3, 5), ret(5)]
        return Difo(text, ints=[16, off & M64, size, mark], strtab=src, vars=v)

    def readback(off: int) -> Difo:
        text = _data(scope, load, vid) + [
            setx(1, 2), add(1, 2, 2), ins(lib.DIF_OP_LDX, 2, 0, 3), ret(3)]
        return Difo(text, ints=[16, off], vars=v)

    b = Builder()
    b.clause(BEGIN, [b.expr(copy(16, 0, 1))])
    b.clause(BEGIN, [b.expr(copy(17, 0, 2))])
    b.clause(BEGIN, [b.expr(copy(1, 16, 3))])
    b.clause(BEGIN, [b.expr(copy(8, -8, 4))])
    b.clause(BEGIN, [b.expr(copy(1 << 32, 0, 5))])
    b.clause(BEGIN, [b.expr(readback(0)), b.expr(readback(8))])
    b.clause(("dtrace", "", "", "ERROR"),
             [b.expr(Difo([var("ldgs", lib.DIF_VAR_ARG4, 1), ret(1)])),
              b.expr(Difo([var("ldgs", lib.DIF_VAR_ARG5, 1), ret(1)]))])
    with Consumer() as dt:
        dt.enable(b)
        cpu = dt.go()
        data, bd = dt.bufsnap(cpu)
        recs = records(data, dt)
        vals = {}
        for epid, rec in recs:
            _, descs = dt.eprobe(epid)
            vals.setdefault(epid, []).append(
                [struct.unpack_from("<Q", rec, r.dtrd_offset)[0] for r in descs])
    assert bd.dtbd_errors == 4
    assert vals[1] == [[1]]
    assert vals[6] == [[struct.unpack_from("<Q", src, 0)[0], struct.unpack_from("<Q", src, 8)[0]]]
    assert 2 not in vals and 3 not in vals and 4 not in vals and 5 not in vals
    errs = vals[7]
    assert [e[0] for e in errs] == [lib.DTRACEFLT_BADADDR] * 4
    base = errs[0][1]
    assert base >= 1 << 63
    assert [e[1] for e in errs] == [base, base + 16, base - 8, base]
