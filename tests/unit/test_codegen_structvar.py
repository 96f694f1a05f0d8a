"""Struct-valued D variables, run in the host build of the interpreter.

A variable implicitly declared by a struct (or union) value takes the
struct's type, in every scope: `this->t = *p`, `self->t = *p`, `g = *p`,
and associative arrays `a[k] = *p`, `self->a[k] = *p`.  The variable is
by reference: the store copies sizeof (struct) bytes from the source (a
checked load, a bad source is an invalid address) into the variable's own
storage (static data, or the data of its dynamic variable), and members
are loads and stores in that storage.  An associative array element is
faulted in (zeroed) when first used, as dt_cg_assoc_op does.  A
translated struct (`xlate<T>(x)`, `*xlate<T *>(x)`) assigned to a variable
is built in scratch member by member and then copied (dt_cg_asgn_op).
"""

from __future__ import annotations

import pytest
from test_codegen_vars import Machine, compile_, s64

from pydtrace.abi import lib
from pydtrace.errors import DError

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")
BADADDR = _difhost.lib.DIF_F_BADADDR if _difhost is not None else 0

TWO = "struct two { long x; long y; };"
X1, Y1 = 0x1122334455667788, -5


@pytest.fixture
def src_mem() -> tuple[object, int]:
    """struct two { X1, Y1 } followed by a guard word; (buffer, address)."""
    ffi = _difhost.ffi
    buf = ffi.new("long[3]", [X1, Y1, 0x7777])
    return buf, int(ffi.cast("unsigned long", buf))


def run(src: str, arg0: int, strsize: int = 256) -> tuple[Machine, list[tuple[int, int]]]:
    d = compile_(src)
    m = Machine(d.difos, strsize)
    return m, [m.run(x, [arg0]) for x in d.difos]


def values(src: str, arg0: int, *which: int) -> tuple[Machine, list[int]]:
    """The values of the DIFOs numbered which (one per statement); no
    DIFO may fault."""
    m, res = run(src, arg0)
    assert [f for _, f in res] == [0] * len(res), res
    return m, [s64(res[i][0]) for i in which]


# -- implicitly declared struct variables ----------------------------------------------


@pytest.mark.parametrize("ref", ["g", "this->t", "self->t"])
def test_implicit_struct_variable_every_scope(ref: str, src_mem: tuple[object, int]) -> None:
    buf, addr = src_mem
    _, vals = values(f"{TWO} BEGIN {{ {ref} = *(struct two *)arg0; trace({ref}.x);"
                     f" trace({ref}.y); {ref}.y = 9; {ref}.x++; trace({ref}.y);"
                     f" trace({ref}.x); }}", addr, 1, 2, 5, 6)
    assert vals == [X1, Y1, 9, X1 + 1]
    assert list(buf) == [X1, Y1, 0x7777]             # a copy: the source is untouched
    assert _difhost.lib.dif_host_dvar_tails_clean()


@pytest.mark.parametrize("ref,scope", [
    ("g", lib.DIFV_SCOPE_GLOBAL),
    ("this->t", lib.DIFV_SCOPE_LOCAL),
    ("self->t", lib.DIFV_SCOPE_THREAD),
])
def test_variable_table_is_by_reference_struct(ref: str, scope: int) -> None:
    d = compile_(f"{TWO} BEGIN {{ {ref} = *(struct two *)arg0; }}")
    (v,) = [v for v in d.difos[0].vartab if v.id >= lib.DIF_VAR_OTHER_UBASE]
    assert (v.scope, v.kind) == (scope, lib.DIFV_KIND_SCALAR)
    assert v.type.flags & lib.DIF_TF_BYREF and v.type.size == 16


def test_global_copy_is_exactly_the_struct(src_mem: tuple[object, int]) -> None:
    """16 bytes in the variable's data: the guard word after the source is
    not copied, the storage after the data is not written."""
    _, addr = src_mem
    m, _ = values(f"{TWO} BEGIN {{ g = *(struct two *)arg0; }}", addr, 0)
    raw = bytes(m.ffi.buffer(m.ffi.cast("char *", m.globals[0]), 24))
    assert raw[0] == 0                                # header: not NULL
    assert int.from_bytes(raw[8:16], "little") == X1
    assert int.from_bytes(raw[16:24], "little", signed=True) == Y1


def test_copies_between_scopes_and_overwrites(src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    _, vals = values(f"{TWO} BEGIN {{ this->a = *(struct two *)arg0; self->b = this->a;"
                     " self->b.x = 1; g = self->b; g.y = 2; this->a = g; trace(this->a.x);"
                     " trace(this->a.y); trace(self->b.y); }", addr, 6, 7, 8)
    assert vals == [1, 2, Y1]


def test_unions_and_nested_structs(src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    _, vals = values(f"union u {{ long l; int i[2]; }}; {TWO} struct o {{ int n; struct two t; }};"
                     " self struct o o;"
                     " BEGIN { this->u = *(union u *)arg0; self->o.t = *(struct two *)arg0;"
                     " g = self->o; trace(this->u.i[0]); trace(g.t.y); trace(g.n); }",
                     addr, 3, 4, 5)
    assert vals == [0x55667788, Y1, 0]


def test_thread_local_struct_per_thread(src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    d = compile_(f"{TWO} BEGIN {{ self->t = *(struct two *)arg0; }}"
                 " BEGIN { self->t.x = 3; } BEGIN { trace(self->t.x); }")
    m = Machine(d.difos)
    hl = _difhost.lib
    hl.dif_host_set_threadkey(1)
    assert m.run(d.difos[0], [addr])[1] == 0
    assert m.run(d.difos[1])[1] == 0
    hl.dif_host_set_threadkey(2)
    assert m.run(d.difos[2])[1] & BADADDR          # thread 2 has no self->t yet
    hl.dif_host_set_threadkey(1)
    assert m.run(d.difos[2]) == (3, 0)
    assert hl.dif_host_dvar_count() == 1


@pytest.mark.parametrize("ref", ["g", "this->t", "self->t"])
def test_bad_source_is_an_invalid_address(ref: str) -> None:
    m, res = run(f"{TWO} BEGIN {{ {ref} = *(struct two *)arg0; }}", 16)
    assert res[0][1] & BADADDR and int(m.ms.illval) == 16


# -- associative arrays of structs -----------------------------------------------------


@pytest.mark.parametrize("ref", ["a", "self->a"])
def test_assoc_struct_elements(ref: str, src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    _, vals = values(f"{TWO} BEGIN {{ {ref}[1, \"k\"] = *(struct two *)arg0;"
                     f" trace({ref}[1, \"k\"].y); {ref}[2, \"k\"] = {ref}[1, \"k\"];"
                     f" {ref}[2, \"k\"].x += 2; trace({ref}[2, \"k\"].x); trace({ref}[1, \"k\"].x);"
                     f" trace({ref}[3, \"z\"].y); }}", addr, 1, 4, 5, 6)
    assert vals == [Y1, X1 + 2, X1, 0]
    assert _difhost.lib.dif_host_dvar_count() == 3    # [3, "z"] faulted in by its use
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_declared_assoc_struct_member_stores_fault_in() -> None:
    d = compile_(f"{TWO} struct two a[int]; self struct two b[string];"
                 " BEGIN { a[5].y = 7; self->b[\"q\"].x = a[5].y + 1; }"
                 " BEGIN { trace(a[5].y); trace(self->b[\"q\"].x); trace(a[4].x); }")
    m = Machine(d.difos)
    assert [m.run(x) for x in d.difos] == [(7, 0), (8, 0), (7, 0), (8, 0), (0, 0)]
    assert _difhost.lib.dif_host_dvar_count() == 3
    for x in d.difos:
        for v in x.vartab:
            assert v.kind == lib.DIFV_KIND_ARRAY and v.type.flags & lib.DIF_TF_BYREF
            assert v.type.size == 16


def test_assoc_string_and_struct_members() -> None:
    d = compile_(f"{TWO} struct r {{ int n; string s; struct two t; }}; struct r a[int];"
                 " BEGIN { a[1].s = \"hello\"; a[1].t.y = 4; a[2] = a[1]; a[2].s = \"hi\";"
                 " } BEGIN { trace(a[1].s); trace(a[2].s); trace(a[2].t.y); }")
    m = Machine(d.difos)
    res = [m.run(x) for x in d.difos]
    assert [f for _, f in res] == [0] * 7
    assert [m.string(res[4][0]), m.string(res[5][0]), res[6][0]] == [b"hello", b"hi", 4]
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_member_copy_past_a_dynvar_is_refused(src_mem: tuple[object, int]) -> None:
    """copys into a struct member of an element: the interpreter accepts it
    only inside that one dynamic variable's data."""
    _, addr = src_mem
    src = (f"{TWO} struct o {{ long n; struct two t; }}; struct o a[int];"
           " BEGIN { a[1].n = 1; a[2].n = 2; a[1].t = *(struct two *)arg0; }")
    for size, ok in ((16, True), (17, False), (1 << 33, False)):
        d = compile_(src)
        x = d.difos[2]
        x.inttab[x.inttab.index(16)] = size
        m = Machine(d.difos)
        res = [m.run(y, [addr]) for y in d.difos]
        assert res[:2] == [(1, 0), (2, 0)]
        assert bool(res[2][1] & BADADDR) != ok, size
        assert _difhost.lib.dif_host_dvar_tails_clean()


# -- associative arrays of arrays ------------------------------------------------------


def test_assoc_array_elements() -> None:
    """`int a[int][4]`: each element an int [4] in its dynamic variable;
    a run-time index outside it is an invalid address (0x0), as for D
    array variables; string arrays hold strsize-byte strings."""
    d = compile_("int a[int][4]; self string s[int][2];"
                 " BEGIN { a[1][2] = 3; a[1][3] = 4; a[2][0] = a[1][2] + a[1][3];"
                 ' self->s[5][1] = "xy"; self->s[6][0] = self->s[5][1]; }'
                 " BEGIN { i = 4; a[1][i] = 9; }"
                 " BEGIN { trace(a[1][2]); trace(a[2][0]); trace(a[1][0]); trace(a[3][3]);"
                 " trace(self->s[6][0]); trace(self->s[5][0]); }")
    m = Machine(d.difos)
    res = [m.run(x) for x in d.difos]
    assert [f for _, f in res[:5]] == [0] * 5
    assert res[6][1] & BADADDR and int(m.ms.illval) == 0    # a[1][4]
    assert [f for _, f in res[7:]] == [0] * 6
    assert [v for v, _ in res[7:11]] == [3, 7, 0, 0]
    assert [m.string(res[11][0]), m.string(res[12][0])] == [b"xy", b""]
    sizes = {v.type.size for x in d.difos for v in x.vartab
             if v.id >= lib.DIF_VAR_OTHER_UBASE and v.kind == lib.DIFV_KIND_ARRAY}
    assert sizes == {16, 2 * 256}
    assert _difhost.lib.dif_host_dvar_tails_clean()


# -- translated structs ------------------------------------------------------------------


XL = (f"{TWO} struct out {{ int a; long b; char c[4]; long never; }};"
      " translator struct out < struct two *p > { a = p->x + 1; b = p->y; c = \"xyz\"; };")


@pytest.mark.parametrize("ref", ["g", "this->o", "self->o", "a[1]", "self->a[\"k\"]"])
@pytest.mark.parametrize("value", [
    "xlate<struct out>((struct two *)arg0)",
    "*xlate<struct out *>((struct two *)arg0)",
])
def test_translated_struct_into_variables(ref: str, value: str,
                                          src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    m, vals = values(f"{XL} BEGIN {{ {ref} = {value}; trace({ref}.a); trace({ref}.b);"
                     f" trace({ref}.c[1]); trace({ref}.never); }}", addr, 1, 2, 3, 4)
    assert vals == [0x55667789, Y1, ord("y"), 0]     # a: (int)(x + 1)


@pytest.mark.parametrize("ref", ["this->o", "self->o", "a[1]"])
def test_translated_string_members_are_copied(ref: str, src_mem: tuple[object, int]) -> None:
    """A string member of the translated struct holds the string (at most
    strsize - 1 bytes and a NUL), as in the snapshot trace() records."""
    _, addr = src_mem
    src = ("#pragma D option strsize=8\n" + TWO
           + "struct out { long a; string s; string t; int b; };"
           " translator struct out < struct two *p > { a = p->x;"
           " s = strjoin(\"n\", lltostr(p->y)); t = \"0123456789\"; b = 3; };"
           f" BEGIN {{ {ref} = xlate<struct out>((struct two *)arg0); trace({ref}.s);"
           f" trace({ref}.t); trace({ref}.b); trace(xlate<struct out>((struct two *)arg0)); }}")
    d = compile_(src)
    m = Machine(d.difos, 8)
    res = [m.run(x, [addr]) for x in d.difos]
    assert [f for _, f in res] == [0] * 5
    assert [m.string(res[1][0]), m.string(res[2][0]), res[3][0]] == [b"n-5", b"0123456", 3]
    snap = res[4][0]                                 # trace()'s snapshot: s at 8, t at 16
    assert [m.string(snap + 8), m.string(snap + 16)] == [b"n-5", b"0123456"]
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_translated_struct_into_a_member(src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    _, vals = values(f"{XL} struct w {{ int z; struct out o; }}; self struct w w;"
                     " BEGIN { self->w.o = xlate<struct out>((struct two *)arg0);"
                     " trace(self->w.o.b); }", addr, 1)
    assert vals == [Y1]


def test_translated_member_of_a_dereferenced_pointer(src_mem: tuple[object, int]) -> None:
    _, addr = src_mem
    _, vals = values(f"{XL} BEGIN {{ trace((*xlate<struct out *>((struct two *)arg0)).b); }}",
                     addr, 0)
    assert vals == [Y1]


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("src,tag,msg", [
    (f"{TWO} BEGIN {{ this->t = *(struct two *)arg0; this->t = 0; }}", "D_OP_INCOMPAT",
     'operands have incompatible types: "struct two" = "int"'),
    (f"{TWO} BEGIN {{ a[1] = *(struct two *)arg0; a[1] = 0; }}", "D_OP_INCOMPAT",
     'operands have incompatible types: "struct two" = "int"'),
    (f"{TWO} BEGIN {{ self->t = *(struct two *)arg0; self->t += 1; }}", "D_OP_ARITH",
     "operator += requires operands of arithmetic type"),
    (f"{TWO} BEGIN {{ g = *(struct two *)arg0; g++; }}", "D_OP_SCALAR",
     "operator ++ requires operand of scalar type"),
    (f"{TWO} struct two a[int]; BEGIN {{ x = &a[1]; }}", "D_ADDROF_VAR",
     "cannot take address of dynamic variable"),
    (f"{TWO} BEGIN {{ this->t = *(struct two *)arg0; x = &this->t; }}", "D_ADDROF_VAR",
     "cannot take address of dynamic variable"),
    ("struct inc; struct inc a[int]; BEGIN { }", "D_DECL_INCOMPLETE",
     "incomplete struct/union/enum struct inc: a"),
    ("int x[4]; BEGIN { a[1] = x; }", "D_OP_ARRFUN",
     'operator = may not be applied to operand of type "int [4]"'),
    ("int a[4][int]; BEGIN { }", "D_DECL_DYNOBJ", "cannot declare array of associative arrays"),
    ("int a[int][int]; BEGIN { }", "D_DECL_DYNOBJ", "cannot declare array of associative arrays"),
    ("int a[int][4]; BEGIN { a[1] = 3; }", "D_OP_ARRFUN",
     'operator = may not be applied to operand of type "int [4]"'),
    ("int a[int][4]; BEGIN { self->a[2][4] = 3; }", "D_VAR_UNDEF",
     "self->a has not yet been declared or assigned"),
    ("self int a[int][4]; BEGIN { self->a[2][4] = 3; }", "D_ARR_BOUNDS",
     "index outside array bounds: 4, max is 4"),
    (f"{XL} BEGIN {{ this->o = xlate<struct out *>((struct two *)arg0); }}", "D_CG_DYN",
     "expression cannot evaluate to result of a translated pointer"),
    (f"{XL} BEGIN {{ this->o = xlate<struct out>((struct two *)arg0);"
     " this->o = *(struct two *)0; }",
     "D_OP_INCOMPAT", 'operands have incompatible types: "struct out" = "struct two"'),
])
def test_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as info:
        compile_(src)
    assert (info.value.tag, info.value.message) == (tag, msg)
