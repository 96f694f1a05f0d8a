"""dif_emulate() on the host build (pydtrace._difhost): table-driven.

Programs are built from opcode numbers taken from the cffi module; every
program is first accepted by dif_validate(), then run against a machine
state with scratch space, user-variable tables and the host environment
(libdtrace/host/dif_env_host.c).  Expected values are computed from the
operands in Python (two's complement, 64 bits), not from the C code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

difhost = pytest.importorskip("pydtrace._difhost")
ffi, lib = difhost.ffi, difhost.lib

M = (1 << 64) - 1
INT64_MIN = 1 << 63
INT64_MAX = (1 << 63) - 1
UBASE = lib.DIF_VAR_OTHER_UBASE


def u(x: int) -> int:
    return x & M


def s(x: int) -> int:
    x &= M
    return x - (1 << 64) if x >> 63 else x


# ---------------------------------------------------------------- assembler


def op(name: str) -> int:
    return int(getattr(lib, f"DIF_OP_{name.upper()}"))


def ins(name: str, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    return (op(name) << 24) | (r1 << 16) | (r2 << 8) | rd


def br(name: str, label: int) -> int:
    return (op(name) << 24) | label


def wide(name: str, value: int, rd: int) -> int:
    return (op(name) << 24) | (value << 8) | rd


def push(name: str, typ: int, r2: int, rs: int) -> int:
    return (op(name) << 24) | (typ << 16) | (r2 << 8) | rs


def ret(rd: int) -> int:
    return ins("ret", rd=rd)


def setx(idx: int, rd: int) -> int:
    return wide("setx", idx, rd)


@dataclass
class Run:
    value: int
    flags: int
    illval: int
    fltoffs: int
    ms: Any

    @property
    def fault(self) -> int:
        return int(lib.dif_fault_code(self.flags))


@dataclass
class Machine:
    """A DIFO plus everything dif_emulate() needs, kept alive together."""

    text: list[int]
    ints: list[int] = field(default_factory=list)
    strs: bytes = b""
    vars: list[tuple[int, int, int]] = field(default_factory=list)
    args: list[int] = field(default_factory=list)
    scratch: int = 256
    strsize: int = 256
    nglobals: int = 4
    nlocals: int = 4
    keep: list[Any] = field(default_factory=list)
    setup: Any = None  # called with the dif_mstate before dif_emulate()

    def __post_init__(self) -> None:
        self.dp = ffi.new("struct dif_object *")
        self.textbuf = ffi.new("uint32_t[]", self.text or [0])
        self.intbuf = ffi.new("unsigned long long[]", self.ints or [0])
        self.strbuf = ffi.new("char[]", self.strs or b"\0")
        self.vartab = ffi.new("struct dtrace_difv[]", max(1, len(self.vars)))
        for i, (vid, scope, kind) in enumerate(self.vars):
            self.vartab[i].dtdv_id = vid
            self.vartab[i].dtdv_scope = scope
            self.vartab[i].dtdv_kind = kind
            self.vartab[i].dtdv_type.dtdt_size = 8
        self.dp.text = self.textbuf
        self.dp.len = len(self.text)
        self.dp.inttab = self.intbuf
        self.dp.intlen = len(self.ints)
        self.dp.strtab = self.strbuf
        self.dp.strlen = len(self.strs)
        self.dp.vartab = self.vartab
        self.dp.varlen = len(self.vars)
        self.dp.rtype.dtdt_size = 8
        self.scratchbuf = ffi.new("unsigned char[]", max(1, self.scratch))
        self.globals = ffi.new("unsigned long long[]", max(1, self.nglobals))
        self.locals = ffi.new("unsigned long long[]", max(1, self.nlocals))
        err = ffi.new("struct dif_verr *")
        rc = lib.dif_validate(self.dp, err)
        assert rc == 0, f"validator refused: err={err.err} pc={err.pc}"

    @property
    def strtab_addr(self) -> int:
        return addr(self.strbuf)

    @property
    def scratch_addr(self) -> int:
        return addr(self.scratchbuf)

    def run(self) -> Run:
        ms = ffi.new("struct dif_mstate *")
        for i, a in enumerate(self.args):
            ms.args[i] = u(a)
        ms.strsize = self.strsize
        ms.scratch_base = self.scratch_addr if self.scratch else 0
        ms.scratch_size = self.scratch
        ms.scratch_used = 0
        ms.globals = self.globals if self.nglobals else ffi.NULL
        ms.nglobals = self.nglobals
        ms.locals = self.locals if self.nlocals else ffi.NULL
        ms.nlocals = self.nlocals
        if self.setup is not None:
            self.setup(ms)
        value = lib.dif_emulate(self.dp, ms)
        return Run(int(value), int(ms.flags), int(ms.illval), int(ms.fltoffs), ms)


def addr(cdata: Any) -> int:
    return int(ffi.cast("uintptr_t", cdata))


def run(text: list[int], **kw: Any) -> Run:
    return Machine(text, **kw).run()


@pytest.fixture(autouse=True)
def _host_env() -> Iterator[None]:
    lib.dif_host_reset()
    yield
    lib.dif_host_reset()


def assert_value(r: Run, want: int) -> None:
    assert r.flags & lib.DIF_F_FAULT == 0, f"fault {r.fault}"
    assert r.value == u(want)


def assert_fault(r: Run, code: int, pc: int, illval: int | None = None) -> None:
    assert r.fault == code
    assert r.value == 0
    assert r.fltoffs == pc * 4
    if illval is not None:
        assert r.illval == u(illval)


# --------------------------------------------------------------- arithmetic


def binop(name: str, a: int, b: int) -> Run:
    return run([setx(0, 1), setx(1, 2), ins(name, 1, 2, 3), ret(3)], ints=[u(a), u(b)])


def c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def c_rem(a: int, b: int) -> int:
    return a - c_div(a, b) * b


REF = {
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "and": lambda a, b: a & b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "udiv": lambda a, b: u(a) // u(b),
    "urem": lambda a, b: u(a) % u(b),
    "sdiv": lambda a, b: c_div(s(a), s(b)),
    "srem": lambda a, b: c_rem(s(a), s(b)),
    "sll": lambda a, b: u(a) << (u(b) & 63),
    "srl": lambda a, b: u(a) >> (u(b) & 63),
    "sra": lambda a, b: s(a) >> (u(b) & 63),
}

OPERANDS = [
    (0, 0),
    (5, 7),
    (M, 1),
    (1, M),
    (-7, 2),
    (7, -2),
    (-7, -2),
    (INT64_MIN, 1),
    (INT64_MAX, 2),
    (INT64_MIN, M),
    (1, 63),
    (1, 64),
    (3, 65),
    (INT64_MIN, 63),
    (-8, 1),
    (M, 64),
    (0x1234_5678_9ABC_DEF0, 0x0F0F_0F0F_0F0F_0F0F),
]


@pytest.mark.parametrize("name", sorted(REF))
@pytest.mark.parametrize("a,b", OPERANDS)
def test_binop(name: str, a: int, b: int) -> None:
    r = binop(name, a, b)
    if name in ("udiv", "urem", "sdiv", "srem") and u(b) == 0:
        assert_fault(r, lib.DTRACEFLT_DIVZERO, 2)
        return
    if name == "sdiv" and u(a) == INT64_MIN and u(b) == M:
        assert_value(r, INT64_MIN)  # no trap, no UB
        return
    if name == "srem" and u(a) == INT64_MIN and u(b) == M:
        assert_value(r, 0)
        return
    assert_value(r, REF[name](a, b))


@pytest.mark.parametrize(
    "name,a,b,want",
    [
        ("sdiv", INT64_MIN, -1, INT64_MIN),
        ("srem", INT64_MIN, -1, 0),
        ("sdiv", -7, 2, -3),
        ("srem", -7, 2, -1),
        ("sll", 1, 64, 1),
        ("sll", 1, 63, INT64_MIN),
        ("srl", INT64_MIN, 64, INT64_MIN),
        ("sra", -1, 64, -1),
        ("sra", INT64_MIN, 63, -1),
        ("add", M, 1, 0),
        ("mul", INT64_MIN, 2, 0),
    ],
)
def test_edges(name: str, a: int, b: int, want: int) -> None:
    assert_value(binop(name, a, b), want)


@pytest.mark.parametrize("name", ["sdiv", "udiv", "srem", "urem"])
def test_divzero_stops(name: str) -> None:
    # the fault stops the program: the later setx/ret never run
    r = run([setx(0, 1), ins(name, 1, 2, 3), setx(0, 3), ret(3)], ints=[9])
    assert_fault(r, lib.DTRACEFLT_DIVZERO, 1)


@pytest.mark.parametrize("x", [0, 1, M, INT64_MIN])
def test_not_mov(x: int) -> None:
    assert_value(run([setx(0, 1), ins("not", 1, 0, 2), ret(2)], ints=[x]), ~x)
    assert_value(run([setx(0, 1), ins("mov", 1, 0, 2), ret(2)], ints=[x]), x)


def test_registers_start_zero_and_r0_reads_zero() -> None:
    for rd in range(8):
        assert_value(run([ret(rd)]), 0)
    assert_value(run([setx(0, 1), ins("add", 0, 1, 2), ret(2)], ints=[41]), 41)


def test_empty_program_returns_zero() -> None:
    r = run([])
    assert r.value == 0 and r.flags == 0


# ----------------------------------------------------------------- branches

BRANCH = {
    "ba": lambda a, b: True,
    "be": lambda a, b: a == b,
    "bne": lambda a, b: a != b,
    "bg": lambda a, b: s(a) > s(b),
    "bge": lambda a, b: s(a) >= s(b),
    "bl": lambda a, b: s(a) < s(b),
    "ble": lambda a, b: s(a) <= s(b),
    "bgu": lambda a, b: u(a) > u(b),
    "bgeu": lambda a, b: u(a) >= u(b),
    "blu": lambda a, b: u(a) < u(b),
    "bleu": lambda a, b: u(a) <= u(b),
}

PAIRS = [
    (0, 0),
    (1, 2),
    (2, 1),
    (-1, 1),
    (1, -1),
    (INT64_MIN, 1),
    (1, INT64_MIN),
    (INT64_MAX, INT64_MIN),
    (INT64_MIN, INT64_MAX),
    (M, 0),
    (0, M),
    (M, M),
    (INT64_MIN, INT64_MIN),
]


def branch_prog(cond: int) -> list[int]:
    """cond; bXX 6; r3 = 0; ret r3; ...; 6: r3 = 1; ret r3."""
    return [setx(0, 1), setx(1, 2), cond, 0, ins("mov", 0, 0, 3), ret(3), setx(2, 3), ret(3)]


@pytest.mark.parametrize("name", sorted(BRANCH))
@pytest.mark.parametrize("a,b", PAIRS)
def test_cmp_branch(name: str, a: int, b: int) -> None:
    text = branch_prog(ins("cmp", 1, 2))
    text[3] = br(name, 6)
    r = run(text, ints=[u(a), u(b), 1])
    assert_value(r, 1 if BRANCH[name](a, b) else 0)


@pytest.mark.parametrize("x", [0, 1, M, INT64_MIN])
@pytest.mark.parametrize("name", ["be", "bne", "bl", "bg", "blu", "bgu"])
def test_tst_branch(name: str, x: int) -> None:
    text = branch_prog(ins("tst", 1))
    text[3] = br(name, 6)
    r = run(text, ints=[u(x), 0, 1])
    # tst sets z only: n = c = 0
    taken = {"be": x == 0, "bne": x != 0, "bl": False, "bg": x != 0, "blu": False, "bgu": x != 0}[
        name
    ]
    assert_value(r, 1 if taken else 0)


def test_branch_skips_instructions() -> None:
    text = [setx(0, 1), br("ba", 3), setx(1, 1), ret(1)]
    assert_value(run(text, ints=[10, 20]), 10)


# ------------------------------------------------------------ strings, sets

STRTAB = b"abc\0abd\0ab\0\0b\0"
OFF = {"abc": 0, "abd": 4, "ab": 8, "": 11, "b": 12}


def test_sets_is_strtab_address() -> None:
    m = Machine([wide("sets", OFF["b"], 1), ret(1)], strs=STRTAB)
    r = m.run()
    assert_value(r, m.strtab_addr + OFF["b"])
    assert ffi.string(ffi.cast("char *", r.value)) == b"b"


def scmp_prog(x: int | None, y: int | None, name: str) -> list[int]:
    first = wide("sets", x, 1) if x is not None else ins("mov", 0, 0, 1)
    second = wide("sets", y, 2) if y is not None else ins("mov", 0, 0, 2)
    return [
        first,
        second,
        ins("scmp", 1, 2),
        br(name, 6),
        ins("mov", 0, 0, 3),
        ret(3),
        setx(0, 3),
        ret(3),
    ]


@pytest.mark.parametrize("x", sorted(OFF) + [None])
@pytest.mark.parametrize("y", sorted(OFF) + [None])
@pytest.mark.parametrize("name", ["be", "bl", "bg", "bne", "ble", "bge"])
def test_scmp(x: str | None, y: str | None, name: str) -> None:
    sx = b"" if x is None else x.encode()  # NULL compares as ""
    sy = b"" if y is None else y.encode()
    rel = {
        "be": sx == sy,
        "bne": sx != sy,
        "bl": sx < sy,
        "bg": sx > sy,
        "ble": sx <= sy,
        "bge": sx >= sy,
    }[name]
    text = scmp_prog(None if x is None else OFF[x], None if y is None else OFF[y], name)
    assert_value(run(text, strs=STRTAB, ints=[1]), 1 if rel else 0)


def test_scmp_bounded_by_strsize() -> None:
    text = scmp_prog(OFF["abc"], OFF["abd"], "be")
    assert_value(run(text, strs=STRTAB, ints=[1], strsize=2), 1)
    assert_value(run(text, strs=STRTAB, ints=[1], strsize=3), 0)


def test_scmp_bad_address() -> None:
    buf = ffi.new("char[]", b"hello")
    a = addr(buf)
    lib.dif_host_set_fault_range(a + 2, a + 3)
    text = [setx(0, 1), wide("sets", 0, 2), ins("scmp", 1, 2), ret(0)]
    r = run(text, ints=[a], strs=b"hello\0")
    assert_fault(r, lib.DTRACEFLT_BADADDR, 2, a + 2)


def test_scmp_string_ending_before_unreadable_memory() -> None:
    # the string's chunk overlaps unreadable memory right after its NUL
    buf = ffi.new("char[]", 64)
    a = (addr(buf) + 31) & ~31
    ffi.memmove(ffi.cast("char *", a), b"hi\0", 3)
    lib.dif_host_set_fault_range(a + 3, a + 32)
    text = scmp_prog(None, None, "be")
    text[0] = setx(1, 1)
    text[1] = wide("sets", 0, 2)
    assert_value(run(text, ints=[1, a], strs=b"hi\0"), 1)


# -------------------------------------------------------------------- loads

LOADS = {
    # name: (size, signed)
    "ldsb": (1, True),
    "ldsh": (2, True),
    "ldsw": (4, True),
    "ldub": (1, False),
    "lduh": (2, False),
    "lduw": (4, False),
    "ldx": (8, False),
}
PATTERN = bytes([0x81, 0x92, 0xA3, 0xB4, 0xC5, 0xD6, 0xE7, 0xF8])


def expect_load(size: int, signed: bool) -> int:
    v = int.from_bytes(PATTERN[:size], "little", signed=signed)
    return u(v)


@pytest.mark.parametrize("prefix", ["", "u", "r"])
@pytest.mark.parametrize("name", sorted(LOADS))
def test_load(prefix: str, name: str) -> None:
    buf = ffi.new("unsigned char[]", PATTERN)
    text = [setx(0, 1), ins(prefix + name, 1, 0, 2), ret(2)]
    assert_value(run(text, ints=[addr(buf)]), expect_load(*LOADS[name]))


@pytest.mark.parametrize("prefix", ["", "u", "r"])
@pytest.mark.parametrize("name", sorted(LOADS))
def test_load_bad_address(prefix: str, name: str) -> None:
    buf = ffi.new("unsigned char[]", 16)
    a = addr(buf)
    lib.dif_host_set_fault_range(a, a + 16)
    text = [setx(0, 1), ins("nop"), ins(prefix + name, 1, 0, 2), ret(2)]
    assert_fault(run(text, ints=[a + 4]), lib.DTRACEFLT_BADADDR, 2, a + 4)


def test_load_null() -> None:
    assert_fault(run([ins("ldx", 1, 0, 2), ret(2)]), lib.DTRACEFLT_BADADDR, 0, 0)


# ---------------------------------------------------- scratch and stores


def test_allocs_aligned_zeroed_and_bounded() -> None:
    m = Machine(
        [
            setx(0, 1),
            ins("allocs", 1, 0, 2),
            setx(1, 1),
            ins("allocs", 1, 0, 3),
            ins("sub", 3, 2, 4),
            ret(4),
        ],
        ints=[3, 8],
        scratch=64,
    )
    ffi.memmove(m.scratchbuf, b"\xff" * 64, 64)
    r = m.run()
    assert_value(r, 8)  # 3 rounded up to 8
    assert r.ms.scratch_used >= 11
    assert bytes(ffi.buffer(m.scratchbuf, 11)) == b"\0" * 11


def test_allocs_returns_scratch_address() -> None:
    m = Machine([setx(0, 1), ins("allocs", 1, 0, 2), ret(2)], ints=[8], scratch=64)
    r = m.run()
    assert m.scratch_addr <= r.value < m.scratch_addr + 64
    assert r.value % 8 == 0


@pytest.mark.parametrize("n", [65, 1 << 40, M, M - 3])
def test_allocs_overflow(n: int) -> None:
    r = run([setx(0, 1), ins("allocs", 1, 0, 2), ret(2)], ints=[n], scratch=64)
    assert_fault(r, lib.DTRACEFLT_NOSCRATCH, 1)


def test_allocs_without_scratch() -> None:
    r = run([setx(0, 1), ins("allocs", 1, 0, 2), ret(2)], ints=[8], scratch=0)
    assert_fault(r, lib.DTRACEFLT_NOSCRATCH, 1)


STORES = {"stb": (1, "ldub"), "sth": (2, "lduh"), "stw": (4, "lduw"), "stx": (8, "ldx")}


@pytest.mark.parametrize("name", sorted(STORES))
def test_store_load_back(name: str) -> None:
    size, load = STORES[name]
    value = 0x1122_3344_5566_7788
    text = [
        setx(0, 1),
        ins("allocs", 1, 0, 2),
        setx(1, 3),
        ins(name, 3, 0, 2),
        ins(load, 2, 0, 4),
        ret(4),
    ]
    assert_value(run(text, ints=[8, value]), value & ((1 << 8 * size) - 1))


@pytest.mark.parametrize("name", sorted(STORES))
def test_store_outside_scratch(name: str) -> None:
    outside = ffi.new("unsigned long long[]", 1)
    text = [setx(0, 2), setx(1, 3), ins(name, 3, 0, 2), ret(0)]
    r = run(text, ints=[addr(outside), 5])
    assert_fault(r, lib.DTRACEFLT_BADADDR, 2, addr(outside))
    assert outside[0] == 0


@pytest.mark.parametrize("name", sorted(STORES))
def test_store_beyond_allocated_scratch(name: str) -> None:
    size = STORES[name][0]
    # allocate 8, store at offset 8: inside the buffer, outside what is
    # allocated
    text = [setx(0, 1), ins("allocs", 1, 0, 2), ins("add", 2, 1, 2), ins(name, 1, 0, 2), ret(0)]
    r = run(text, ints=[8], scratch=64)
    base = (r.ms.scratch_base + 7) & ~7
    assert_fault(r, lib.DTRACEFLT_BADADDR, 3, base + 8)
    # the same store at offset 8 - size is fine and lands in scratch
    text = [
        setx(0, 1),
        ins("allocs", 1, 0, 2),
        setx(1, 3),
        ins("add", 2, 3, 2),
        ins(name, 1, 0, 2),
        ret(0),
    ]
    m = Machine(text, ints=[8, 8 - size], scratch=64)
    r = m.run()
    assert_value(r, 0)
    base = (m.scratch_addr + 7) & ~7
    got = bytes(ffi.buffer(ffi.cast("char *", base), 8))
    want = (8).to_bytes(size, "little").rjust(8, b"\0")
    assert got == want


@pytest.mark.parametrize("name", ["sth", "stw", "stx"])
def test_store_misaligned(name: str) -> None:
    text = [
        setx(0, 1),
        ins("allocs", 1, 0, 2),
        setx(1, 1),
        ins("add", 2, 1, 2),
        ins(name, 1, 0, 2),
        ret(0),
    ]
    r = run(text, ints=[16, 1])
    base = r.ms.scratch_base
    assert_fault(r, lib.DTRACEFLT_BADALIGN, 4, ((base + 7) & ~7) + 1)


def test_copys() -> None:
    text = [
        setx(0, 1),
        ins("allocs", 1, 0, 3),
        wide("sets", 0, 1),
        setx(1, 2),
        ins("copys", 1, 2, 3),
        ins("scmp", 1, 3),
        br("be", 8),
        ret(0),
        setx(2, 4),
        ins("ldub", 3, 0, 5),
        ins("add", 4, 5, 4),
        ret(4),
    ]
    # copies "hello\0", compares equal, returns 1000 + 'h'
    r = run(text, ints=[8, 6, 1000], strs=b"hello\0")
    assert_value(r, 1000 + ord("h"))


def test_copys_destination_outside_scratch() -> None:
    dst = ffi.new("char[]", 8)
    text = [setx(0, 3), wide("sets", 0, 1), setx(1, 2), ins("copys", 1, 2, 3), ret(0)]
    r = run(text, ints=[addr(dst), 6], strs=b"hello\0")
    assert_fault(r, lib.DTRACEFLT_BADADDR, 3, addr(dst))
    assert bytes(ffi.buffer(dst, 8)) == b"\0" * 8


def test_copys_bad_source() -> None:
    # r3 = allocs(8); copys from address 16 (unreadable) into it
    text = [
        setx(0, 1),
        ins("allocs", 1, 0, 3),
        setx(1, 4),
        ins("nop"),
        ins("copys", 4, 1, 3),
        ret(0),
    ]
    r = run(text, ints=[8, 16])
    assert_fault(r, lib.DTRACEFLT_BADADDR, 4, 16)


# ---------------------------------------------------------------- variables


def test_argn_and_args() -> None:
    args = [100 + i for i in range(10)]
    for i in range(10):
        text = [wide("ldgs", lib.DIF_VAR_ARG0 + i, 1), ret(1)]
        assert_value(run(text, args=args), args[i])
        text = [setx(0, 2), ins("ldga", lib.DIF_VAR_ARGS, 2, 1), ret(1)]
        assert_value(run(text, args=args, ints=[i]), args[i])


@pytest.mark.parametrize("idx", [10, 11, M])
def test_args_out_of_range(idx: int) -> None:
    text = [setx(0, 2), ins("ldga", lib.DIF_VAR_ARGS, 2, 1), ret(1)]
    assert_fault(run(text, ints=[idx]), lib.DTRACEFLT_ILLOP, 1)


def test_other_arrays_illop() -> None:
    for arr in (lib.DIF_VAR_REGS, lib.DIF_VAR_UREGS, 0x80):
        text = [ins("ldga", arr, 0, 1), ret(1)]
        assert_fault(run(text), lib.DTRACEFLT_ILLOP, 0)
    assert_fault(run([ins("ldta", 0, 0, 1), ret(1)]), lib.DTRACEFLT_ILLOP, 0)


def test_builtin_from_env() -> None:
    lib.dif_host_set_builtin(lib.DIF_VAR_PID, 4242)
    text = [wide("ldgs", lib.DIF_VAR_PID, 1), ret(1)]
    assert_value(run(text), 4242)


def test_unknown_builtin_illop() -> None:
    text = [ins("nop"), wide("ldgs", lib.DIF_VAR_TID, 1), ret(1)]
    assert_fault(run(text), lib.DTRACEFLT_ILLOP, 1)


G, T, L = lib.DIFV_SCOPE_GLOBAL, lib.DIFV_SCOPE_THREAD, lib.DIFV_SCOPE_LOCAL
SCALAR, ARRAY = lib.DIFV_KIND_SCALAR, lib.DIFV_KIND_ARRAY


@pytest.mark.parametrize(
    "ld,st,scope,table",
    [
        ("ldgs", "stgs", G, "globals"),
        ("ldls", "stls", L, "locals"),
    ],
)
def test_user_scalar(ld: str, st: str, scope: int, table: str) -> None:
    vid = UBASE + 2
    m = Machine(
        [
            wide(ld, vid, 1),
            setx(0, 2),
            ins("add", 1, 2, 1),
            wide(st, vid, 1),
            wide(ld, vid, 3),
            ret(3),
        ],
        ints=[5],
        vars=[(vid, scope, SCALAR)],
    )
    getattr(m, table)[2] = 37
    assert_value(m.run(), 42)
    assert getattr(m, table)[2] == 42
    other = m.globals if table == "locals" else m.locals
    assert list(other[0:4]) == [0, 0, 0, 0]


@pytest.mark.parametrize("ld,scope", [("ldgs", G), ("ldls", L)])
def test_user_scalar_out_of_range(ld: str, scope: int) -> None:
    vid = UBASE + 4
    text = [wide(ld, vid, 1), ret(1)]
    r = run(text, vars=[(vid, scope, SCALAR)], nglobals=4, nlocals=4)
    assert_fault(r, lib.DTRACEFLT_ILLOP, 0)
    r = run(text, vars=[(vid, scope, SCALAR)], nglobals=0, nlocals=0)
    assert_fault(r, lib.DTRACEFLT_ILLOP, 0)


def test_thread_local_store_load_delete() -> None:
    # self->x = 42; then self->x read back, per thread key
    store = [setx(0, 1), wide("stts", UBASE, 1), wide("ldts", UBASE, 2), ret(2)]
    assert_value(run(store, ints=[42], vars=[(UBASE, T, SCALAR)]), 42)
    assert lib.dif_host_dvar_count() == 1
    load = [wide("ldts", UBASE, 2), ret(2)]
    assert_value(run(load, vars=[(UBASE, T, SCALAR)]), 42)
    lib.dif_host_set_threadkey(0x20000)
    assert_value(run(load, vars=[(UBASE, T, SCALAR)]), 0)  # another thread
    lib.dif_host_set_threadkey(0x10000)
    # storing 0 deletes it
    zero = [wide("stts", UBASE, 0), wide("ldts", UBASE, 2), ret(2)]
    assert_value(run(zero, vars=[(UBASE, T, SCALAR)]), 0)
    assert lib.dif_host_dvar_count() == 0


def test_assoc_keys() -> None:
    # a[r1] = r2 for a value key, read back with equal and different keys
    def prog(key: int, store: int | None) -> list[int]:
        text = [setx(0, 1), ins("flushts"), push("pushtv", 0, 0, 1)]
        if store is not None:
            text += [setx(1, 2), wide("stgaa", UBASE, 2)]
        return text + [wide("ldgaa", UBASE, 3), ret(3)]

    v = [(UBASE, G, ARRAY)]
    assert_value(run(prog(5, 7), ints=[5, 7], vars=v), 7)
    assert_value(run(prog(6, None), ints=[6], vars=v), 0)
    assert_value(run(prog(5, None), ints=[5], vars=v), 7)
    # a thread-local array with the same id and key is another variable
    text = [setx(0, 1), ins("flushts"), push("pushtv", 0, 0, 1), wide("ldtaa", UBASE, 3), ret(3)]
    assert_value(run(text, ints=[5], vars=[(UBASE, T, ARRAY)]), 0)


def test_assoc_string_key_by_reference() -> None:
    v = [(UBASE, G, ARRAY)]
    strs = b"foo\0bar\0"
    # a["foo"] = 3
    st = [ins("sets", 0, 0, 1), ins("flushts"), push("pushtr", 1, 0, 1)]
    st += [setx(0, 2), wide("stgaa", UBASE, 2), ret(2)]
    assert_value(run(st, ints=[3], strs=strs, vars=v), 3)
    # a["bar"] is absent; a["foo"] from a different copy of the bytes is 3
    ld = [
        wide("sets", 4, 1),
        ins("flushts"),
        push("pushtr", 1, 0, 1),
        wide("ldgaa", UBASE, 3),
        ret(3),
    ]
    assert_value(run(ld, strs=strs, vars=v), 0)
    ld[0] = wide("sets", 0, 1)
    assert_value(run(ld, strs=b"foo\0", vars=v), 3)


def test_dynamic_drop_when_full() -> None:
    lib.dif_host_set_dvar_capacity(0)
    text = [setx(0, 1), wide("stts", UBASE, 1), setx(0, 2), ret(2)]
    r = run(text, ints=[1], vars=[(UBASE, T, SCALAR)])
    assert r.flags & lib.DIF_F_DROP
    assert r.flags & lib.DIF_F_FAULT == 0
    assert r.value == 0


def _byref_setup(size: int, string: int, kind: str, storage: Any) -> Any:
    info = ffi.new("struct dif_vinfo[]", 4)
    info[0].size = size
    info[0].string = string

    def setup(ms: Any) -> None:
        getattr(ms, kind + "s")[0] = addr(storage)
        setattr(ms, kind[0] + "info", info)

    setup.keep = info  # type: ignore[attr-defined]
    return setup


@pytest.mark.parametrize(
    "kind,ld,st,scope", [("global", "ldgs", "stgs", G), ("local", "ldls", "stls", L)]
)
def test_static_byref_string(kind: str, ld: str, st: str, scope: int) -> None:
    storage = ffi.new("unsigned char[]", 8 + 16)
    m = Machine(
        [wide("sets", 0, 1), wide(st, UBASE, 1), wide(ld, UBASE, 2), ret(2)],
        strs=b"hello\0",
        vars=[(UBASE, scope, SCALAR)],
        setup=_byref_setup(16, 1, kind, storage),
    )
    r = m.run()
    assert_value(r, addr(storage) + 8)
    assert bytes(ffi.buffer(storage, 24)) == bytes(8) + b"hello" + bytes(11)
    # assigning NULL marks the header; a load then yields 0
    m2 = Machine(
        [wide(st, UBASE, 0), wide(ld, UBASE, 2), ret(2)],
        vars=[(UBASE, scope, SCALAR)],
        setup=_byref_setup(16, 1, kind, storage),
    )
    assert_value(m2.run(), 0)
    assert storage[0] == 0xFF


def test_thread_byref_string_copied() -> None:
    info = ffi.new("struct dif_vinfo[]", 1)
    info[0].size = 8
    info[0].string = 1

    def setup(ms: Any) -> None:
        ms.tinfo = info
        ms.ntvars = 1

    # self->s = "toolongstring" keeps 7 bytes and a NUL
    text = [wide("sets", 0, 1), wide("stts", UBASE, 1), wide("ldts", UBASE, 2), ret(2)]
    r = Machine(text, strs=b"toolongstring\0", vars=[(UBASE, T, SCALAR)], setup=setup).run()
    assert r.flags == 0 and r.value
    assert ffi.string(ffi.cast("char *", r.value)) == b"toolong"


# ----------------------------------------------------- tuples and call


def call(subr: int, rd: int) -> int:
    return wide("call", subr, rd)


def test_tuple_overflow() -> None:
    text = [ins("flushts")] + [push("pushtv", 0, 0, 1)] * 8 + [ret(0)]
    assert_value(run(text), 0)
    text = [ins("flushts")] + [push("pushtv", 0, 0, 1)] * 9 + [ret(0)]
    assert_fault(run(text), lib.DTRACEFLT_TUPOFLOW, 9)
    # popts makes room again, flushts empties
    text = (
        [push("pushtv", 0, 0, 1)] * 8
        + [ins("popts"), push("pushtv", 0, 0, 1), ins("flushts")]
        + [push("pushtr", 0, 0, 1)] * 8
        + [ret(0)]
    )
    assert_value(run(text), 0)


def test_popts_on_empty_is_noop() -> None:
    assert_value(run([ins("popts"), ins("popts"), ret(0)]), 0)


@pytest.mark.parametrize(
    "sub,width",
    [
        ("HTONS", 2),
        ("NTOHS", 2),
        ("HTONL", 4),
        ("NTOHL", 4),
        ("HTONLL", 8),
        ("NTOHLL", 8),
    ],
)
def test_byteorder(sub: str, width: int) -> None:
    x = 0x0102_0304_0506_0708
    text = [
        setx(0, 1),
        ins("flushts"),
        push("pushtv", 0, 0, 1),
        call(getattr(lib, f"DIF_SUBR_{sub}"), 2),
        ret(2),
    ]
    low = x & ((1 << 8 * width) - 1)
    want = int.from_bytes(low.to_bytes(width, "little"), "big")
    assert_value(run(text, ints=[x]), want)


@pytest.mark.parametrize(
    "text,strsize,want",
    [
        (b"hello\0", 256, 5),
        (b"\0", 256, 0),
        (b"hello\0", 3, 3),
    ],
)
def test_strlen(text: bytes, strsize: int, want: int) -> None:
    prog = [
        wide("sets", 0, 1),
        ins("flushts"),
        push("pushtr", lib.DIF_TYPE_STRING, 0, 1),
        call(lib.DIF_SUBR_STRLEN, 2),
        ret(2),
    ]
    assert_value(run(prog, strs=text, strsize=strsize), want)


def test_strlen_null_faults() -> None:
    prog = [ins("flushts"), push("pushtv", 0, 0, 1), call(lib.DIF_SUBR_STRLEN, 2), ret(2)]
    assert_fault(run(prog), lib.DTRACEFLT_BADADDR, 2, 0)


def test_rand_from_timestamp() -> None:
    lib.dif_host_set_builtin(lib.DIF_VAR_TIMESTAMP, 123456789)
    r = run([call(lib.DIF_SUBR_RAND, 1), ret(1)])
    assert_value(r, (123456789 * 2416 + 374441) % 1771875)


def test_call_missing_argument_illop() -> None:
    assert_fault(run([ins("flushts"), call(lib.DIF_SUBR_HTONS, 1), ret(1)]), lib.DTRACEFLT_ILLOP, 1)


@pytest.mark.parametrize("subr", ["MUTEX_OWNED", "D_PATH", "PROGENYOF", "GETF"])
def test_unimplemented_subroutine_illop(subr: str) -> None:
    text = (
        [ins("flushts")]
        + [push("pushtv", 0, 0, 0)] * 3
        + [call(getattr(lib, f"DIF_SUBR_{subr}"), 1), ret(1)]
    )
    assert_fault(run(text), lib.DTRACEFLT_ILLOP, 4)


def test_alloca_and_bcopy() -> None:
    text = [
        setx(0, 1),
        ins("flushts"),
        push("pushtv", 0, 0, 1),
        call(lib.DIF_SUBR_ALLOCA, 3),  # r3 = alloca(8)
        wide("sets", 0, 2),
        ins("flushts"),
        push("pushtv", 0, 0, 2),
        push("pushtv", 0, 0, 3),
        push("pushtv", 0, 0, 1),
        call(lib.DIF_SUBR_BCOPY, 4),  # bcopy("abcdefg", r3, 8)
        ins("ldx", 3, 0, 5),
        ret(5),
    ]
    r = run(text, ints=[8], strs=b"abcdefg\0")
    assert_value(r, int.from_bytes(b"abcdefg\0", "little"))


# --------------------------------------------------------- fault mapping

FLT_ORDER = [
    "BADADDR",
    "ILLOP",
    "DIVZERO",
    "KPRIV",
    "UPRIV",
    "TUPOFLOW",
    "BADALIGN",
    "NOSCRATCH",
    "BADSTACK",
]


def test_fault_code_priority() -> None:
    assert lib.dif_fault_code(0) == lib.DTRACEFLT_UNKNOWN
    assert lib.dif_fault_code(lib.DIF_F_DROP) == lib.DTRACEFLT_UNKNOWN
    for i, name in enumerate(FLT_ORDER):
        flags = 0
        for later in FLT_ORDER[i:]:
            flags |= getattr(lib, f"DIF_F_{later}")
        assert lib.dif_fault_code(flags) == getattr(lib, f"DTRACEFLT_{name}")


def test_preexisting_fault_runs_nothing() -> None:
    m = Machine([setx(0, 1), ret(1)], ints=[7])
    ms = ffi.new("struct dif_mstate *")
    ms.flags = lib.DIF_F_ILLOP
    ms.fltoffs = 1234
    assert lib.dif_emulate(m.dp, ms) == 0
    assert ms.fltoffs == 1234
