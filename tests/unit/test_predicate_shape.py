"""The code the compiler makes of `pid|tid|cpu <relop> constant`: the module
recognizes exactly this shape (kmod/program.c, dtrace_difo_relconst()) and
then decides the predicate without DIF; a change here loses that path."""

from __future__ import annotations

import pytest

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.program.decode import decode

BRANCH = {
    "==": "BE",
    "!=": "BNE",
    "<": "BL",
    "<=": "BLE",
    ">": "BG",
    ">=": "BGE",
}


def op(i: int) -> int:
    return (i >> 24) & 0xFF


@pytest.mark.parametrize("var", ["pid", "tid", "cpu"])
@pytest.mark.parametrize("rel", sorted(BRANCH))
def test_relconst_shape(var: str, rel: str) -> None:
    data = (
        Compiler(kernel=None)
        .compile(f"BEGIN /{var} {rel} 42/ {{ trace(1); }}", kind="probe", label="x")
        .data
    )
    prog = decode(data)
    pred = prog.ecbs[0].pred
    assert pred is not None
    d = prog.difos[pred]
    t = d.text
    a, b = t[0] & 0xFF, t[1] & 0xFF
    assert [op(i) for i in t] == [
        lib.DIF_OP_LDGS,
        lib.DIF_OP_SETX,
        lib.DIF_OP_CMP,
        getattr(lib, "DIF_OP_" + BRANCH[rel]),
        lib.DIF_OP_MOV,
        lib.DIF_OP_BA,
        lib.DIF_OP_SETX,
        lib.DIF_OP_RET,
    ]
    assert a != 0 and b != 0 and a != b
    assert t[2] == (lib.DIF_OP_CMP << 24) | (a << 16) | (b << 8)
    assert t[3] & 0xFFFFFF == 6 and t[5] & 0xFFFFFF == 7
    assert t[4] == (lib.DIF_OP_MOV << 24) | a
    assert t[6] & 0xFF == a and d.inttab[(t[6] >> 8) & 0xFFFF] == 1
    assert t[7] == (lib.DIF_OP_RET << 24) | a
    assert d.inttab[(t[1] >> 8) & 0xFFFF] == 42
