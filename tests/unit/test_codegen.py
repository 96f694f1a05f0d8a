"""Code generation, tested by running the DIF in the C interpreter (host build).

A small Python model of D's integer semantics evaluates the same expression;
the interpreter's result must agree, and every DIFO must pass dif_validate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from difhost import dif_object
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.dif.ir import Difo
from pydtrace.errors import DError
from pydtrace.program.decode import decode
from pydtrace.sema import types as T

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None


@dataclass
class Result:
    value: int
    flags: int


class Runner:
    def __init__(self, difo: Difo) -> None:
        ffi = _difhost.ffi
        self.difo = difo
        self._keep = []
        self.obj = dif_object(ffi, difo, self._keep)

    def validate(self) -> tuple[int, int]:
        """(0, 0) when valid, else (DTRACE_EPROG_*, pc)."""
        err = _difhost.ffi.new("struct dif_verr *")
        if _difhost.lib.dif_validate(self.obj, err) == 0:
            return 0, 0
        return err.err, err.pc

    def run(self, args: list[int] | None = None, globals_: list[int] | None = None,
            locals_: list[int] | None = None, builtins: dict[int, int] | None = None,
            strsize: int = 256) -> Result:
        ffi, lib = _difhost.ffi, _difhost.lib
        lib.dif_host_reset()
        for k, v in (builtins or {}).items():
            lib.dif_host_set_builtin(k, v)
        ms = ffi.new("struct dif_mstate *")
        for i, a in enumerate(args or []):
            ms.args[i] = a & ((1 << 64) - 1)
        ms.strsize = strsize
        scratch = ffi.new("char[]", 4096)
        ms.scratch_base = int(ffi.cast("unsigned long", scratch))
        ms.scratch_size = 4096
        g = ffi.new("unsigned long long[]", globals_ or [0] * 16)
        loc = ffi.new("unsigned long long[]", locals_ or [0] * 16)
        ms.globals, ms.nglobals = g, len(globals_ or [0] * 16)
        ms.locals, ms.nlocals = loc, len(locals_ or [0] * 16)
        value = lib.dif_emulate(self.obj, ms)
        self.globals = list(g)
        self.locals = list(loc)
        self._keep.append(scratch)
        return Result(int(value), int(ms.flags))

    def string(self, addr: int) -> bytes:
        return _difhost.ffi.string(_difhost.ffi.cast("char *", addr))


pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")

M64 = (1 << 64) - 1


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def difos(src: str, compiler: Compiler | None = None):
    c = compiler or Compiler()
    prog = c.compile(src, kind="probe", label="t")
    return decode(prog.data)


def run_trace(expr: str, **kw) -> int:
    """Value (64-bit register) of trace(expr) in a BEGIN clause."""
    d = difos(f"BEGIN {{ trace({expr}); }}")
    (difo,) = d.difos
    r = Runner(difo)
    assert r.validate() == (0, 0)
    res = r.run(**kw)
    assert res.flags == 0
    return res.value


# --- a model of D integer expressions -----------------------------------------

TYPES = [T.CHAR, T.UCHAR, T.SHORT, T.USHORT, T.INT, T.UINT, T.LONG, T.ULONG]


class Val:
    def __init__(self, value: int, t: T.DType, text: str) -> None:
        self.value = value & M64
        self.t = t
        self.text = text


def lit(v: int) -> Val:
    t = T.int_constant_type(v, True, "")
    return Val(v, t, str(v))


def _reduce(v: int, t: T.DType) -> int:
    if t.size == 8:
        return v & M64
    n = 64 - 8 * t.size
    v = (v << n) & M64
    return (s64(v) >> n) & M64 if t.signed else v >> n


def cast(t: T.DType, a: Val) -> Val:
    """C's conversion: the value of a in its own type, then in t."""
    return Val(_reduce(_reduce(a.value, a.t), t), t, f"(({t.name}){a.text})")


def binop(op: str, a: Val, b: Val) -> Val | None:
    t = T.promote(a.t, b.t)
    x, y = a.value, b.value
    if op == "+":
        v = x + y
    elif op == "-":
        v = x - y
    elif op == "*":
        v = x * y
    elif op in ("/", "%"):
        if y == 0:
            return None
        if t.signed:
            sx, sy = s64(x), s64(y)
            if sx == -(1 << 63) and sy == -1:
                v = sx if op == "/" else 0
            else:
                q = abs(sx) // abs(sy) * (1 if (sx < 0) == (sy < 0) else -1)
                v = q if op == "/" else sx - q * sy
        else:
            v = x // y if op == "/" else x % y
    elif op == "&":
        v = x & y
    elif op == "|":
        v = x | y
    elif op == "^":
        v = x ^ y
    elif op == "<<":
        v, t = x << (y & 63), a.t
    elif op == ">>":
        t = a.t
        v = (s64(x) >> (y & 63)) if t.signed else x >> (y & 63)
    elif op in ("==", "!=", "<", "<=", ">", ">="):
        if T.promote(a.t, b.t).signed:
            x, y = s64(x), s64(y)
        v = int({"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y,
                 ">": x > y, ">=": x >= y}[op])
        t = T.INT
    elif op == "&&":
        v, t = int(bool(x) and bool(y)), T.INT
    elif op == "||":
        v, t = int(bool(x) or bool(y)), T.INT
    elif op == "^^":
        v, t = int(bool(x) != bool(y)), T.INT
    else:
        raise AssertionError(op)
    return Val(v, t, f"({a.text} {op} {b.text})")


OPS = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=",
       ">", ">=", "&&", "||", "^^"]

leaves = st.one_of(
    st.integers(0, 2**31 - 1).map(lit),
    st.sampled_from([0, 1, 2, 7, 255, 65535, 2**31 - 1, 2**32 - 1, 2**63 - 1]).map(lit),
)


def extend(children):
    def build(args):
        kind, a, b, c, op, t = args
        if kind == "bin":
            r = binop(op, a, b)
            return r if r is not None else a
        if kind == "cast":
            return cast(t, a)
        if kind == "neg":
            return Val(-a.value, a.t, f"(-{a.text})")
        if kind == "not":
            return Val(~a.value, a.t, f"(~{a.text})")
        if kind == "lnot":
            return Val(int(a.value == 0), T.INT, f"(!{a.text})")
        return Val(b.value if a.value else c.value, T.promote(b.t, c.t),
                   f"({a.text} ? {b.text} : {c.text})")
    return st.tuples(st.sampled_from(["bin", "bin", "bin", "cast", "neg", "not", "lnot", "?:"]),
                     children, children, children, st.sampled_from(OPS),
                     st.sampled_from(TYPES)).map(build)


exprs = st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs)
def test_integer_expressions_agree_with_model(v: Val) -> None:
    try:
        got = run_trace(v.text)
    except DError as e:
        assert e.tag == "EDT_NOREG"
        return
    assert got == v.value, v.text


@pytest.mark.parametrize("expr,expected", [
    ("6 * 7", 42),
    ("(char)300", 44),
    ("(unsigned char)-1", 255),
    ("(char)255", M64),
    ("(uint64_t)-1", M64),                    # C: sign-extend the int, then reinterpret
    ("(long)(unsigned int)-1", 0xFFFFFFFF),   # C, not the old libdtrace quirk
    ("(unsigned short)(char)-1", 0xFFFF),
    ("(int)(unsigned char)200", 200),
    ("-1 < 0", 1),
    ("-1 < 0u", 0),                           # unsigned comparison by rank
    ("0x7fffffff + 1 > 0", 1),
    ("1 ? 2 : 3", 2),
    ("0 ? 2 : 3", 3),
    ("1 && 0", 0),
    ("0 || 5", 1),
    ("1 ^^ 1", 0),
    ("!0", 1),
    ("~0", M64),
    ("-7 / 2", (-3) & M64),
    ("-7 % 2", (-1) & M64),
    ("7u / 2", 3),
    ("-8 >> 1", (-4) & M64),
    ("(unsigned)-8 >> 1", 0x7FFFFFFC),
    ("'a'", 97),
    ("'\\n'", 10),
])
def test_constant_expressions(expr: str, expected: int) -> None:
    assert run_trace(expr) == expected


def test_short_circuit_skips_division_by_zero() -> None:
    d = difos("BEGIN { trace(arg0 != 0 && 10 / arg0 > 1); }")
    r = Runner(d.difos[0])
    assert r.validate() == (0, 0)
    res = r.run(args=[0])
    assert (res.value, res.flags) == (0, 0)
    res = r.run(args=[0, 0])
    assert res.flags == 0
    assert r.run(args=[5]).value == 1


def test_division_by_zero_at_run_time_faults() -> None:
    d = difos("BEGIN { trace(10 / arg0); }")
    r = Runner(d.difos[0])
    res = r.run(args=[0])
    assert res.flags & _difhost.lib.DIF_F_DIVZERO


def test_builtins_and_args() -> None:
    d = difos("BEGIN { trace(pid + arg1); }")
    r = Runner(d.difos[0])
    assert r.validate() == (0, 0)
    assert r.run(args=[0, 5], builtins={lib.DIF_VAR_PID: 100}).value == 105
    names = {d.difos[0].string_at(v.name) for v in d.difos[0].vartab}
    assert "pid" in names


def test_string_compare() -> None:
    for expr, want in [('"abc" == "abc"', 1), ('"abc" < "abd"', 1), ('"b" > "a"', 1),
                       ('"a" != "a"', 0)]:
        assert run_trace(expr) == want, expr


def test_string_result_is_byref() -> None:
    d = difos('BEGIN { trace("hello"); }')
    difo = d.difos[0]
    assert difo.rtype.kind == lib.DIF_TYPE_KIND_STRING
    assert difo.rtype.flags == lib.DIF_TF_BYREF
    assert difo.rtype.size == 256
    r = Runner(difo)
    assert r.validate() == (0, 0)
    assert r.string(r.run().value) == b"hello"


def test_globals_and_locals() -> None:
    c = Compiler()
    d = difos("BEGIN { x = 5; this->y = x * 2; trace(this->y + x++); trace(x); }", c)
    globals_ = [0] * 4
    locals_ = [0] * 4
    out = []
    for difo in d.difos:
        r = Runner(difo)
        assert r.validate() == (0, 0)
        out.append(r.run(globals_=globals_, locals_=locals_).value)
        globals_, locals_ = r.globals, r.locals
    assert out[2:] == [15, 6]
    # a second program of the same consumer reuses the global's id
    d2 = difos("END { trace(x); }", c)
    r = Runner(d2.difos[0])
    assert r.run(globals_=globals_).value == 6


def test_predicate_difo() -> None:
    d = difos("BEGIN /arg0 > 3/ { }")
    assert d.ecbs[0].pred == 0 and d.ecbs[0].acts == []
    r = Runner(d.difos[0])
    assert r.run(args=[4]).value == 1
    assert r.run(args=[3]).value == 0


def test_every_difo_validates() -> None:
    src = ('BEGIN { x = 1; x += 2; x <<= 1; printf("%d %s %u\\n", x, execname, 3u); '
           'trace(probefunc); trace(timestamp > 0 ? 1 : 0); exit(0); }')
    for difo in difos(src).difos:
        assert Runner(difo).validate() == (0, 0)


def test_insufficient_registers() -> None:
    deep = "1"
    for i in range(2, 12):
        deep = f"({i} + {deep})"
    deep_right = "1"
    for i in range(2, 12):
        deep_right = f"({deep_right} + {i})"
    assert run_trace(deep_right) == sum(range(1, 12))
    with pytest.raises(DError) as ei:
        Compiler().compile(f"BEGIN {{ trace({deep}); }}", kind="probe", label="t")
    assert ei.value.tag == "EDT_NOREG"
    assert ei.value.message == "Insufficient registers to generate code"


def test_branches_are_forward() -> None:
    from pydtrace.dif.opcodes import decode as dec
    d = difos("BEGIN { trace((arg0 && arg1) || !(arg2 ? arg3 : arg4)); }")
    text = d.difos[0].text
    for pc, w in enumerate(text):
        op = dec(w)[0]
        if op.form == "BR":
            assert pc < (w & 0xFFFFFF) < len(text)


@pytest.mark.parametrize("expr,want", [
    ('"a" != NULL', 1), ('"a" == NULL', 0), ('NULL == "a"', 0), ('"" == NULL', 1),
    ('json("[1]", "0") != NULL', 1), ('json("[1]", "1") == NULL', 1),
])
def test_string_compares_with_null(expr: str, want: int) -> None:
    """dtrace's json() idiom `json(s, k) != NULL`: a string compared with
    NULL is a string compare in which NULL reads as the empty string."""
    assert run_trace(expr) == want
