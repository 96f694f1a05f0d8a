"""-S instruction text: each form as illumos dt_dis.c prints it (the
mnemonic in "%-4s", then the operands of that form's format string)."""

from __future__ import annotations

import pytest

from pydtrace.abi import lib
from pydtrace.dif.disasm import instr_text
from pydtrace.dif.ir import Difo, DifType, VarEntry
from pydtrace.dif.opcodes import encode

# strtab: "abc" at 0, "x" at 4, "t" at 6
_STRTAB = b"abc\0x\0t\0"
_GLB, _TLS = int(lib.DIFV_SCOPE_GLOBAL), int(lib.DIFV_SCOPE_THREAD)
_VARS = [
    VarEntry(4, 1280, int(lib.DIFV_KIND_SCALAR), _GLB, 0, DifType()),
    VarEntry(6, 1281, int(lib.DIFV_KIND_SCALAR), _TLS, 0, DifType()),
]
_DIFO = Difo(text=[], inttab=[0x123456789, 7], strtab=_STRTAB, vartab=_VARS, rtype=DifType())


def wide(op: str, field: int, low: int) -> int:
    """setx/sets/ldgs/stgs/call...: a 16-bit field in bits 23..8."""
    return encode(op, field >> 8, field & 0xFF, low)


def push(op: str, ty: int, r2: int, rs: int) -> int:
    return encode(op, ty, r2, rs)


CASES = [
    (encode("add", 1, 2, 3), "add  %r1, %r2, %r3"),
    (encode("copys", 4, 5, 6), "copys %r4, %r5, %r6"),
    (encode("sra", 1, 2, 3), "sra  %r1, %r2, %r3"),
    (encode("mov", 7, 0, 2), "mov  %r7, %r2"),
    (encode("allocs", 1, 0, 2), "allocs %r1, %r2"),
    (encode("cmp", 1, 2, 0), "cmp  %r1, %r2"),
    (encode("scmp", 3, 4, 0), "scmp %r3, %r4"),
    (encode("tst", 5, 0, 0), "tst  %r5"),
    ((lib.DIF_OP_BA << 24) | 12, "ba   12"),
    ((lib.DIF_OP_BGEU << 24) | 0x10203, "bgeu 66051"),
    (encode("ldsb", 1, 0, 2), "ldsb [%r1], %r2"),
    (encode("ldx", 3, 0, 4), "ldx  [%r3], %r4"),
    (encode("uldsw", 1, 0, 2), "uldsw [%r1], %r2"),
    (encode("stb", 1, 0, 2), "stb  %r1, [%r2]"),
    (encode("ret", 0, 0, 1), "ret  %r1"),
    (encode("nop"), "nop"),
    (encode("popts"), "popts"),
    (encode("flushts"), "flushts"),
    (wide("setx", 0, 1), "setx DT_INTEGER[0], %r1\t\t! 0x123456789"),
    (wide("setx", 1, 2), "setx DT_INTEGER[1], %r2\t\t! 0x7"),
    (wide("setx", 2, 2), "setx DT_INTEGER[2], %r2"),  # past inttab: no note
    (wide("sets", 0, 3), 'sets DT_STRING[0], %r3\t\t! "abc"'),
    (wide("sets", 1, 3), 'sets DT_STRING[1], %r3\t\t! "bc"'),
    (wide("sets", 99, 3), "sets DT_STRING[99], %r3"),
    (wide("ldgs", 1280, 1), 'ldgs DT_VAR(1280), %r1\t\t! DT_VAR(1280) = "x"'),
    (wide("stgs", 1280, 4), 'stgs %r4, DT_VAR(1280)\t\t! DT_VAR(1280) = "x"'),
    (wide("ldts", 1281, 1), 'ldts DT_VAR(1281), %r1\t\t! DT_VAR(1281) = "t"'),
    (wide("stts", 1281, 2), 'stts %r2, DT_VAR(1281)\t\t! DT_VAR(1281) = "t"'),
    # the name is looked up in the mnemonic's scope only
    (wide("ldts", 1280, 1), "ldts DT_VAR(1280), %r1"),
    (wide("ldls", 1280, 1), "ldls DT_VAR(1280), %r1"),
    (wide("ldgaa", 1280, 1), 'ldgaa DT_VAR(1280), %r1\t\t! DT_VAR(1280) = "x"'),
    (wide("sttaa", 1281, 3), 'sttaa %r3, DT_VAR(1281)\t\t! DT_VAR(1281) = "t"'),
    (
        encode("ldga", int(lib.DIF_VAR_ARGS), 2, 1),
        f"ldga DT_VAR({int(lib.DIF_VAR_ARGS)}), %r2, %r1",
    ),
    (
        wide("call", int(lib.DIF_SUBR_STRLEN), 1),
        f"call DIF_SUBR({int(lib.DIF_SUBR_STRLEN)}), %r1\t\t! strlen",
    ),
    (wide("call", 0xFFFF, 1), "call DIF_SUBR(65535), %r1\t\t! unknown"),
    (push("pushtv", 0, 0, 2), "pushtv DT_TYPE(0), %r2\t\t! DT_TYPE(0) = D type"),
    (push("pushtr", 1, 2, 1), "pushtr DT_TYPE(1), %r2, %r1\t! DT_TYPE(1) = string"),
    (push("pushtv", 7, 0, 2), "pushtv DT_TYPE(7), %r2"),
    (0, "(illegal opcode)"),
    (0xFF000000, "(illegal opcode)"),
]


@pytest.mark.parametrize(("word", "text"), CASES, ids=[t for _, t in CASES])
def test_instruction_text_is_dt_dis(word: int, text: str) -> None:
    assert instr_text(_DIFO, word) == text
