import re
from pathlib import Path

from pydtrace.abi import lib
from pydtrace.dif.opcodes import BY_CODE, OPCODES, decode, encode

HEADER = Path(__file__).resolve().parents[2] / "kmod/include/uapi/linux/dtrace.h"


def test_table_matches_the_header() -> None:
    text = HEADER.read_text()
    names = set(re.findall(r"#define\s+DIF_OP_([A-Z]+)\s", text)) - {"MAX"}
    assert {n.upper() for n in OPCODES} == names
    for name, op in OPCODES.items():
        assert op.code == getattr(lib, "DIF_OP_" + name.upper())
    assert max(BY_CODE) == lib.DIF_OP_MAX
    assert len(BY_CODE) == len(OPCODES)


def test_encodings_from_the_reference() -> None:
    assert encode("add", 1, 2, 3) == 0x07010203
    assert encode("ret", 0, 0, 1) == 0x23000001
    op, r1, r2, rd = decode(0x07010203)
    assert (op.name, r1, r2, rd) == ("add", 1, 2, 3)
    assert decode(0)[0] is None


def test_forms() -> None:
    assert OPCODES["setx"].form == "SETX"
    assert OPCODES["ldgs"].form == "LDV" and OPCODES["stgs"].form == "STV"
    assert OPCODES["bgeu"].form == "BR" and OPCODES["scmp"].form == "CMP"
    assert OPCODES["rldx"].form == "LOAD"
