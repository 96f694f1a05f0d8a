"""Stores into thread-local D scalar arrays (`self int a[4];`), run in the
host build of the interpreter.

A by-reference thread-local lives in a dynamic variable: ldts gives the
address of its data, or 0 while the thread has none.  A store into an
element first creates the variable (zeroed, through allocs and stts, as
DTrace does for by-reference associative array elements), then stores
through the address; the interpreter accepts the store only inside the
data of one of the consumer's dynamic variables (the environment's
dif_env_dvar_canstore()).  A constant index outside the bounds is
D_ARR_BOUNDS; any other index outside them is an invalid address at run
time.
"""

from __future__ import annotations

import pytest
from test_codegen_vars import Machine, compile_, s64

from pydtrace.abi import lib
from pydtrace.dif.opcodes import decode
from pydtrace.errors import DError

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")
BADADDR = _difhost.lib.DIF_F_BADADDR if _difhost is not None else 0


def run_all(src: str) -> tuple[Machine, list[tuple[int, int]]]:
    d = compile_(src)
    m = Machine(d.difos)
    return m, [m.run(x) for x in d.difos]


def test_issue_program() -> None:
    m, res = run_all("self int a[4]; BEGIN { self->a[1] = 7; self->a[2] += self->a[1];"
                     " trace(self->a[2]); i = 2; ++self->a[i]; trace(self->a[i]);"
                     " trace(self->a[0] + self->a[3]); }")
    assert [f for _, f in res] == [0] * len(res)
    assert [s64(v) for v, _ in res[-5:]] == [7, 2, 8, 8, 0]
    assert _difhost.lib.dif_host_dvar_count() == 1
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_variable_is_by_reference_thread_local() -> None:
    d = compile_("self int a[4]; BEGIN { self->a[3] = 1; }")
    (v,) = d.difos[0].vartab
    assert v.scope == lib.DIFV_SCOPE_THREAD and v.kind == lib.DIFV_KIND_SCALAR
    assert v.type.flags & lib.DIF_TF_BYREF and v.type.size == 16


def test_created_once_and_kept_across_clauses() -> None:
    m, res = run_all("self int a[3]; BEGIN { self->a[0] = 5; } BEGIN { self->a[1]--; }"
                     " BEGIN { self->a[0] *= 3; } BEGIN { trace(self->a[0]); }"
                     " BEGIN { trace(self->a[1]); } BEGIN { trace(self->a[2]); }")
    assert [f for _, f in res] == [0] * len(res)
    assert [s64(v) for v, _ in res[-3:]] == [15, -1, 0]
    assert _difhost.lib.dif_host_dvar_count() == 1


def test_each_thread_has_its_own_array() -> None:
    d = compile_("self int a[2]; BEGIN { self->a[1] += 10; } BEGIN { trace(self->a[1]); }")
    m = Machine(d.difos)
    store, load = d.difos[-2], d.difos[-1]
    hl = _difhost.lib
    hl.dif_host_set_threadkey(0x1000)
    assert m.run(store) == (10, 0)
    assert m.run(store) == (20, 0)
    hl.dif_host_set_threadkey(0x2000)
    assert m.run(load) == (0, BADADDR)      # no storage yet: ldts gives 0
    assert m.run(store) == (10, 0)
    assert m.run(load) == (10, 0)
    hl.dif_host_set_threadkey(0x1000)
    assert m.run(load) == (20, 0)
    assert hl.dif_host_dvar_count() == 2


def test_struct_elements_and_two_dimensions() -> None:
    m, res = run_all("struct pt { int x; long y; }; self struct pt p[2]; self short g[2][3];"
                     " BEGIN { self->p[1].y = 1 << 40; i = 1; self->p[i].x++;"
                     " self->g[1][2] = -3; j = 2; self->g[0][j] = 4;"
                     " trace(self->p[1].y); trace(self->p[1].x); trace(self->p[0].y);"
                     " trace(self->g[1][2]); trace(((short *)self->g)[2]); }")
    assert [f for _, f in res] == [0] * len(res)
    assert [s64(v) for v, _ in res[-5:]] == [1 << 40, 1, 0, -3, 4]


def test_drop_when_no_dynamic_variable_space() -> None:
    """No room for the variable: the ECB is dropped (no fault, no store)."""
    d = compile_("self int a[2]; BEGIN { self->a[1] = 1; }")
    m = Machine(d.difos)
    _difhost.lib.dif_host_set_dvar_capacity(0)
    assert m.run(d.difos[0]) == (0, _difhost.lib.DIF_F_DROP)
    assert _difhost.lib.dif_host_dvar_count() == 0


@pytest.mark.parametrize("src", [
    "self int a[4]; BEGIN { i = 4; self->a[i] = 1; }",
    "self int a[4]; BEGIN { i = -1; self->a[i] = 1; }",
    "self int a[4]; BEGIN { i = 0x100000000; self->a[i] += 1; }",
    "self int a[3][4]; BEGIN { i = 4; self->a[1][i] = 1; }",
    "self int a[3][4]; BEGIN { i = 3; self->a[i][0]++; }",
])
def test_runtime_index_out_of_bounds_is_an_invalid_address(src: str) -> None:
    m, res = run_all(src)
    assert res[-1][1] & BADADDR and int(m.ms.illval) == 0
    assert _difhost.lib.dif_host_dvar_tails_clean()


@pytest.mark.parametrize("store,ok", [
    ("p = (int *)self->a; p[2] = 1;", True),
    ("p = (char *)self->a; p[11] = 1;", True),
    ("p = (int *)self->a; p[3] = 1;", False),        # one past the end
    ("p = (int *)self->a; p[-1] = 1;", False),       # the chunk's key/header
    ("p = (int *)self->a; p[-8] = 1;", False),
    ("p = (long *)self->a; p[1] = 1;", False),       # bytes 8..16 of 12
    ("p = (char *)self->a; p[12] = 1;", False),      # the padding to 16
    ("p = (int *)self->b; p[1] = 1;", True),
    ("p = (int *)self->b; p[2] = 1;", False),
    ("p = (int *)self->a; p = p + 4; *p = 1;", False),
])
def test_interpreter_store_check_is_the_exact_data(store: str, ok: bool) -> None:
    """Through a pointer (no compile-time or generated check), the
    interpreter accepts a store only inside a dynamic variable's data."""
    m, res = run_all("self int a[3]; self int b[2]; BEGIN { self->a[0] = 1; self->b[0] = 1; }"
                     f" BEGIN {{ {store} }}")
    flags = [f for _, f in res]
    assert flags[:-1] == [0] * (len(flags) - 1)
    if ok:
        assert flags[-1] == 0
    else:
        assert flags[-1] & BADADDR and int(m.ms.illval) != 0
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_no_store_into_a_deleted_variable() -> None:
    """Once the dynamic variable is gone, its old data is not writable."""
    d = compile_("self int a[2]; BEGIN { self->a[0] = 1; p = (int *)self->a; }"
                 " BEGIN { *p = 2; }")
    m = Machine(d.difos)
    for x in d.difos:
        assert m.run(x)[1] == 0
    _difhost.lib.dif_host_reset()          # every dynamic variable deleted
    assert _difhost.lib.dif_host_dvar_count() == 0
    _, flags = m.run(d.difos[-1])
    assert flags & BADADDR


@pytest.mark.parametrize("src,tag,msg", [
    ("self int a[4]; BEGIN { self->a[4] = 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 4, max is 4"),
    ("self int a[4]; BEGIN { self->a[-1]++; }", "D_ARR_BOUNDS",
     "index outside array bounds: -1, max is 4"),
    ("self int a[2][3]; BEGIN { self->a[1][3] += 1; }", "D_ARR_BOUNDS",
     "index outside array bounds: 3, max is 3"),
    ("self int a[4]; BEGIN { self->a = 0; }", "D_OP_ARRFUN",
     'operator = may not be applied to operand of type "int [4]"'),
    ("self int a[2][3]; BEGIN { self->a[1]++; }", "D_OP_SCALAR",
     "operator ++ requires operand of scalar type"),
])
def test_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as info:
        compile_(src)
    assert (info.value.tag, info.value.message) == (tag, msg)


def test_only_stores_create_the_variable() -> None:
    """A load uses plain ldts (no allocs, no stts); a store creates the
    variable; a constant index gets no generated bounds check."""
    names = [[decode(w)[0].name for w in x.text] for x in compile_(
        "self int a[4]; BEGIN { trace(self->a[1]); self->a[3] = 1; }").difos]
    load, store = names[-2], names[-1]
    assert "stts" not in load and "allocs" not in load and "blu" not in load
    assert store.count("ldts") == 2 and "stts" in store and "allocs" in store
    assert "blu" not in store
