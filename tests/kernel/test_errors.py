"""Run-time faults reported as dtrace(1) does (dtrace-internals 2.9, 7.1): the
faulting clause is abandoned, the library's own ERROR clause reports it on
stderr, tracing goes on.  Test VM, module loaded."""

from __future__ import annotations

import os
import re
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


def fault_line(action: int, offset: int, text: str) -> str:
    return (
        "pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
        f"{text} in action #{action} at DIF offset {offset}\n"
    )


def test_remainder_by_zero_is_a_divide_by_zero():
    src = "BEGIN { x = 0; trace(5 % x); } BEGIN { trace(7); exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_SREM, lib.DIF_OP_UREM))
    p = pydtrace("-qn", src)
    assert p.stderr == fault_line(action, offset, "divide-by-zero")
    assert p.stdout == "7\n" and p.returncode == 0


def test_misaligned_store_is_an_alignment_fault_with_the_address():
    src = ("BEGIN { this->p = (char *)alloca(16); *(int *)(this->p + 1) = 1; } "
           "BEGIN { trace(7); exit(0); }")
    action, offset = fault_site(src, 0, (lib.DIF_OP_STW,))
    p = pydtrace("-qn", src)
    want = re.escape(fault_line(action, offset, "invalid alignment (0x@)"))
    m = re.fullmatch(want.replace("@", "([0-9a-f]+)"), p.stderr)
    assert m, p.stderr
    assert int(m.group(1), 16) % 4 == 1     # the scratch address + 1
    assert p.stdout == "7\n" and p.returncode == 0


def test_store_outside_scratch_is_an_invalid_address():
    src = "BEGIN { *(int *)curthread = 1; } BEGIN { trace(7); exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_STW,))
    p = pydtrace("-qn", src)
    assert p.stderr.startswith("pydtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): "
                               "invalid address (0x"), p.stderr
    assert p.stderr.endswith(f") in action #{action} at DIF offset {offset}\n")
    assert p.stdout == "7\n" and p.returncode == 0


def test_bad_subroutine_argument_is_an_illegal_operation():
    src = "BEGIN { trace(lltostr(5, 1)); } BEGIN { trace(7); exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_CALL,))
    p = pydtrace("-qn", src)
    assert p.stderr == fault_line(action, offset, "illegal operation")
    assert p.stdout == "7\n" and p.returncode == 0


def test_alloca_beyond_scratch_is_out_of_scratch_space():
    src = "BEGIN { trace((long)alloca(1LL << 40)); } BEGIN { trace(7); exit(0); }"
    action, offset = fault_site(src, 0, (lib.DIF_OP_CALL,))
    p = pydtrace("-qn", src)
    assert p.stderr == fault_line(action, offset, "out of scratch space")
    assert p.stdout == "7\n" and p.returncode == 0
