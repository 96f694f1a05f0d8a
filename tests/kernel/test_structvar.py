"""Struct-valued D variables in the module (the values: tests/dtest/tst.structvar.d).

Variables declared by a struct value copy the struct into their own
storage with the module's checked copy: a source that cannot be read is an
invalid address (DTrace's error line, the clause abandoned, the next ones
run); task-sized elements of associative arrays from every CPU at once run
the dynamic variable space out, which is a drop, never a write past it
(the harness fails the run on any oops or warning in dmesg).
"""

from __future__ import annotations

import os
import re

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

ERROR = (r"pydtrace: error on enabled probe ID {epid} \(ID 1: dtrace:::BEGIN\): "
         r"invalid address \({addr}\) in action #{act} at DIF offset \d+\n")


def test_struct_copies_in_every_scope_and_bad_sources() -> None:
    p = pydtrace(
        "-qn",
        "BEGIN { this->t = *curthread; self->t = *curthread; g = *curthread;"
        " a[pid] = *curthread; self->a[1] = *curthread; self->t.pid = 7;"
        ' printf("%d %d %d %d %d %d\\n", this->t.pid == tid, self->t.tgid == pid, g.pid == tid,'
        " a[pid].tgid == pid, self->a[1].pid == tid, self->t.pid); }"
        ' BEGIN { this->b = *(struct task_struct *)16; printf("not reached\\n"); }'
        " BEGIN { self->b = *(struct task_struct *)24; }"
        " BEGIN { h = *(struct task_struct *)32; }"
        " BEGIN { c[1] = *(struct task_struct *)40; }"
        " BEGIN { this->p = *curpsinfo;"
        ' printf("%d %d %d %d\\n", g.pid == tid, self->t.pid, curthread->pid == tid,'
        " this->p.pr_pid == pid); exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "1 1 1 1 1 7\n1 7 1 1\n\n"
    want = "".join(ERROR.format(epid=n, addr=a, act=1)
                   for n, a in ((2, "0x10"), (3, "0x18"), (4, "0x20"), (5, "0x28")))
    assert re.fullmatch(want, p.stderr), p.stderr


def test_task_sized_elements_from_every_cpu_drop_cleanly() -> None:
    """Each store copies a whole task_struct into a new element (and a
    thread-local and a clause-local); a 64 KiB dynamic variable space holds
    only a few: the rest are dynamic variable drops, and the elements that
    were stored read back as the task they copied."""
    p = pydtrace(
        "-q", "-x", "dynvarsize=64k", "-n",
        "profile-199 { a[cpu, n++] = *curthread; self->t = *curthread; this->t = *curthread;"
        " bad += this->t.pid == tid ? 0 : 1; }"
        " BEGIN { k[0] = *curthread; }"
        " tick-1s { exit(0); }"
        ' END { printf("%d %d %d\\n", bad, n > 0, k[0].pid == tid); }',
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == "0 1 1\n\n"
    # reported as they happen: one line or more
    assert re.fullmatch(r"(pydtrace: \d+ dynamic variable drops?\n)+", p.stderr), p.stderr
