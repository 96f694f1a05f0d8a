"""The assembler: IR -> instruction words, integer/string/variable tables.

Labels are resolved to absolute instruction indexes and must lie ahead of
the branch (DIF branches are forward only).  setx constants are
de-duplicated into the integer table; sets strings and variable names are
de-duplicated into one NUL-terminated string table.
"""

from __future__ import annotations

from pydtrace.abi import lib
from pydtrace.dif.ir import Difo, DifoIR, Instr, Label, VarEntry
from pydtrace.dif.opcodes import OPCODES, encode
from pydtrace.errors import library_error

MASK64 = (1 << 64) - 1


class StringTable:
    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets: dict[bytes, int] = {}

    def add(self, s: str | bytes) -> int:
        b = s.encode("latin-1") if isinstance(s, str) else s
        off = self.offsets.get(b)
        if off is None:
            off = len(self.data)
            self.data += b + b"\0"
            self.offsets[b] = off
        return off


def assemble(ir: DifoIR) -> Difo:
    positions: dict[Label, int] = {}
    body: list[Instr] = []
    for ins in ir.instrs:
        if ins.op == "label":
            lab = ins.args[0]
            assert isinstance(lab, Label)
            positions[lab] = len(body)
        else:
            body.append(ins)
    if len(body) > lib.DTRACE_DIFO_MAXLEN:
        raise library_error("EDT_DIFSIZE")
    ints: list[int] = []
    intidx: dict[int, int] = {}
    strs = StringTable()
    text: list[int] = []
    for pc, ins in enumerate(body):
        form = OPCODES[ins.op].form
        a = ins.args
        if form == "R3":
            word = encode(ins.op, a[0], a[1], a[2])  # type: ignore[arg-type]
        elif form in ("R2", "LOAD"):
            word = encode(ins.op, a[0], 0, a[1])  # type: ignore[arg-type]
        elif form == "CMP":
            word = encode(ins.op, a[0], a[1], 0)  # type: ignore[arg-type]
        elif form == "TST":
            word = encode(ins.op, a[0])  # type: ignore[arg-type]
        elif form == "BR":
            target = positions[a[0]]  # type: ignore[index]
            if not pc < target < len(body):
                raise AssertionError(f"branch at {pc} to {target} is not forward")
            word = (OPCODES[ins.op].code << 24) | target
        elif form == "SETX":
            value = int(a[0]) & MASK64  # type: ignore[call-overload]
            if value not in intidx:
                intidx[value] = len(ints)
                ints.append(value)
            word = (OPCODES["setx"].code << 24) | (intidx[value] << 8) | int(a[1])  # type: ignore[call-overload]
        elif form == "SETS":
            off = strs.add(a[0])  # type: ignore[arg-type]
            word = (OPCODES["sets"].code << 24) | (off << 8) | int(a[1])  # type: ignore[call-overload]
        elif form in ("LDV", "STV", "CALL"):
            word = (OPCODES[ins.op].code << 24) | (int(a[0]) << 8) | int(a[1])  # type: ignore[call-overload]
        elif form == "LDA":
            word = encode(ins.op, a[0], a[1], a[2])  # type: ignore[arg-type]
        elif form == "RET":
            word = encode(ins.op, 0, 0, a[0])  # type: ignore[arg-type]
        elif form == "NOARG":
            word = encode(ins.op)
        elif form == "STORE":
            word = encode(ins.op, a[0], 0, a[1])  # type: ignore[arg-type]
        elif form == "PUSH":
            word = encode(ins.op, a[0], a[1], a[2])  # type: ignore[arg-type]
        else:
            raise AssertionError(f"cannot assemble {ins.op}")
        text.append(word)
    if len(ints) > lib.DIF_INTOFF_MAX + 1 or len(strs.data) > lib.DIF_STROFF_MAX + 1:
        raise library_error("EDT_DIFSIZE")
    vartab = [VarEntry(strs.add(v.name), v.id, v.kind, v.scope, v.flags, v.type) for v in ir.vars]
    return Difo(text, ints, bytes(strs.data), vartab, ir.rtype)
