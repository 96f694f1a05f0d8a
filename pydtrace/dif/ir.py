"""The code generator's output before assembly, and the assembled DIFO.

IR instructions name their operands symbolically (registers as ints, labels
as Label objects, constants as values, strings as text); the assembler turns
them into instruction words and tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Label:
    """A branch target; placed with Instr("label", (label,))."""

    _next = 0

    def __init__(self) -> None:
        Label._next += 1
        self.n = Label._next

    def __repr__(self) -> str:
        return f"L{self.n}"


@dataclass(frozen=True)
class Instr:
    """One DIF instruction of the IR, or a label."""

    op: str  # a mnemonic from dif.opcodes, or "label"
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class DifType:
    """A DIFO's return type (struct dtrace_diftype)."""

    kind: int = 0  # DIF_TYPE_KIND_*
    ckind: int = 0  # CTF kind (1 = integer), informational
    flags: int = 0  # DIF_TF_*
    size: int = 0


@dataclass
class VarRef:
    """A variable an instruction uses (one vartab entry per scope and id)."""

    name: str
    id: int
    kind: int  # DIFV_KIND_*
    scope: int  # DIFV_SCOPE_*
    flags: int  # DIFV_F_REF | DIFV_F_MOD
    type: DifType


@dataclass
class DifoIR:
    """One DIFO before assembly: instructions, variable references, return type."""

    instrs: list[Instr] = field(default_factory=list)
    vars: list[VarRef] = field(default_factory=list)
    rtype: DifType = field(default_factory=DifType)


@dataclass
class VarEntry:
    """A DIFO's variable table entry (struct dtrace_difv)."""

    name: int  # offset in the string table
    id: int
    kind: int
    scope: int
    flags: int
    type: DifType


@dataclass
class Difo:
    """An assembled DIF object, ready for the program serializer."""

    text: list[int]
    inttab: list[int]
    strtab: bytes
    vartab: list[VarEntry]
    rtype: DifType

    def string_at(self, off: int) -> str:
        end = self.strtab.index(b"\0", off)
        return self.strtab[off:end].decode("latin-1")
