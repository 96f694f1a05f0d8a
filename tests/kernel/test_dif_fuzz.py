"""Random DIF at the module (the DIF issue's guest fuzz test): thousands of
random programs, biased towards ones the validator accepts, go to ENABLE;
each accepted one runs on live probes (BEGIN in the ENABLE caller's
process, ERROR when it faults, END at STOP), its buffer is read, and it is
torn down.  Every outcome must be a clean refusal or a clean run: the test
harness fails the whole run on any kernel complaint in dmesg.  The host
fuzzer (make fuzz) covers the same validator and interpreter under ASan."""

from __future__ import annotations

import errno
import os
import random

import pytest
from progbuild import NONE, Act, Builder, Difo, Ecb, ret

from pydtrace.abi import lib

needs_module = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

PROGRAMS = 5000
M64 = (1 << 64) - 1
BUILTINS = [
    int(getattr(lib, "DIF_VAR_" + n))
    for n in ("ARG0", "ARG1", "PID", "TID", "EXECNAME", "TIMESTAMP", "CPU", "PROBEFUNC")
]
STRTAB = b"abc\0/etc/hostname\0%s\0\0"


def random_word(rng: random.Random) -> int:
    """One instruction: any opcode, register fields 0..7 and, for a third of
    them, a small table index or a built-in variable id in place of r1/r2."""
    op = rng.randint(1, int(lib.DIF_OP_MAX))
    rd = rng.randint(1, 7)
    roll = rng.random()
    if roll < 0.2:  # setx/sets/branches: a small index or label
        return op << 24 | rng.randrange(12) << 8 | rd
    if roll < 0.3:  # ldgs and friends: a built-in variable
        return op << 24 | rng.choice(BUILTINS) << 8 | rd
    return op << 24 | rng.randrange(8) << 16 | rng.randrange(8) << 8 | rd


def random_difo(rng: random.Random) -> Difo:
    text = [random_word(rng) for _ in range(rng.randint(0, 6))] + [ret(rng.randrange(8))]
    ints = [
        rng.choice(
            [
                0,
                1,
                8,
                255,
                M64,
                1 << 63,
                rng.getrandbits(64),
                0xFFFF888000000000 + rng.randrange(1 << 24),
            ]
        )
        for _ in range(rng.randint(0, 4))
    ]
    if rng.random() < 0.2:  # a string result, by reference
        return Difo(
            text, ints, STRTAB, size=64, kind=lib.DIF_TYPE_KIND_STRING, flags=lib.DIF_TF_BYREF
        )
    return Difo(text, ints, STRTAB, size=rng.choice([1, 2, 4, 8]))


def random_program(rng: random.Random) -> bytes:
    b = Builder()
    acts = [Act(lib.DTRACEACT_DIFEXPR, b.difo(random_difo(rng))) for _ in range(rng.randint(1, 3))]
    pred = b.difo(random_difo(rng)) if rng.random() < 0.5 else NONE
    b.acts.extend(acts)
    b.ecbs.append(Ecb(("dtrace", "", "", "BEGIN"), (0, len(acts)), pred))
    b.ecbs.append(Ecb(("dtrace", "", "", "END"), (0, len(acts))))
    b.ecbs.append(Ecb(("dtrace", "", "", "ERROR"), (0, 1)))
    b.opts = [(int(lib.DTRACEOPT_BUFSIZE), 64 << 10)]
    return bytes(b.build())


@needs_module
def test_random_programs_are_refused_or_run_safely() -> None:
    from progbuild import Consumer

    rng = random.Random(20261127)
    accepted = refused = 0
    for _ in range(PROGRAMS):
        prog = random_program(rng)
        c = Consumer()
        try:
            err, de = c.enable_raw(prog)
            assert err in (0, errno.EINVAL, errno.E2BIG), errno.errorcode.get(err)
            if err:
                assert 1 <= de.de_err <= lib.DTRACE_EPROG_MAX
                refused += 1
                continue
            accepted += 1
            cpu = c.go()
            c.status()
            c.bufsnap(cpu, 64 << 10)
            c.stop()
            c.status()
        finally:
            c.close()
    # both outcomes are exercised, many times (most random programs are
    # refused: about 3% of 3000 with up to 12 instructions were accepted)
    assert accepted >= PROGRAMS // 100 and refused >= PROGRAMS // 2, (accepted, refused)
