"""D scalar arrays in variables (`int a[4];` and `this int a[4];`): loads
and stores of their elements run in the host build of the interpreter.

The variable is by reference (its storage: an 8-byte header, then the
elements); `a` loads the address of the elements and `a[i] = v` is a
checked memory store, which the interpreter accepts only inside the data
of a by-reference static variable of the consumer (or scratch).  A
constant index outside the bounds is D_ARR_BOUNDS at compile time; any
other index outside them makes the access an invalid address at run time.
"""

from __future__ import annotations

import pytest
from test_codegen_vars import M64, Machine, compile_, run_program, s64

from pydtrace.abi import lib
from pydtrace.errors import DError

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")
BADADDR = _difhost.lib.DIF_F_BADADDR if _difhost is not None else 0


def traced(src: str, n: int) -> list[int]:
    """The values of the last n DIFOs (the trace() actions) of src."""
    out = run_program(src)[1]
    return out[len(out) - n:]


def test_issue_program() -> None:
    got = traced("int a[4]; BEGIN { a[1] = 7; a[2] = a[1] + 1; trace(a[2]); exit(0); }", 2)
    assert got[0] == 8


def test_storage_is_zero_and_by_reference() -> None:
    d = compile_("int a[4]; BEGIN { trace(a[3]); a[0] = 1; }")
    (v,) = d.difos[0].vartab
    assert v.kind == lib.DIFV_KIND_SCALAR and v.scope == lib.DIFV_SCOPE_GLOBAL
    assert v.type.flags & lib.DIF_TF_BYREF and v.type.size == 16
    m = Machine(d.difos)
    assert [m.run(x) for x in d.difos] == [(0, 0), (1, 0)]
    # the store went to the variable's storage, after the 8-byte header
    data = m.globals[v.id - lib.DIF_VAR_OTHER_UBASE] + 8
    assert m.ffi.cast("int *", data)[0] == 1


def test_element_types_and_neighbours() -> None:
    """Stores write exactly their element: the neighbours keep their values."""
    got = traced("uint64_t u[3]; short s[4]; char c[5]; int i[2];"
                 "BEGIN { u[1] = 0xffffffffffffffff; s[1] = -2; s[2] = 0x7fff; c[3] = 'x';"
                 " i[1] = -5; trace(u[0]); trace(u[1]); trace(u[2]); trace(s[0]);"
                 " trace(s[1]); trace(s[2]); trace(s[3]); trace(c[2]); trace(c[3]);"
                 " trace(c[4]); trace(i[0]); trace(i[1]); }", 12)
    assert [s64(v) for v in got] == [0, -1, 0, 0, -2, 0x7FFF, 0, 0, ord("x"), 0, 0, -5]


def test_char_array_as_string() -> None:
    m, out, d = run_program("char buf[8]; BEGIN { buf[0] = 'h'; buf[1] = 'i';"
                            " trace(stringof(buf)); }")
    assert m.string(out[-1]) == b"hi"


def test_compound_assignments_and_increments() -> None:
    got = traced("int a[3]; BEGIN { a[0] = 5; a[0] += 10; a[0] <<= 1; a[1]++; ++a[1];"
                 " a[2]--; x = a[1]++; trace(a[0]); trace(a[1]); trace(a[2]); trace(x); }", 4)
    assert [s64(v) for v in got] == [30, 3, -1, 2]


def test_runtime_index_and_sum() -> None:
    """A loop unrolled by hand: non-constant indexes (bounds-checked)."""
    got = traced("int64_t a[4]; BEGIN { i = 0; a[i] = 1; i++; a[i] = 2; i++; a[i] = 3;"
                 " i++; a[i] = 4; j = 3; trace(a[0] + a[1] + a[2] + a[j]); }", 1)
    assert got == [10]


def test_two_dimensional() -> None:
    """a[i][j] is at row * 4 + column (row-major, as C)."""
    got = traced("int a[3][4]; BEGIN { a[1][2] = 12; i = 2; j = 3; a[i][j] = 23;"
                 " trace(((int *)a)[1 * 4 + 2]); trace(((int *)a)[11]); trace(a[2][3]);"
                 " trace(a[0][0]); }", 4)
    assert got == [12, 23, 23, 0]


def test_struct_array_members() -> None:
    got = traced("struct pt { int x; long y; }; struct pt p[3];"
                 "BEGIN { p[1].y = 1 << 40; p[2].x++; p[2].x += 4; i = 1; p[i].x = 9;"
                 " trace(p[1].y); trace(p[2].x); trace(p[1].x); trace(p[0].y); }", 4)
    assert got == [1 << 40, 5, 9, 0]


def test_globals_persist_across_clauses() -> None:
    src = "int a[2]; BEGIN { a[1] = 41; } BEGIN { a[1]++; } BEGIN { trace(a[1]); }"
    d = compile_(src)
    m = Machine(d.difos)
    assert [m.run(x)[1] for x in d.difos] == [0] * len(d.difos)
    assert m.run(d.difos[-1])[0] == 42


def test_clause_local_array() -> None:
    got = traced("this int a[4]; BEGIN { this->a[3] = 6; i = 2; this->a[i] = 7;"
                 " trace(this->a[3] * this->a[2]); }", 1)
    assert got == [42]


def faults(src: str) -> tuple[int, int]:
    """(flags, illval) of the first DIFO of src that faults."""
    d = compile_(src)
    m = Machine(d.difos)
    for x in d.difos:
        _, flags = m.run(x)
        if flags:
            return flags, int(m.ms.illval)
    raise AssertionError("no fault")


@pytest.mark.parametrize("src", [
    "int a[4]; int b[4]; BEGIN { i = 6; a[i] = 1; }",     # would be b[0]
    "int a[4]; BEGIN { i = 4; a[i] = 1; }",
    "int a[4]; BEGIN { i = -1; a[i] = 1; }",              # the header
    "int a[4]; BEGIN { i = 0x100000000; a[i] = 1; }",
    "int a[4]; BEGIN { i = 5; trace(a[i]); }",            # loads too
    "int a[3][4]; BEGIN { i = 4; a[1][i] = 1; }",
    "int a[3][4]; BEGIN { i = 3; a[i][0] = 1; }",
    "this int a[2]; BEGIN { i = 2; this->a[i] = 1; }",
])
def test_runtime_index_out_of_bounds_is_an_invalid_address(src: str) -> None:
    flags, illval = faults(src)
    assert flags & BADADDR and illval == 0


def test_neighbour_untouched_by_out_of_bounds_store() -> None:
    d = compile_("int a[4]; int b[4]; BEGIN { i = 6; a[i] = 1; } BEGIN { trace(b[0]); }")
    m = Machine(d.difos)
    results = [m.run(x) for x in d.difos]
    assert [bool(f & BADADDR) for _, f in results] == [False, True, False]
    assert results[-1] == (0, 0)


@pytest.mark.parametrize("src,ok", [
    ("int a[3]; BEGIN { p = (int *)a; p[2] = 1; }", True),
    ("int a[3]; BEGIN { p = (int *)a; p[3] = 1; }", False),       # one past the end
    ("int a[3]; BEGIN { p = (int *)a; p[-1] = 1; }", False),      # the header
    ("int a[3]; BEGIN { p = (char *)a; p[11] = 1; }", True),
    ("int a[3]; BEGIN { p = (long *)a; p[1] = 1; }", False),      # bytes 8..16 of 12
    ("int a[4]; BEGIN { p = (long *)a; p[1] = 1; }", True),
    ("this int a[2]; BEGIN { p = (int *)this->a; p[1] = 1; }", True),
    ("this int a[2]; BEGIN { p = (int *)this->a; p[2] = 1; }", False),
    ("int a[2]; int b[2]; BEGIN { p = (int *)b; p[1] = 1; }", True),
])
def test_interpreter_store_check_is_the_exact_storage(src: str, ok: bool) -> None:
    """Through a pointer (no compile-time or generated check), the
    interpreter itself accepts a store only inside a variable's data."""
    d = compile_(src)
    m = Machine(d.difos)
    flags = [m.run(x)[1] for x in d.difos]
    if ok:
        assert flags == [0] * len(flags)
    else:
        assert flags[:-1] == [0] * (len(flags) - 1)
        assert flags[-1] & BADADDR        # the store, the last statement
        assert m.ms.illval != 0


@pytest.mark.parametrize("src,tag,msg", [
    ("int a[4]; BEGIN { a[4] = 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 4, max is 4"),
    ("int a[4]; BEGIN { trace(a[-1]); }", "D_ARR_BOUNDS",
     "index outside array bounds: -1, max is 4"),
    ("int a[3][4]; BEGIN { a[1][4] = 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 4, max is 4"),
    ("this int a[2]; BEGIN { this->a[2] = 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 2, max is 2"),
    ("self int a[4]; BEGIN { self->a[4] = 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 4, max is 4"),
    ("int a[4]; BEGIN { a = 0; }", "D_OP_ARRFUN",
     'operator = may not be applied to operand of type "int [4]"'),
    ("int a[2][3]; BEGIN { a[1] = a[0]; }", "D_OP_ARRFUN",
     'operator = may not be applied to operand of type "int [3]"'),
    ("int a[2][3]; BEGIN { a[1]++; }", "D_OP_SCALAR",
     "operator ++ requires operand of scalar type"),
])
def test_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as info:
        compile_(src)
    assert (info.value.tag, info.value.message) == (tag, msg)


def test_constant_index_is_not_checked_at_run_time() -> None:
    """Only non-constant indexes get the generated bounds check."""
    from pydtrace.dif.opcodes import decode as dec
    const = compile_("int a[4]; BEGIN { a[3] = 1; }").difos[0]
    var = compile_("int a[4]; BEGIN { i = 3; a[i] = 1; }").difos[1]
    assert "blu" not in [dec(w)[0].name for w in const.text]
    assert "blu" in [dec(w)[0].name for w in var.text]
    assert M64  # the helpers' constant
