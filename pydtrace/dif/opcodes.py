"""The one DIF opcode table in Python, built from the uapi header's DIF_OP_*.

Each opcode has a mnemonic (the lower-case name) and a form (how its fields
are packed and printed; dtrace-internals.md 1.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace.abi import lib

_FORM_OF: dict[str, str] = {}
for _n in (
    "or",
    "xor",
    "and",
    "sll",
    "srl",
    "sub",
    "add",
    "mul",
    "sdiv",
    "udiv",
    "srem",
    "urem",
    "sra",
    "copys",
):
    _FORM_OF[_n] = "R3"
for _n in ("not", "mov", "allocs"):
    _FORM_OF[_n] = "R2"
for _n in (
    "ldsb",
    "ldsh",
    "ldsw",
    "ldub",
    "lduh",
    "lduw",
    "ldx",
    "uldsb",
    "uldsh",
    "uldsw",
    "uldub",
    "ulduh",
    "ulduw",
    "uldx",
    "rldsb",
    "rldsh",
    "rldsw",
    "rldub",
    "rlduh",
    "rlduw",
    "rldx",
):
    _FORM_OF[_n] = "LOAD"
_FORM_OF.update({"cmp": "CMP", "scmp": "CMP", "tst": "TST"})
for _n in ("ba", "be", "bne", "bg", "bgu", "bge", "bgeu", "bl", "blu", "ble", "bleu"):
    _FORM_OF[_n] = "BR"
_FORM_OF.update(
    {
        "ret": "RET",
        "nop": "NOARG",
        "popts": "NOARG",
        "flushts": "NOARG",
        "setx": "SETX",
        "sets": "SETS",
        "ldga": "LDA",
        "ldta": "LDA",
        "call": "CALL",
        "pushtr": "PUSH",
        "pushtv": "PUSH",
        "xlate": "XL",
        "xlarg": "XL",
    }
)
for _n in ("ldgs", "ldts", "ldls", "ldgaa", "ldtaa"):
    _FORM_OF[_n] = "LDV"
for _n in ("stgs", "stts", "stls", "stgaa", "sttaa"):
    _FORM_OF[_n] = "STV"
for _n in ("stb", "sth", "stw", "stx"):
    _FORM_OF[_n] = "STORE"


@dataclass(frozen=True)
class Opcode:
    """A DIF opcode: mnemonic, number and operand form."""

    name: str
    code: int
    form: str


def _build() -> dict[str, Opcode]:
    table: dict[str, Opcode] = {}
    for attr in dir(lib):
        if attr.startswith("DIF_OP_") and attr != "DIF_OP_MAX":
            name = attr[len("DIF_OP_") :].lower()
            table[name] = Opcode(name, int(getattr(lib, attr)), _FORM_OF[name])
    return table


OPCODES: dict[str, Opcode] = _build()
BY_CODE: dict[int, Opcode] = {op.code: op for op in OPCODES.values()}
FORMS: frozenset[str] = frozenset(_FORM_OF.values())


def encode(op: str, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    return (OPCODES[op].code << 24) | ((r1 & 0xFF) << 16) | ((r2 & 0xFF) << 8) | (rd & 0xFF)


def decode(word: int) -> tuple[Opcode | None, int, int, int]:
    """(opcode or None if illegal, r1, r2, rd)."""
    return BY_CODE.get((word >> 24) & 0xFF), (word >> 16) & 0xFF, (word >> 8) & 0xFF, word & 0xFF
