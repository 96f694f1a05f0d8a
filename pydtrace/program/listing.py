"""The -S listing: every DIFO of a compiled program, clause by clause."""

from __future__ import annotations

from pydtrace.dif.disasm import listing
from pydtrace.program.decode import decode


def program_listing(data: bytes) -> str:
    """Each ECB's predicate and action DIFOs in DTrace's listing style; a DIFO
    shared by several ECBs is listed once, where it first appears."""
    prog = decode(data)
    out: list[str] = []
    shown: set[int] = set()
    for ecb in prog.ecbs:
        where = ":".join(ecb.probe)
        parts = [("predicate", ecb.pred)]
        parts += [(f"action #{i}", a.difo) for i, a in enumerate(ecb.acts, 1)]
        for what, index in parts:
            if index is None or index in shown:
                continue
            shown.add(index)
            out.append(listing(prog.difos[index], f"DIFO {index} ({where} {what})"))
    return "".join(f"\n{text}\n" for text in out)
