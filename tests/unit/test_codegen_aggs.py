"""Aggregations and the aggregation actions: the action-list fragments of
dtrace-internals.md 3.6 (decoded from the program bytes), their constant
DIFOs run in the host interpreter, the compile-time checks with DTrace's
tags and messages, and the per-Compiler aggregation table."""

from __future__ import annotations

import pytest

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.program import ActDesc
from pydtrace.program.decode import Decoded, decode

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

DIFEXPR = int(lib.DTRACEACT_DIFEXPR)
LIBACT = int(lib.DTRACEACT_LIBACT)


def compile_(src: str, c: Compiler | None = None) -> Decoded:
    c = c or Compiler(kernel=None)
    return decode(c.compile(src, kind="probe", label="t").data)


def acts(d: Decoded) -> list[ActDesc]:
    return [a for e in d.ecbs for a in e.acts]


def const_of(d: Decoded, a: ActDesc) -> int:
    """The value of a constant DIFO (setx; ret), decoded and, when the host
    interpreter is built, run."""
    assert a.difo is not None
    difo = d.difos[a.difo]
    assert len(difo.text) == 2 and len(difo.inttab) == 1
    if _difhost is not None:
        from test_codegen import Runner
        r = Runner(difo)
        assert r.validate() == (0, 0)
        assert r.run().value == difo.inttab[0]
    return difo.inttab[0]


def test_count_fragment() -> None:
    c = Compiler(kernel=None)
    d = compile_("BEGIN { @c[execname, arg0] = count(); }", c)
    a = acts(d)
    assert [x.kind for x in a] == [DIFEXPR, DIFEXPR, DIFEXPR, lib.DTRACEAGG_COUNT]
    assert const_of(d, a[0]) == 1
    assert d.difos[a[1].difo].rtype.kind == lib.DIF_TYPE_KIND_STRING
    assert d.difos[a[2].difo].rtype.size == 8
    assert a[3].difo is None and a[3].ntuple == 3 and a[3].arg == 0
    (agg,) = c.aggregations
    assert (agg.id, agg.name, agg.func, agg.kind) == (1, "c", "count", lib.DTRACEAGG_COUNT)
    assert [str(t) for t in agg.keys] == ["string", "int64_t"]


def test_value_and_increment() -> None:
    d = compile_("BEGIN { @q[1] = quantize(arg0, arg1 * 2); @s = sum(arg2); }")
    a = acts(d)
    assert [x.kind for x in a] == [DIFEXPR, DIFEXPR, DIFEXPR, lib.DTRACEAGG_QUANTIZE,
                                   DIFEXPR, lib.DTRACEAGG_SUM]
    assert const_of(d, a[0]) == 1 and const_of(d, a[4]) == 2
    incr = d.difos[a[2].difo]
    assert incr.rtype.size == 0                     # the size-0 argument member
    assert a[3].ntuple == 3 and a[3].difo is not None
    assert a[5].ntuple == 1
    if _difhost is not None:
        from test_codegen import Runner
        assert Runner(incr).run(args=[0, 21]).value == 42
        assert Runner(d.difos[a[5].difo]).run(args=[0, 0, 9]).value == 9


def test_lquantize_and_llquantize_parameters() -> None:
    c = Compiler(kernel=None)
    d = compile_("BEGIN { @l = lquantize(arg0, -10, 100, 10); "
                 "@m = llquantize(arg0, 10, 0, 6, 20); @n = lquantize(arg0, 0, 5); }", c)
    a = [x for x in acts(d) if x.kind != DIFEXPR]
    assert a[0].kind == lib.DTRACEAGG_LQUANTIZE
    assert a[0].arg == (10 << 48) | (11 << 32) | ((-10) & 0xFFFFFFFF)
    assert a[1].kind == lib.DTRACEAGG_LLQUANTIZE
    assert a[1].arg == (10 << 48) | (0 << 32) | (6 << 16) | 20
    assert a[2].arg == (1 << 48) | (5 << 32)
    assert [g.arg for g in c.aggregations] == [a[0].arg, a[1].arg, a[2].arg]
    # the same parameters again are fine, and so is the increment argument
    compile_("END { @l = lquantize(arg1, -10, 100, 10, 3); }", c)


def test_ids_are_per_compiler_and_committed_on_success() -> None:
    c = Compiler(kernel=None)
    compile_("BEGIN { @a = count(); @b = sum(1); }", c)
    with pytest.raises(DError):
        compile_("BEGIN { @z = count(); @a = sum(1); }", c)
    d = compile_("END { @c = max(2); @a = count(); }", c)
    assert [(g.id, g.name) for g in c.aggregations] == [(1, "a"), (2, "b"), (3, "c")]
    a = acts(d)
    assert const_of(d, a[0]) == 3 and const_of(d, a[2]) == 1


def test_anonymous_aggregation() -> None:
    c = Compiler(kernel=None)
    compile_("BEGIN { @ = avg(arg0); }", c)
    assert c.aggregations[0].name == ""


def test_aggregations_record_nothing_else() -> None:
    """An aggregation statement is only its fragment: no void DIFEXPR."""
    d = compile_("BEGIN { @a = count(); }")
    assert len(acts(d)) == 2


@pytest.mark.parametrize("src,tag,msg", [
    ("BEGIN { @a = count(1); }", "D_PROTO_LEN",
     "count( ) prototype mismatch: 1 arg passed, 0 expected"),
    ("BEGIN { @a = sum(); }", "D_PROTO_LEN",
     "sum( ) prototype mismatch: 0 args passed, 1 expected"),
    ("BEGIN { @a = quantize(); }", "D_PROTO_LEN",
     "quantize( ) prototype mismatch: 0 args passed, 1 expected"),
    ("BEGIN { @a = lquantize(arg0, 1); }", "D_PROTO_LEN",
     "lquantize( ) prototype mismatch: 2 args passed, 3 expected"),
    ('BEGIN { @a = lquantize(arg0, "a", 2); }', "D_PROTO_ARG",
     "lquantize( ) argument #2 is incompatible with prototype:\n"
     "\tprototype: int32_t\n\t argument: string"),
    ('BEGIN { @a = sum("x"); }', "D_AGG_SCALAR",
     "sum( ) argument #1 must be of scalar type"),
    ("BEGIN { @a = count(); @a = sum(1); }", "D_AGG_REDEF",
     "aggregation redefined: @a\n\t current: @a = sum( )\n\tprevious: @a = count( ) "
     ": line 1"),
    ("BEGIN { @a[1] = count(); @a[1, 2] = count(); }", "D_PROTO_LEN",
     "@a[ ] prototype mismatch: 2 keys passed, 1 expected"),
    ('BEGIN { @a[1] = count(); @a["s"] = count(); }', "D_PROTO_ARG",
     "@a[ ] key #1 is incompatible with prototype:\n\tprototype: int\n\t      key: string"),
    ("BEGIN { @a = quantize(arg0, 1, 2); }", "D_PROTO_LEN",
     "quantize( ) prototype mismatch: 3 args passed, at most 2 expected"),
    ('BEGIN { @a = quantize(arg0, "s"); }', "D_PROTO_ARG",
     "quantize( ) increment value (argument #2) must be of scalar type"),
    ("BEGIN { @a = lquantize(arg0, arg1, 10); }", "D_LQUANT_BASETYPE",
     "lquantize( ) argument #1 must be an integer constant"),
    ("BEGIN { @a = lquantize(arg0, 0x100000000, 10); }", "D_LQUANT_BASEVAL",
     "lquantize( ) argument #1 must be a 32-bit quantity"),
    ("BEGIN { @a = lquantize(arg0, 0, arg1); }", "D_LQUANT_LIMTYPE",
     "lquantize( ) argument #2 must be an integer constant"),
    ("BEGIN { @a = lquantize(arg0, 10, 0); }", "D_LQUANT_MISMATCH",
     "lquantize( ) base (argument #1) must be less than limit (argument #2)"),
    ("BEGIN { @a = lquantize(arg0, 0, 10, 0); }", "D_LQUANT_STEPTYPE",
     "lquantize( ) argument #3 must be a non-zero positive integer constant"),
    ("BEGIN { @a = lquantize(arg0, 0, 10, 70000); }", "D_LQUANT_STEPVAL",
     "lquantize( ) argument #3 must be a 16-bit quantity"),
    ("BEGIN { @a = lquantize(arg0, 0, 10, 20); }", "D_LQUANT_STEPLARGE",
     "lquantize( ) step (argument #3) too large: must have at least one "
     "quantization level"),
    ("BEGIN { @a = lquantize(arg0, 0, 100000); }", "D_LQUANT_STEPSMALL",
     "lquantize( ) step (argument #3) too small: number of quantization levels "
     "must be a 16-bit quantity"),
    ("BEGIN { @a = lquantize(arg0, 0, 10); @a = lquantize(arg0, 1, 10); }",
     "D_LQUANT_MATCHBASE",
     "lquantize( ) base (argument #1) doesn't match previous declaration: "
     "expected 0, found 1"),
    ("BEGIN { @a = lquantize(arg0, 0, 10); @a = lquantize(arg0, 0, 20); }",
     "D_LQUANT_MATCHLIM",
     "lquantize( ) limit (argument #2) doesn't match previous declaration: "
     "expected 10, found 20"),
    ("BEGIN { @a = lquantize(arg0, 0, 10, 2); @a = lquantize(arg0, 0, 10, 5); }",
     "D_LQUANT_MATCHSTEP",
     "lquantize( ) step (argument #3) doesn't match previous declaration: "
     "expected 2, found 5"),
    ("BEGIN { @a = llquantize(arg0, arg1, 0, 6, 20); }", "D_LLQUANT_FACTORTYPE",
     "llquantize( ) argument #1 (factor) must be an integer constant"),
    ("BEGIN { @a = llquantize(arg0, 10, 70000, 6, 20); }", "D_LLQUANT_LOWVAL",
     "llquantize( ) argument #2 (low magnitude) must be an unsigned 16-bit quantity"),
    ("BEGIN { @a = llquantize(arg0, 1, 0, 6, 20); }", "D_LLQUANT_FACTORSMALL",
     "llquantize( ) factor (argument #1) must be two or more"),
    ("BEGIN { @a = llquantize(arg0, 10, 6, 6, 20); }", "D_LLQUANT_MAGRANGE",
     "llquantize( ) high magnitude (argument #3) must be greater than low "
     "magnitude (argument #2)"),
    ("BEGIN { @a = llquantize(arg0, 10, 0, 6, 5); }", "D_LLQUANT_FACTORNSTEPS",
     "llquantize( ) factor (argument #1) must be less than or equal to the number "
     "of linear steps per magnitude (argument #4)"),
    ("BEGIN { @a = llquantize(arg0, 10, 0, 6, 15); }", "D_LLQUANT_FACTOREVEN",
     "llquantize( ) factor (argument #1) must evenly divide the number of steps "
     "per magnitude (argument #4), and the number of steps per magnitude must "
     "evenly divide a power of the factor"),
    ("BEGIN { @a = llquantize(arg0, 10, 0, 30, 10); }", "D_LLQUANT_MAGTOOBIG",
     "llquantize( ) factor (10) raised to power of high magnitude (30) plus 1 "
     "overflows 64-bits"),
    ("BEGIN { @a = llquantize(arg0, 10, 0, 6, 20); @a = llquantize(arg0, 10, 1, 6, 20); }",
     "D_LLQUANT_LOWMATCH",
     "llquantize( ) low magnitude (argument #2) doesn't match previous "
     "declaration: expected 0, found 1"),
    ("BEGIN { @a = 1; }", "D_AGG_FUNC",
     "@a must be assigned the result of an aggregating function"),
    ("BEGIN { @a[trace(1)] = count(); }", "D_CG_EXPR",
     "trace( ) may not be called from a D expression (D program context required)"),
])
def test_aggregation_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as ei:
        compile_(src)
    assert (ei.value.tag, ei.value.message) == (tag, msg)


# --- printa and the library actions -------------------------------------------------

def test_printa() -> None:
    c = Compiler(kernel=None)
    d = compile_('BEGIN { @a[execname] = count(); @b[probefunc] = sum(1); } '
                 'END { printa(@b); printa("%s %@d %@d\\n", @a, @b); }', c)
    p = [x for x in acts(d) if x.kind == lib.DTRACEACT_PRINTA]
    assert [const_of(d, x) for x in p] == [2, 1, 2]
    assert p[0].format == 0
    assert p[1].format == p[2].format == len(c.formats)
    assert c.formats[-1].text == "%s %@d %@d\n"
    assert p[1].uarg == p[2].uarg != p[0].uarg


@pytest.mark.parametrize("src,tag,msg", [
    ("END { printa(@x); }", "D_PRINTA_AGGBAD", "undefined aggregation: @x"),
    ('END { printa("%d"); }', "D_PRINTA_PROTO",
     "printa( ) prototype mismatch: 1 args passed, 2 expected"),
    ("END { printa(1); }", "D_PRINTA_AGGARG",
     "printa( ) argument #1 is incompatible with prototype:\n"
     "\tprototype: aggregation\n\t argument: int"),
    ("BEGIN { @a[1] = count(); @b = count(); } END { printa(@a, @b); }",
     "D_PRINTA_AGGKEY",
     "printa( ): @a and @b do not have matching key signatures: "
     "@a has 1 key, @b has 0 keys"),
    ('BEGIN { @a[1] = count(); @b["x"] = count(); } END { printa(@a, @b); }',
     "D_PRINTA_AGGPROTO",
     "printa( ): @b[ ] key #1 is incompatible with @a:\n        a key #1: int\n"
     "        b key #1: string"),
    ('BEGIN { @a[1] = count(); } END { printa("%s %@d", @a); }', "D_PRINTF_ARG_TYPE",
     "printa( ) argument #2 is incompatible with conversion #1 prototype:\n"
     "\tconversion: %s\n\t prototype: char [] or string (or use stringof)\n"
     "\t  argument: int"),
    ("END { printa(); }", "D_PROTO_LEN",
     "printa( ) prototype mismatch: 0 args passed, 1 expected"),
    ("END { trace(@a); }", "D_TRACE_AGG", "trace( ) may not be applied to an aggregation"),
    ("END { x = @a; }", "D_AGG_FUNC",
     "@a may only be used as the target of an aggregating function or as an "
     "argument of an aggregation action"),
])
def test_printa_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as ei:
        compile_(src)
    assert (ei.value.tag, ei.value.message) == (tag, msg)


def test_library_actions() -> None:
    d = compile_('BEGIN { @a = count(); } END { clear(@a); trunc(@a); trunc(@a, 5); '
                 'normalize(@a, 1000); denormalize(@a); setopt("quiet"); '
                 'setopt("bufsize", "2m"); }')
    lib_acts = [x for x in acts(d) if x.kind == LIBACT]
    clear, trunc, norm, denorm, setopt = (
        lib.DTRACE_LIBACT_CLEAR, lib.DTRACE_LIBACT_TRUNC, lib.DTRACE_LIBACT_NORMALIZE,
        lib.DTRACE_LIBACT_DENORMALIZE, lib.DTRACE_LIBACT_SETOPT)
    assert [x.arg for x in lib_acts] == [
        clear, trunc, trunc, trunc, trunc, norm, norm, denorm, setopt, setopt, setopt, setopt]
    ids = [const_of(d, lib_acts[i]) for i in (0, 1, 3, 5, 7)]
    assert ids == [1] * 5
    assert const_of(d, lib_acts[2]) == 0               # trunc(@a): remove all
    assert const_of(d, lib_acts[4]) == 5
    assert const_of(d, lib_acts[6]) == 1000
    opt = d.difos[lib_acts[8].difo]
    assert opt.rtype.kind == lib.DIF_TYPE_KIND_STRING
    assert const_of(d, lib_acts[9]) == 0                # setopt without a value
    assert d.difos[lib_acts[11].difo].rtype.kind == lib.DIF_TYPE_KIND_STRING


@pytest.mark.parametrize("src,tag,msg", [
    ("END { clear(@a); }", "D_CLEAR_AGGBAD", "undefined aggregation: @a"),
    ("END { clear(1, 2); }", "D_CLEAR_PROTO",
     "clear( ) prototype mismatch: 2 args passed, 1 expected"),
    ("END { clear(arg0); }", "D_CLEAR_AGGARG",
     "clear( ) argument #1 is incompatible with prototype:\n"
     "\tprototype: aggregation\n\t argument: int64_t"),
    ("BEGIN { @a = count(); } END { normalize(@a); }", "D_NORMALIZE_PROTO",
     "normalize( ) prototype mismatch: 1 args passed, 2 expected"),
    ('BEGIN { @a = count(); } END { normalize(@a, "x"); }', "D_NORMALIZE_SCALAR",
     "normalize( ) argument #2 must be of scalar type"),
    ("END { denormalize(@b); }", "D_NORMALIZE_AGGBAD", "undefined aggregation: @b"),
    ("BEGIN { @a = count(); } END { trunc(@a, 1, 2); }", "D_TRUNC_PROTO",
     "trunc( ) prototype mismatch: 3 args passed, no more than 2 expected"),
    ('BEGIN { @a = count(); } END { trunc(@a, "x"); }', "D_TRUNC_SCALAR",
     "trunc( ) argument #2 must be of scalar type"),
    ("END { trunc(1); }", "D_TRUNC_AGGARG",
     "trunc( ) argument #1 is incompatible with prototype:\n"
     "\tprototype: aggregation\n\t argument: int"),
    ("END { setopt(); }", "D_PROTO_LEN",
     "setopt( ) prototype mismatch: 0 args passed, at least 1 expected"),
    ("END { setopt(1); }", "D_PROTO_ARG",
     "setopt( ) argument #1 is incompatible with prototype:\n"
     "\tprototype: const char *\n\t argument: int"),
])
def test_library_action_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as ei:
        compile_(src)
    assert (ei.value.tag, ei.value.message) == (tag, msg)
