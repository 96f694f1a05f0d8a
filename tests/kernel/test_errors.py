"""Run-time faults reported as dtrace(1) does (dtrace-internals 2.9, 7.1): the
faulting clause is abandoned, the library's own ERROR clause reports it on
stderr, tracing goes on.  Test VM, module loaded."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.program.decode import decode

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def fault_site(source: str, ecb: int, opcodes: tuple[int, ...]) -> tuple[int, int]:
    """Where the compiled program of source faults: the (1-based) index of the
    first action of ECB ecb whose DIF has one of opcodes, and the byte offset
    of that instruction."""
    prog = decode(Compiler().compile(source, kind="probe", label=source).data)
    for i, act in enumerate(prog.ecbs[ecb].acts, 1):
        if act.difo is None:
            continue
        for pc, instr in enumerate(prog.difos[act.difo].text):
            if instr >> 24 in opcodes:
                return i, pc * 4
    raise AssertionError(f"no faulting instruction in {source!r}")


def test_divide_by_zero_is_reported_and_tracing_goes_on():
    src = "BEGIN { x = 0; trace(1 / x); } BEGIN { trace(7); exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_SDIV, lib.DIF_OP_UDIV))
    p = pydtrace("-qn", src)
    assert p.stderr == (
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        f"divide-by-zero in action #{action} at DIF offset {offset}\n"
    )
    assert p.stdout == "7\n"  # the faulting clause left nothing; the next one ran
    assert p.returncode == 0


def test_bad_address_is_reported_with_the_address():
    src = "BEGIN { trace(*(int *)8); } BEGIN { exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_LDSW,))
    p = pydtrace("-qn", src)
    assert p.stderr == (
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        f"invalid address (0x8) in action #{action} at DIF offset {offset}\n"
    )
    assert p.returncode == 0


def test_fault_in_a_predicate_and_the_error_probe_is_not_counted():
    src = "BEGIN / *(int *)8 == 1 / { trace(1); }"
    prog = decode(Compiler().compile(src, kind="probe", label=src).data)
    assert prog.ecbs[0].pred is not None
    pred = prog.difos[prog.ecbs[0].pred].text
    pc = next(i for i, ins in enumerate(pred) if ins >> 24 == lib.DIF_OP_LDSW)
    p = pydtrace("-n", src, "-n", "BEGIN { exit(0); }")
    # the library's ERROR clause is in no "matched" notice
    assert p.stderr == (
        "pydtrace: description 'BEGIN ' matched 1 probe\n"
        "pydtrace: description 'BEGIN ' matched 1 probe\n"
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        f"invalid address (0x8) in predicate at DIF offset {pc * 4}\n"
    )
    assert p.returncode == 0


def test_user_error_clause_still_runs():
    src = 'BEGIN { x = 0; trace(1 / x); } ERROR { printf("E %d %d\\n", arg1, arg4); exit(0); }'
    p = pydtrace("-qn", src)
    assert p.stdout == f"E 1 {lib.DTRACEFLT_DIVZERO}\n\n"
    assert "divide-by-zero" in p.stderr
    assert p.returncode == 0
