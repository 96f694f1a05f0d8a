"""Code generated for pointers, members, arrays and bit-fields, run on the host VM.

A ctypes structure laid out like the D declaration is the memory; its
address is arg0, and the emulator's loads read it (they are host loads).
"""

from __future__ import annotations

import ctypes

import pytest
from test_codegen import Runner, difos

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")

DECL = """
struct s {
	char c;
	short sh;
	int i;
	long l;
	unsigned char uc;
	struct s *next;
	int arr[3];
	unsigned int b1 : 3;
	int b2 : 5;
	unsigned int b3 : 24;
	struct inner { short x; long y; } in;
};
"""


class CInner(ctypes.Structure):
    _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_long)]


class CS(ctypes.Structure):
    pass


CS._fields_ = [("c", ctypes.c_byte), ("sh", ctypes.c_short), ("i", ctypes.c_int),
               ("l", ctypes.c_long), ("uc", ctypes.c_ubyte), ("next", ctypes.POINTER(CS)),
               ("arr", ctypes.c_int * 3), ("b1", ctypes.c_uint, 3), ("b2", ctypes.c_int, 5),
               ("b3", ctypes.c_uint, 24), ("in_", CInner)]

M64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def mem() -> CS:
    s = CS()
    s.c, s.sh, s.i, s.l, s.uc = -5, -300, -70000, -(1 << 40), 200
    s.arr[:] = [7, 8, 9]
    s.b1, s.b2, s.b3 = 5, -3, 0xABCDEF
    s.in_.x, s.in_.y = -2, 1 << 50
    s.next = ctypes.pointer(s)
    return s


def run_all(src: str, mem: CS) -> int:
    """Run every DIFO of src's one clause in order, sharing globals; the last value."""
    g = [0] * 16
    value = 0
    for difo in difos(src).difos:
        r = Runner(difo)
        assert r.validate() == (0, 0)
        res = r.run(args=[ctypes.addressof(mem)], globals_=g)
        assert res.flags == 0, f"fault flags {res.flags:#x}"
        g = r.globals
        value = res.value
    return value


def value(expr: str, mem: CS) -> int:
    v = run_all(DECL + f"BEGIN {{ p = (struct s *)arg0; trace({expr}); }}", mem) & M64
    return v - (1 << 64) if v >> 63 else v


@pytest.mark.parametrize("expr,want", [
    ("p->c", -5), ("p->sh", -300), ("p->i", -70000), ("p->l", -(1 << 40)),
    ("p->uc", 200), ("(*p).i", -70000), ("p->next->next->sh", -300),
    ("p->arr[0] + p->arr[1] * 10 + p->arr[2] * 100", 987),
    ("*(p->arr + 2)", 9), ("(&p->arr[0])[1]", 8), ("*&p->i", -70000),
    ("p->b1", 5), ("p->b2", -3), ("p->b3", 0xABCDEF), ("p->in.x", -2),
    ("p->in.y", 1 << 50), ("p->next->in.y >> 50", 1),
    ("(p + 1) - p", 1), ("(char *)(p + 1) - (char *)p", ctypes.sizeof(CS)),
    ("sizeof (*p)", ctypes.sizeof(CS)), ("offsetof(struct s, in)", CS.in_.offset),
    ("p->next == p", 1), ("p != 0", 1), ("(long)&p->l - (long)p", CS.l.offset),
    ("*(unsigned char *)&p->sh", (-300) & 0xFF),
])
def test_memory_expressions(expr: str, want: int, mem: CS) -> None:
    assert value(expr, mem) == want


def test_pointer_increment_scales(mem: CS) -> None:
    got = run_all("BEGIN { p = (int *)arg0; p++; p += 2; --p; trace(p); }", mem)
    assert got == ctypes.addressof(mem) + 2 * 4


def run_shared(src: str, args: list[int] | None = None) -> list[tuple[int, int]]:
    """Run every DIFO of src's one clause against one machine state (one
    scratch area, one set of clause-locals, as one firing does): (value,
    fault flags) of each."""
    ffi, lib = _difhost.ffi, _difhost.lib
    lib.dif_host_reset()
    ms = ffi.new("struct dif_mstate *")
    for i, a in enumerate(args or []):
        ms.args[i] = a
    ms.strsize = 256
    scratch = ffi.new("char[]", 4096)
    ms.scratch_base = int(ffi.cast("unsigned long", scratch))
    ms.scratch_size = 4096
    g = ffi.new("unsigned long long[]", 16)
    loc = ffi.new("unsigned long long[]", 16)
    ms.globals, ms.nglobals = g, 16
    ms.locals, ms.nlocals = loc, 16
    out = []
    for difo in difos(src).difos:
        r = Runner(difo)
        assert r.validate() == (0, 0)
        ms.flags = 0
        out.append((int(lib.dif_emulate(r.obj, ms)), int(ms.flags)))
    return out


def test_stores_through_pointers_into_scratch() -> None:
    """D stores through `*p`, `p[i]` and `p->m` (DTrace's inet_ntoa tests
    fill alloca()'d buffers so): st[bhwx] into scratch, op= and ++ too."""
    got = run_shared("struct pt { short x; long y; };"
                     "BEGIN { this->p = (int *)alloca(16); *this->p = 5; *this->p += 2;"
                     " (*this->p)++; this->p[1] = *this->p * 3; this->p[2] = -1;"
                     " this->c = (uint8_t *)&this->p[2]; this->c[1] = 0;"
                     " this->s = (struct pt *)alloca(sizeof (struct pt));"
                     " this->s->y = 1 << 40; this->s->y >>= 8; this->s->x--;"
                     " trace(*this->p); trace(this->p[1]); trace(this->p[2]);"
                     " trace(this->s->y); trace(this->s->x); }")
    assert all(flags == 0 for _, flags in got)
    assert [v for v, _ in got[-5:]] == [8, 24, -1 & ~0xFF00 & M64, 1 << 32, M64]


def test_store_outside_scratch_is_a_bad_address(mem: CS) -> None:
    addr = ctypes.addressof(mem)
    got = run_shared("BEGIN { p = (int *)arg0; p[1] = 3; }", [addr])
    assert got[-1][1] & _difhost.lib.DIF_F_BADADDR
    assert mem.sh == -300 and mem.i == -70000     # nothing written
