"""String and struct copies into elements and members of D variables, and
member stores into struct variables, run in the host build of the
interpreter.

`string s[4]` is four strsize-byte elements (D's string is char [strsize]
in an array or a struct); `s[i] = str` copies the string's bytes up to its
NUL (at most strsize - 1 of them) and a NUL into the element with copys,
which the interpreter accepts only inside the data of one of the
consumer's variables.  `p[i] = q` (structs) copies sizeof (q) bytes.
Members of global, clause-local and thread-local struct variables are
memory in the variable's storage: `self->st.a = 5` creates the
thread-local (zeroed) first, as stores into thread-local arrays do.
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


def run_all(src: str, strsize: int = 256) -> tuple[Machine, list[tuple[int, int]]]:
    d = compile_(src)
    m = Machine(d.difos, strsize)
    return m, [m.run(x) for x in d.difos]


def values(src: str, n: int, strsize: int = 256) -> tuple[Machine, list[int]]:
    """The machine and the values of the last n DIFOs (the trace()s); no
    DIFO may fault."""
    m, res = run_all(src, strsize)
    assert [f for _, f in res] == [0] * len(res), res
    return m, [v for v, _ in res[len(res) - n:]]


def strings(src: str, n: int, strsize: int = 256) -> list[bytes]:
    m, vals = values(src, n, strsize)
    return [m.string(v) for v in vals]


# -- strings -------------------------------------------------------------------------


@pytest.mark.parametrize("decl,ref", [
    ("string s[4];", "s"),
    ("this string s[4];", "this->s"),
    ("self string s[4];", "self->s"),
])
def test_string_elements_every_scope(decl: str, ref: str) -> None:
    got = strings(f'{decl} BEGIN {{ {ref}[1] = "hello"; {ref}[2] = lltostr(42); i = 3;'
                  f' {ref}[i] = strjoin({ref}[1], "!"); trace({ref}[1]); trace({ref}[2]);'
                  f' trace({ref}[3]); trace({ref}[0]); }}', 4)
    assert got == [b"hello", b"42", b"hello!", b""]


def test_string_variable_storage_is_strsize_elements() -> None:
    d = compile_('string s[4]; self string t[3]; BEGIN { s[0] = "a"; self->t[0] = "b"; }')
    sizes = {v.scope: v.type for x in d.difos for v in x.vartab}
    for scope, n in ((lib.DIFV_SCOPE_GLOBAL, 4), (lib.DIFV_SCOPE_THREAD, 3)):
        assert sizes[scope].flags & lib.DIF_TF_BYREF and sizes[scope].size == n * 256
    d = compile_('#pragma D option strsize=32\nstring s[4]; BEGIN { s[0] = "a"; }')
    assert d.difos[0].vartab[0].type.size == 4 * 32


def test_shorter_string_over_longer_and_exact_bytes() -> None:
    """The copy is the string and its NUL: a shorter string over a longer
    one reads back as itself; the neighbours are untouched."""
    m, vals = values('string s[3]; BEGIN { s[0] = "left"; s[2] = "right"; s[1] = "hello world";'
                     ' s[1] = "hi"; trace(s[1]); trace(s[0]); trace(s[2]);'
                     ' trace(s[1] == "hi"); trace(strlen(s[1])); }', 5)
    assert [m.string(v) for v in vals[:3]] == [b"hi", b"left", b"right"]
    assert vals[3:] == [1, 2]
    data = m.globals[0] + 8
    raw = bytes(m.ffi.buffer(m.ffi.cast("char *", data), 3 * 256))
    assert raw[256:268] == b"hi\0lo world\0"     # the old tail stays after the NUL
    assert raw[:5] == b"left\0" and raw[512:518] == b"right\0"


def test_long_string_truncated_to_strsize() -> None:
    """strsize - 1 bytes and a NUL, exactly the element: s[2] stays."""
    src = ('#pragma D option strsize=16\nstring s[3];'
           ' BEGIN { s[2] = "next"; s[1] = "0123456789abcdefghij"; t = s[1];'
           ' trace(s[1]); trace(s[2]); trace(strlen(s[1])); }')
    m, vals = values(src, 3, strsize=16)
    assert [m.string(v) for v in vals[:2]] == [b"0123456789abcde", b"next"]
    assert vals[2] == 15
    raw = bytes(m.ffi.buffer(m.ffi.cast("char *", m.globals[0] + 8), 48))
    assert raw[16:32] == b"0123456789abcde\0"


def test_string_comparisons_and_copies_between_elements() -> None:
    _, vals = values('self string s[3]; string g[2]; BEGIN { self->s[0] = "b"; self->s[1] = "a";'
                     ' g[1] = self->s[0]; self->s[2] = g[1]; trace(self->s[0] > self->s[1]);'
                     ' trace(self->s[2] == "b"); trace(g[1] != self->s[1]);'
                     ' trace(self->s[0] == g[0]); }', 4)
    assert vals == [1, 1, 1, 0]
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_string_members_of_struct_elements() -> None:
    got = strings('struct rec { int n; string name; }; struct rec r[2]; self struct rec me;'
                  ' BEGIN { r[1].name = "one"; r[1].n = 1; self->me.name = r[1].name;'
                  ' trace(r[1].name); trace(self->me.name); trace(r[0].name); }', 3)
    assert got == [b"one", b"one", b""]


@pytest.mark.parametrize("src", [
    'string s[4]; BEGIN { i = 4; s[i] = "x"; }',
    'string s[4]; BEGIN { i = -1; s[i] = "x"; }',
    'this string s[2]; BEGIN { i = 2; this->s[i] = "x"; }',
    'self string s[2]; BEGIN { i = 7; self->s[i] = "x"; }',
    "struct pt { int x; }; struct pt p[2]; struct pt q; BEGIN { i = 2; p[i] = q; }",
])
def test_runtime_index_out_of_bounds_is_an_invalid_address(src: str) -> None:
    m, res = run_all(src)
    assert res[-1][1] & BADADDR and int(m.ms.illval) == 0
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_null_source_is_an_invalid_address() -> None:
    m, res = run_all('string s[2]; BEGIN { s[1] = (char *)0; }')
    assert res[-1][1] & BADADDR


# -- structs -------------------------------------------------------------------------


STRUCT = "struct foo { int a; long b; char c[3]; };"


@pytest.mark.parametrize("decl,ref", [
    ("struct foo st;", "st"),
    ("this struct foo st;", "this->st"),
    ("self struct foo st;", "self->st"),
])
def test_member_stores_every_scope(decl: str, ref: str) -> None:
    _, vals = values(f"{STRUCT} {decl} BEGIN {{ {ref}.a = 5; {ref}.b = -7; {ref}.c[1] = 'q';"
                     f" {ref}.a += 10; {ref}.c[2]++; i = 0; {ref}.c[i] = 'z';"
                     f" trace({ref}.a); trace({ref}.b); trace({ref}.c[0]); trace({ref}.c[1]);"
                     f" trace({ref}.c[2]); }}", 5)
    assert [s64(v) for v in vals] == [15, -7, ord("z"), ord("q"), 1]


def test_thread_local_struct_is_created_by_a_member_store() -> None:
    d = compile_(f"{STRUCT} self struct foo st; BEGIN {{ trace(self->st.b); }}"
                 " BEGIN { self->st.b = 3; } BEGIN { trace(self->st.b); }")
    m = Machine(d.difos)
    assert m.run(d.difos[0])[1] & BADADDR          # no storage yet: a load faults
    assert [m.run(x) for x in d.difos[1:]] == [(3, 0), (3, 0)]
    assert _difhost.lib.dif_host_dvar_count() == 1
    (v,) = d.difos[1].vartab
    assert v.scope == lib.DIFV_SCOPE_THREAD and v.type.flags & lib.DIF_TF_BYREF
    assert v.type.size == 24


def test_struct_element_copies() -> None:
    _, vals = values(f"{STRUCT} struct foo p[3]; self struct foo sp[2]; struct foo g;"
                     " BEGIN { p[1].a = 1; p[1].b = 1 << 40; p[1].c[2] = 9; p[2] = p[1];"
                     " p[2].a = 2; i = 1; self->sp[i] = p[2]; g = self->sp[1]; p[0] = g;"
                     " p[0].b++; trace(p[2].b); trace(p[2].c[2]); trace(p[1].a);"
                     " trace(self->sp[1].a); trace(g.b); trace(p[0].b); trace(p[1].b);"
                     " trace(self->sp[0].b); }", 8)
    assert vals == [1 << 40, 9, 1, 2, 1 << 40, (1 << 40) + 1, 1 << 40, 0]
    assert _difhost.lib.dif_host_dvar_tails_clean()


def test_struct_copy_from_memory() -> None:
    """a[1] = *ptr copies the bytes the pointer points at (a checked load)."""
    ffi = _difhost.ffi
    src = ffi.new("long[2]", [0x1122334455667788, -5])
    d = compile_("struct two { long x; long y; }; struct two a[2];"
                 " BEGIN { a[1] = *(struct two *)arg0; trace(a[1].x); trace(a[1].y);"
                 " trace(a[0].y); }")
    m = Machine(d.difos)
    res = [m.run(x, [int(ffi.cast("unsigned long", src))]) for x in d.difos]
    assert [s64(v) for v, _ in res[-3:]] == [0x1122334455667788, -5, 0]
    _, flags = m.run(d.difos[0], [16])               # an unreadable source
    assert flags & BADADDR and int(m.ms.illval) == 16


# -- the interpreter's check of copys -----------------------------------------------


def _patched(src: str, old: int, new: int) -> tuple[Machine, list[tuple[int, int]]]:
    """Run src with one integer of its first DIFO's table changed: the size
    a copys uses, made to reach past the element."""
    d = compile_(src)
    x = d.difos[0]
    assert old in x.inttab
    x.inttab[x.inttab.index(old)] = new
    m = Machine(d.difos)
    return m, [m.run(y) for y in d.difos]


@pytest.mark.parametrize("decl,ref", [
    ("struct big p[2];", "p"),
    ("this struct big p[2];", "this->p"),
    ("self struct big p[2];", "self->p"),
])
def test_copys_is_refused_past_the_data(decl: str, ref: str) -> None:
    src = f"struct big {{ char c[24]; }}; {decl} BEGIN {{ {ref}[1] = {ref}[0]; }}"
    m, res = _patched(src, 24, 24)
    assert res[0][1] == 0                            # exactly the element: accepted
    m, res = _patched(src, 24, 25)                   # one byte past the data
    assert res[0][1] & BADADDR and int(m.ms.illval) != 0
    assert _difhost.lib.dif_host_dvar_tails_clean()
    m, res = _patched(src, 24, 1 << 33)              # wraps nothing, writes nothing
    assert res[0][1] & BADADDR
    assert _difhost.lib.dif_host_dvar_tails_clean()


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize("src,tag,msg", [
    ('string s[2]; BEGIN { s[2] = "x"; }', "D_ARR_BOUNDS",
     "index outside array bounds: 2, max is 2"),
    ('self string s[2]; BEGIN { self->s[-1] = "x"; }', "D_ARR_BOUNDS",
     "index outside array bounds: -1, max is 2"),
    (f"{STRUCT} struct foo p[2]; struct foo q; BEGIN {{ p[2] = q; }}", "D_ARR_BOUNDS",
     "index outside array bounds: 2, max is 2"),
    ('string s[2]; BEGIN { s[1] += "x"; }', "D_OP_ARITH",
     "operator += requires operands of arithmetic type"),
    ('string s[2]; BEGIN { s[1] |= "x"; }', "D_OP_INT",
     "operator |= requires operands of integral type"),
    ('string s[2]; BEGIN { s[1]++; }', "D_OP_SCALAR",
     "operator ++ requires operand of scalar type"),
    ("string s[2]; BEGIN { s[1] = 3; }", "D_OP_INCOMPAT",
     'operands have incompatible types: "string" = "int"'),
    (f"{STRUCT} struct bar {{ int a; }}; struct foo p[2]; struct bar q; BEGIN {{ p[1] = q; }}",
     "D_OP_INCOMPAT", 'operands have incompatible types: "struct foo" = "struct bar"'),
    (f"{STRUCT} self struct foo st; BEGIN {{ self->st.a = \"x\"; }}", "D_OP_INCOMPAT",
     'operands have incompatible types: "int" = "string"'),
    (f"{STRUCT} self struct foo st; BEGIN {{ self->st++; }}", "D_OP_SCALAR",
     "operator ++ requires operand of scalar type"),
    (f"{STRUCT} self struct foo st; BEGIN {{ x = &self->st; }}", "D_ADDROF_VAR",
     "cannot take address of dynamic variable"),
])
def test_errors(src: str, tag: str, msg: str) -> None:
    with pytest.raises(DError) as info:
        compile_(src)
    assert (info.value.tag, info.value.message) == (tag, msg)
