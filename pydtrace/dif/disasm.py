"""A DIFO listing in DTrace's style (dt_dis.c), for -S."""

from __future__ import annotations

from pydtrace.dif.ir import Difo
from pydtrace.dif.opcodes import decode

_SCOPES = {0: "glb", 1: "tls", 2: "loc"}


def _subr_names() -> dict[int, str]:
    from pydtrace.abi import lib
    return {int(getattr(lib, a)): a[len("DIF_SUBR_"):].lower()
            for a in dir(lib) if a.startswith("DIF_SUBR_") and a != "DIF_SUBR_MAX"}


_SUBRS = _subr_names()


def _varname(difo: Difo, vid: int, op: str = "") -> str:
    scope = 2 if op[2:3] == "l" else 1 if op[2:3] == "t" else 0
    for v in difo.vartab:
        if v.id == vid and (v.scope == scope or not op):
            return difo.string_at(v.name)
    return "?"


def instr_text(difo: Difo, word: int) -> str:
    op, r1, r2, rd = decode(word)
    if op is None:
        return f"illegal op {(word >> 24) & 0xff}"
    n, form = op.name, op.form
    if form == "R3":
        return f"{n:<8}%r{r1}, %r{r2}, %r{rd}"
    if form == "R2":
        return f"{n:<8}%r{r1}, %r{rd}"
    if form == "LOAD":
        return f"{n:<8}[%r{r1}], %r{rd}"
    if form == "CMP":
        return f"{n:<8}%r{r1}, %r{r2}"
    if form == "TST":
        return f"{n:<8}%r{r1}"
    if form == "BR":
        return f"{n:<8}{word & 0xffffff}"
    if form == "RET":
        return f"{n:<8}%r{rd}"
    if form == "NOARG":
        return n
    idx = (word >> 8) & 0xffff
    if form == "SETX":
        value = difo.inttab[idx] if idx < len(difo.inttab) else 0
        return f"{n:<8}DT_INTEGER[{idx}], %r{rd}\t\t! 0x{value:x}"
    if form == "SETS":
        s = difo.string_at(idx) if idx < len(difo.strtab) else ""
        return f'{n:<8}DT_STRING[{idx}], %r{rd}\t\t! "{s}"'
    if form in ("LDV", "STV"):
        name = _varname(difo, idx, n)
        if form == "LDV":
            return f"{n:<8}DT_VAR({idx}), %r{rd}\t\t! DT_VAR({idx}) = \"{name}\""
        return f"{n:<8}%r{rd}, DT_VAR({idx})\t\t! DT_VAR({idx}) = \"{name}\""
    if form == "CALL":
        return f"{n:<8}DIF_SUBR({idx}), %r{rd}\t\t! {_SUBRS.get(idx, '?')}"
    if form == "STORE":
        return f"{n:<8}%r{r1}, [%r{rd}]"
    return f"{n:<8}0x{r1:x}, %r{r2}, %r{rd}"


def listing(difo: Difo, title: str = "DIFO") -> str:
    lines = [f"{title}:", "OFF OPCODE      INSTRUCTION"]
    for pc, word in enumerate(difo.text):
        lines.append(f"{pc:02d}: {word:08x}    {instr_text(difo, word)}")
    if difo.vartab:
        lines += ["", "NAME             ID   KND SCP FLAG TYPE"]
        for v in difo.vartab:
            kind = "scl" if v.kind == 1 else "arr"
            flags = ("r" if v.flags & 1 else "") + ("w" if v.flags & 2 else "")
            lines.append(f"{difo.string_at(v.name):<16} {v.id:<4x} {kind} "
                         f"{_SCOPES.get(v.scope, '?')} {flags:<4} size {v.type.size}")
    t = difo.rtype
    rkind = "string" if t.kind == 1 else "D type"
    lines += ["", f"RETURN {rkind} (size {t.size}{', by ref' if t.flags & 1 else ''})"]
    return "\n".join(lines)
