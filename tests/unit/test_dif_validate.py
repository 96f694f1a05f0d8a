"""dif_validate() on the host build (pydtrace._difhost): table-driven.

Each case is a DIFO (instructions, integer table, string table, variable
table, return type) and the verdict: accepted, or the DTRACE_EPROG_* reason
and the instruction index the validator must report.  Opcode and reason
numbers come from the cffi module, never from this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

difhost = pytest.importorskip("pydtrace._difhost")
ffi, lib = difhost.ffi, difhost.lib

NONE = lib.DTRACE_NONE
UBASE = lib.DIF_VAR_OTHER_UBASE


def op(name: str) -> int:
    return int(getattr(lib, f"DIF_OP_{name.upper()}"))


def ins(name: str, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    """DIF_INSTR_FMT(op, r1, r2, rd)."""
    return (op(name) << 24) | (r1 << 16) | (r2 << 8) | rd


def raw(opcode: int, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    return (opcode << 24) | (r1 << 16) | (r2 << 8) | rd


def br(name: str, label: int) -> int:
    return (op(name) << 24) | label


def wide(name: str, value: int, rd: int) -> int:
    """setx/sets/ldgs/stgs/call ...: a 16-bit field in bits 23..8."""
    return (op(name) << 24) | (value << 8) | rd


def push(name: str, typ: int, r2: int, rs: int) -> int:
    return (op(name) << 24) | (typ << 16) | (r2 << 8) | rs


def ret(rd: int) -> int:
    return ins("ret", rd=rd)


def var(
    vid: int, scope: int, kind: int, size: int = 8, flags: int = 0, tkind: int = 0
) -> dict[str, Any]:
    return {"id": vid, "scope": scope, "kind": kind, "size": size, "flags": flags, "tkind": tkind}


G, T, L = lib.DIFV_SCOPE_GLOBAL, lib.DIFV_SCOPE_THREAD, lib.DIFV_SCOPE_LOCAL
SCALAR, ARRAY = lib.DIFV_KIND_SCALAR, lib.DIFV_KIND_ARRAY
BYREF = lib.DIF_TF_BYREF


@dataclass
class Difo:
    text: list[int]
    ints: list[int] = field(default_factory=list)
    strs: bytes = b""
    vars: list[dict[str, Any]] = field(default_factory=list)
    rsize: int = 8
    rflags: int = 0
    len_override: int | None = None
    _keep: list[Any] = field(default_factory=list)

    def obj(self) -> Any:
        dp = ffi.new("struct dif_object *")
        text = ffi.new("uint32_t[]", self.text or [0])
        ints = ffi.new("unsigned long long[]", self.ints or [0])
        strs = ffi.new("char[]", self.strs or b"\0")
        vtab = ffi.new("struct dtrace_difv[]", max(1, len(self.vars)))
        for i, v in enumerate(self.vars):
            vtab[i].dtdv_id = v["id"]
            vtab[i].dtdv_scope = v["scope"]
            vtab[i].dtdv_kind = v["kind"]
            vtab[i].dtdv_flags = 0
            vtab[i].dtdv_type.dtdt_kind = v["tkind"]
            vtab[i].dtdv_type.dtdt_flags = v["flags"]
            vtab[i].dtdv_type.dtdt_size = v["size"]
        self._keep = [text, ints, strs, vtab]
        dp.text = text
        dp.len = len(self.text) if self.len_override is None else self.len_override
        dp.inttab = ints
        dp.intlen = len(self.ints)
        dp.strtab = strs
        dp.strlen = len(self.strs)
        dp.vartab = vtab
        dp.varlen = len(self.vars)
        dp.rtype.dtdt_size = self.rsize
        dp.rtype.dtdt_flags = self.rflags
        return dp


def validate(d: Difo) -> tuple[int, int, int, Any]:
    dp = d.obj()
    err = ffi.new("struct dif_verr *")
    rc = lib.dif_validate(dp, err)
    return rc, err.err, err.pc, dp


OK = (0, 0)

# (id, Difo, (reason name or None, pc))
CASES: list[tuple[str, Difo, tuple[str | None, int]]] = [
    ("empty", Difo([]), (None, 0)),
    ("ret-r0", Difo([ret(0)]), (None, 0)),
    ("setx-ret", Difo([wide("setx", 0, 1), ret(1)], ints=[5]), (None, 0)),
    ("arith", Difo([ins("add", 1, 2, 3), ins("sdiv", 3, 1, 7), ret(7)]), (None, 0)),
    ("fwd-branch", Difo([br("ba", 2), ins("nop"), ret(0)]), (None, 0)),
    # branches
    ("backward", Difo([ins("nop"), br("ba", 0), ret(0)]), ("BRANCH", 1)),
    ("to-self", Difo([ins("nop"), br("be", 1), ret(0)]), ("BRANCH", 1)),
    ("past-end", Difo([br("bne", 2), ret(0)]), ("BRANCH", 0)),
    ("huge-label", Difo([br("bleu", 0xFFFFFF), ret(0)]), ("BRANCH", 0)),
    # %r0
    ("add-r0", Difo([ins("add", 1, 2, 0), ret(0)]), ("R0", 0)),
    ("mov-r0", Difo([ins("mov", 1, 0, 0), ret(0)]), ("R0", 0)),
    ("setx-r0", Difo([wide("setx", 0, 0), ret(0)], ints=[1]), ("R0", 0)),
    ("sets-r0", Difo([wide("sets", 0, 0), ret(0)], strs=b"a\0"), ("R0", 0)),
    ("ldx-r0", Difo([ins("ldx", 1, 0, 0), ret(0)]), ("R0", 0)),
    ("stx-to-r0", Difo([ins("stx", 1, 0, 0), ret(0)]), ("R0", 0)),
    ("ldgs-r0", Difo([wide("ldgs", lib.DIF_VAR_PID, 0), ret(0)]), ("R0", 0)),
    ("call-r0", Difo([wide("call", lib.DIF_SUBR_RAND, 0), ret(0)]), ("R0", 0)),
    ("allocs-r0", Difo([ins("allocs", 1, 0, 0), ret(0)]), ("R0", 0)),
    # register numbers
    ("r1-8", Difo([ins("add", 8, 1, 2), ret(2)]), ("REG", 0)),
    ("r2-8", Difo([ins("or", 1, 8, 2), ret(2)]), ("REG", 0)),
    ("rd-8", Difo([ins("xor", 1, 2, 8), ret(2)]), ("REG", 0)),
    ("rd-255", Difo([ins("mov", 1, 0, 255), ret(0)]), ("REG", 0)),
    ("ret-r8", Difo([ret(8)]), ("REG", 0)),
    ("cmp-r9", Difo([ins("cmp", 1, 9), ret(0)]), ("REG", 0)),
    ("ldga-ri", Difo([ins("ldga", 0, 8, 1), ret(1)]), ("REG", 0)),
    ("pushtv-rs", Difo([push("pushtv", 0, 0, 8), ret(0)]), ("REG", 0)),
    ("stgs-rs", Difo([wide("stgs", UBASE, 8), ret(0)], vars=[var(UBASE, G, SCALAR)]), ("REG", 0)),
    # reserved bits
    ("mov-r2", Difo([ins("mov", 1, 2, 3), ret(3)]), ("RSVBITS", 0)),
    ("cmp-rd", Difo([ins("cmp", 1, 2, 3), ret(0)]), ("RSVBITS", 0)),
    ("tst-r2", Difo([ins("tst", 1, 2), ret(0)]), ("RSVBITS", 0)),
    ("nop-bits", Difo([ins("nop", rd=1), ret(0)]), ("RSVBITS", 0)),
    ("ret-r1", Difo([ins("ret", 1, 0, 1)]), ("RSVBITS", 0)),
    ("flushts-bits", Difo([ins("flushts", 1), ret(0)]), ("RSVBITS", 0)),
    ("ldx-r2", Difo([ins("ldx", 1, 1, 2), ret(2)]), ("RSVBITS", 0)),
    # tables
    ("setx-idx", Difo([wide("setx", 1, 1), ret(1)], ints=[7]), ("INTIDX", 0)),
    ("setx-noints", Difo([wide("setx", 0, 1), ret(1)]), ("INTIDX", 0)),
    ("sets-off", Difo([wide("sets", 2, 1), ret(1)], strs=b"a\0"), ("STRIDX", 0)),
    ("sets-last", Difo([wide("sets", 1, 1), ret(1)], strs=b"a\0"), (None, 0)),
    ("strtab-nul", Difo([ret(0)], strs=b"abc"), ("STRTAB", NONE)),
    ("too-long", Difo([ret(0)], len_override=lib.DTRACE_DIFO_MAXLEN + 1), ("DIFO", NONE)),
    # last instruction
    ("no-ret", Difo([ins("nop")]), ("RET", 0)),
    ("no-ret-2", Difo([ret(1), wide("setx", 0, 1)], ints=[1]), ("RET", 1)),
    ("rsize-3", Difo([ret(0)], rsize=3), ("RET", NONE)),
    ("rsize-16", Difo([ret(0)], rsize=16), ("RET", NONE)),
    ("rsize-byref", Difo([ret(0)], rsize=3, rflags=BYREF), (None, 0)),
    ("rsize-0", Difo([ret(0)], rsize=0), (None, 0)),
    # opcodes
    ("op-0", Difo([raw(0), ret(0)]), ("OPCODE", 0)),
    ("op-xlate", Difo([raw(lib.DIF_OP_XLATE), ret(0)]), ("OPCODE", 0)),
    ("op-xlarg", Difo([raw(lib.DIF_OP_XLARG), ret(0)]), ("OPCODE", 0)),
    ("op-max+1", Difo([raw(lib.DIF_OP_MAX + 1), ret(0)]), ("OPCODE", 0)),
    ("op-255", Difo([ins("nop"), raw(255), ret(0)]), ("OPCODE", 1)),
    ("first-error-wins", Difo([ins("nop"), ins("add", 1, 2, 0), raw(0), ret(0)]), ("R0", 1)),
    # subroutines and tuples
    ("subr-max", Difo([wide("call", lib.DIF_SUBR_MAX, 1), ret(1)]), (None, 0)),
    ("subr-max+1", Difo([wide("call", lib.DIF_SUBR_MAX + 1, 1), ret(1)]), ("SUBR", 0)),
    ("pushtr-str", Difo([push("pushtr", lib.DIF_TYPE_STRING, 0, 1), ret(0)]), (None, 0)),
    ("pushtr-type2", Difo([push("pushtr", 2, 0, 1), ret(0)]), ("TUPLE", 0)),
    ("pushtv-str", Difo([push("pushtv", lib.DIF_TYPE_STRING, 0, 1), ret(0)]), ("TUPLE", 0)),
    # variables named by instructions
    ("ldgs-builtin", Difo([wide("ldgs", lib.DIF_VAR_PID, 1), ret(1)]), (None, 0)),
    ("ldgs-below-min", Difo([wide("ldgs", 0x80, 1), ret(1)]), ("VAR", 0)),
    ("stgs-builtin", Difo([wide("stgs", lib.DIF_VAR_PID, 1), ret(0)]), ("VAR", 0)),
    ("ldgs-undeclared", Difo([wide("ldgs", UBASE, 1), ret(1)]), ("VAR", 0)),
    (
        "ldgs-declared",
        Difo([wide("ldgs", UBASE, 1), ret(1)], vars=[var(UBASE, G, SCALAR)]),
        (None, 0),
    ),
    (
        "ldgs-thread-entry",
        Difo([wide("ldgs", UBASE, 1), ret(1)], vars=[var(UBASE, T, SCALAR)]),
        ("VAR", 0),
    ),
    (
        "ldgs-array-entry",
        Difo([wide("ldgs", UBASE, 1), ret(1)], vars=[var(UBASE, G, ARRAY)]),
        ("VAR", 0),
    ),
    (
        "ldgs-other-id",
        Difo([wide("ldgs", UBASE + 1, 1), ret(1)], vars=[var(UBASE, G, SCALAR)]),
        ("VAR", 0),
    ),
    (
        "stts-declared",
        Difo([wide("stts", UBASE, 1), ret(0)], vars=[var(UBASE, T, SCALAR)]),
        (None, 0),
    ),
    (
        "stts-global-entry",
        Difo([wide("stts", UBASE, 1), ret(0)], vars=[var(UBASE, G, SCALAR)]),
        ("VAR", 0),
    ),
    (
        "ldls-declared",
        Difo(
            [wide("ldls", UBASE + 3, 1), ret(1)],
            vars=[var(UBASE, G, SCALAR), var(UBASE + 3, L, SCALAR)],
        ),
        (None, 0),
    ),
    (
        "stls-thread-entry",
        Difo([wide("stls", UBASE, 1), ret(0)], vars=[var(UBASE, T, SCALAR)]),
        ("VAR", 0),
    ),
    (
        "ldgaa-declared",
        Difo([wide("ldgaa", UBASE, 1), ret(1)], vars=[var(UBASE, G, ARRAY)]),
        (None, 0),
    ),
    (
        "ldgaa-scalar-entry",
        Difo([wide("ldgaa", UBASE, 1), ret(1)], vars=[var(UBASE, G, SCALAR)]),
        ("VAR", 0),
    ),
    (
        "sttaa-global-entry",
        Difo([wide("sttaa", UBASE, 1), ret(0)], vars=[var(UBASE, G, ARRAY)]),
        ("VAR", 0),
    ),
    (
        "ldtaa-declared",
        Difo([wide("ldtaa", UBASE, 1), ret(1)], vars=[var(UBASE, T, ARRAY)]),
        (None, 0),
    ),
    # variable table entries
    ("vartab-scope", Difo([ret(0)], vars=[var(UBASE, 3, SCALAR)]), ("VARTAB", NONE)),
    ("vartab-kind", Difo([ret(0)], vars=[var(UBASE, G, 2)]), ("VARTAB", NONE)),
    ("vartab-zero-byref", Difo([ret(0)], vars=[var(UBASE, G, SCALAR, 0, BYREF)]), ("VARTAB", NONE)),
    (
        "vartab-big-global",
        Difo([ret(0)], vars=[var(UBASE, G, SCALAR, 16 * 1024 + 1, BYREF)]),
        ("VARTAB", NONE),
    ),
    (
        "vartab-big-local",
        Difo([ret(0)], vars=[var(UBASE, L, SCALAR, 16 * 1024 + 1, BYREF)]),
        (None, 0),
    ),
    ("vartab-type-kind", Difo([ret(0)], vars=[var(UBASE, G, SCALAR, tkind=7)]), ("VARTAB", NONE)),
    (
        "vartab-string",
        Difo([ret(0)], vars=[var(UBASE, G, SCALAR, 256, BYREF, lib.DIF_TYPE_KIND_STRING)]),
        (None, 0),
    ),
]


@pytest.mark.parametrize("difo,verdict", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_validate(difo: Difo, verdict: tuple[str | None, int]) -> None:
    rc, err, pc, _ = validate(difo)
    reason, want_pc = verdict
    if reason is None:
        assert (rc, err, pc) == (0, lib.DTRACE_EPROG_NONE, NONE)
    else:
        want = getattr(lib, f"DTRACE_EPROG_{reason}")
        assert (rc, err, pc) == (-1, want, want_pc)


def test_every_valid_opcode_has_a_rule() -> None:
    """Every opcode 1..DIF_OP_MAX except xlate/xlarg is known to the
    validator: with all fields zero it is refused for a field reason or
    accepted, never as an invalid opcode."""
    for code in range(1, lib.DIF_OP_MAX + 1):
        d = Difo([raw(code, 0, 0, 1), ins("nop"), ret(0)])
        _, err, _, _ = validate(d)
        if code in (lib.DIF_OP_XLATE, lib.DIF_OP_XLARG):
            assert err == lib.DTRACE_EPROG_OPCODE
        else:
            assert err != lib.DTRACE_EPROG_OPCODE, code


@pytest.mark.parametrize(
    "subr,destructive",
    [
        (lib.DIF_SUBR_COPYOUT, 1),
        (lib.DIF_SUBR_COPYOUTSTR, 1),
        (lib.DIF_SUBR_STRLEN, 0),
    ],
)
def test_destructive(subr: int, destructive: int) -> None:
    rc, _, _, dp = validate(Difo([wide("call", subr, 1), ret(1)]))
    assert rc == 0
    assert dp.destructive == destructive


def test_destructive_reset() -> None:
    d = Difo([ret(0)])
    dp = d.obj()
    dp.destructive = 1
    assert lib.dif_validate(dp, ffi.new("struct dif_verr *")) == 0
    assert dp.destructive == 0


def test_vartab_too_large() -> None:
    many = [var(UBASE + i, G, SCALAR) for i in range(2000)]
    rc, err, _, _ = validate(Difo([ret(0)], vars=many))
    assert rc == -1 and err == lib.DTRACE_EPROG_VARTAB


def test_null_table_with_length() -> None:
    dp = Difo([ret(0)]).obj()
    dp.intlen = 3
    dp.inttab = ffi.NULL
    err = ffi.new("struct dif_verr *")
    assert lib.dif_validate(dp, err) == -1
    assert err.err == lib.DTRACE_EPROG_DIFO
