"""One DIF instruction as text, exactly as illumos's dt_dis.c prints it.

Followed: illumos usr/src/lib/libdtrace/common/dt_dis.c, its optab and the
per-form printers, whose fprintf formats are (the mnemonic always "%-4s"):

    dt_dis_log     "%-4s %%r%u, %%r%u, %%r%u"        r1, r2, rd
    dt_dis_r1rd    "%-4s %%r%u, %%r%u"               r1, rd (not, mov, allocs)
    dt_dis_cmp     "%-4s %%r%u, %%r%u"               r1, r2 (cmp, scmp)
    dt_dis_tst     "%-4s %%r%u"                      r1
    dt_dis_branch  "%-4s %u"                         label
    dt_dis_load    "%-4s [%%r%u], %%r%u"             r1, rd
    dt_dis_store   "%-4s %%r%u, [%%r%u]"             r1, rd
    dt_dis_ret     "%-4s %%r%u"                      rd
    dt_dis_str     "%s"                              (nop, popts, flushts)
    dt_dis_setx    "%-4s DT_INTEGER[%u], %%r%u" + "\\t\\t! 0x%llx" if in inttab
    dt_dis_sets    "%-4s DT_STRING[%u], %%r%u" + "\\t\\t! \\"%s\\"" if in strtab
    dt_dis_lda     "%-4s DT_VAR(%u), %%r%u, %%r%u"   var (r1), r2, rd
    dt_dis_ldv     "%-4s DT_VAR(%u), %%r%u"          var, rd
    dt_dis_stv     "%-4s %%r%u, DT_VAR(%u)"          rs, var
                   each + "\\t\\t! DT_VAR(%u) = \\"%s\\"" when the vartab has
                   the variable in the scope of the mnemonic's third letter
    dt_dis_call    "%-4s DIF_SUBR(%u), %%r%u\\t\\t! %s"  (dtrace_subrstr's name,
                   "unknown" for an unknown subroutine)
    dt_dis_pushts  pushtv "%-4s DT_TYPE(%u), %%r%u" + "\\t\\t! DT_TYPE(%u) = %s"
                   pushtr "%-4s DT_TYPE(%u), %%r%u, %%r%u" + "\\t! DT_TYPE(%u) = %s"
                   (type names "D type", "string"; none for other types)
    dt_dis_xlate   "%-4s DT_XLREF[%u], %%r%u" (pydtrace DIFOs carry no
                   translator member table, so never the "! DT_XLREF" note)
    optab[0]       "(illegal opcode)" for an opcode with no entry.
"""

from __future__ import annotations

from pydtrace.abi import lib
from pydtrace.dif.ir import Difo
from pydtrace.dif.opcodes import decode

_SCOPES = {0: "glb", 1: "tls", 2: "loc"}
_TNAMES = ("D type", "string")  # dt_dis_pushts' tnames[]


def _subr_names() -> dict[int, str]:
    return {
        int(getattr(lib, a)): a[len("DIF_SUBR_") :].lower()
        for a in dir(lib)
        if a.startswith("DIF_SUBR_") and a != "DIF_SUBR_MAX"
    }


_SUBRS = _subr_names()


def _scope_of(op: str) -> int | None:
    """dt_dis_scope(): the variable scope a mnemonic names (its 3rd letter)."""
    return {
        "l": int(lib.DIFV_SCOPE_LOCAL),
        "t": int(lib.DIFV_SCOPE_THREAD),
        "g": int(lib.DIFV_SCOPE_GLOBAL),
    }.get(op[2:3])


def _varname(difo: Difo, vid: int, op: str) -> str | None:
    """dt_dis_varname(): the name of variable vid in op's scope, if any."""
    scope = _scope_of(op)
    for v in difo.vartab:
        if v.id == vid and v.scope == scope:
            return difo.string_at(v.name) if v.name < len(difo.strtab) else None
    return None


def _var_note(difo: Difo, vid: int, op: str) -> str:
    name = _varname(difo, vid, op)
    return "" if name is None else f'\t\t! DT_VAR({vid}) = "{name}"'


def instr_text(difo: Difo, word: int) -> str:
    """The text dt_dis() prints after "NN: xxxxxxxx    " for word."""
    op, r1, r2, rd = decode(word)
    if op is None:
        return "(illegal opcode)"
    n, form = op.name, op.form
    idx = (word >> 8) & 0xFFFF
    if form == "R3":
        return f"{n:<4} %r{r1}, %r{r2}, %r{rd}"
    if form == "R2":
        return f"{n:<4} %r{r1}, %r{rd}"
    if form == "CMP":
        return f"{n:<4} %r{r1}, %r{r2}"
    if form == "TST":
        return f"{n:<4} %r{r1}"
    if form == "BR":
        return f"{n:<4} {word & 0xFFFFFF}"
    if form == "LOAD":
        return f"{n:<4} [%r{r1}], %r{rd}"
    if form == "STORE":
        return f"{n:<4} %r{r1}, [%r{rd}]"
    if form == "RET":
        return f"{n:<4} %r{rd}"
    if form == "NOARG":
        return n
    if form == "SETX":
        note = f"\t\t! 0x{difo.inttab[idx]:x}" if idx < len(difo.inttab) else ""
        return f"{n:<4} DT_INTEGER[{idx}], %r{rd}{note}"
    if form == "SETS":
        note = f'\t\t! "{difo.string_at(idx)}"' if idx < len(difo.strtab) else ""
        return f"{n:<4} DT_STRING[{idx}], %r{rd}{note}"
    if form == "LDA":
        return f"{n:<4} DT_VAR({r1}), %r{r2}, %r{rd}{_var_note(difo, r1, n)}"
    if form == "LDV":
        return f"{n:<4} DT_VAR({idx}), %r{rd}{_var_note(difo, idx, n)}"
    if form == "STV":
        return f"{n:<4} %r{rd}, DT_VAR({idx}){_var_note(difo, idx, n)}"
    if form == "CALL":
        return f"{n:<4} DIF_SUBR({idx}), %r{rd}\t\t! {_SUBRS.get(idx, 'unknown')}"
    if form == "PUSH":
        ty = r1
        if n == "pushtv":
            text, pad = f"{n:<4} DT_TYPE({ty}), %r{rd}", "\t\t"
        else:
            text, pad = f"{n:<4} DT_TYPE({ty}), %r{r2}, %r{rd}", "\t"
        return text + (f"{pad}! DT_TYPE({ty}) = {_TNAMES[ty]}" if ty < len(_TNAMES) else "")
    # XL: xlate, xlarg
    return f"{n:<4} DT_XLREF[{idx}], %r{rd}"


def listing(difo: Difo, title: str = "DIFO") -> str:
    """A plain listing of one DIFO (instructions, variables, return type);
    -S uses pydtrace.program.listing, dt_dis()'s whole form."""
    lines = [f"{title}:", "OFF OPCODE      INSTRUCTION"]
    for pc, word in enumerate(difo.text):
        lines.append(f"{pc:02d}: {word:08x}    {instr_text(difo, word)}")
    if difo.vartab:
        lines += ["", "NAME             ID   KND SCP FLAG TYPE"]
        for v in difo.vartab:
            kind = "scl" if v.kind == 1 else "arr"
            flags = ("r" if v.flags & 1 else "") + ("w" if v.flags & 2 else "")
            lines.append(
                f"{difo.string_at(v.name):<16} {v.id:<4x} {kind} "
                f"{_SCOPES.get(v.scope, '?')} {flags:<4} size {v.type.size}"
            )
    t = difo.rtype
    rkind = "string" if t.kind == 1 else "D type"
    lines += ["", f"RETURN {rkind} (size {t.size}{', by ref' if t.flags & 1 else ''})"]
    return "\n".join(lines)
