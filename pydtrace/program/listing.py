"""The -S listing: every DIFO of a compiled program, as dt_dis() prints it.

Followed: illumos usr/src/lib/libdtrace/common/dt_dis.c (dt_dis,
dt_dis_typestr).  Each DIFO is "\\nDIFO %p returns %s\\n", the header
"%-3s %-8s    %s\\n" of OFF OPCODE INSTRUCTION, one "%02lu: %08x    "
line per instruction, then (when the DIFO has variables) the variable table
"%-16s %-4u %-3s %-3s %-4s %s"; each instruction's text is dt_dis.c's
per-form format (pydtrace.dif.disasm lists them).  The one difference is
the DIFO's address: illumos prints the address of its in-memory dtrace_difo_t; pydtrace prints
the DIFO's index in the program in the same 0x-prefixed hex form (0x0 for
the first, ...), so a listing is reproducible from run to run.
"""

from __future__ import annotations

from pydtrace.abi import lib
from pydtrace.dif.disasm import instr_text
from pydtrace.dif.ir import Difo, DifType
from pydtrace.program.decode import decode

# CTF kinds (ctf.h), the names dt_dis_typestr() gives them
_CKINDS = (
    "unknown",
    "integer",
    "float",
    "pointer",
    "array",
    "function",
    "struct",
    "union",
    "enum",
    "forward",
    "typedef",
    "volatile",
    "const",
    "restrict",
)


def typestr(t: DifType) -> str:
    """dt_dis_typestr(): "D type (integer) (size 8)", "string (unknown) by
    ref (size 256)", "D type (pointer) by user ref (size 16)"."""
    if t.kind == lib.DIF_TYPE_KIND_CTF:
        kind = "D type"
    elif t.kind == lib.DIF_TYPE_KIND_STRING:
        kind = "string"
    else:
        kind = f"0x{t.kind:x}"
    ckind = _CKINDS[t.ckind] if 0 <= t.ckind < len(_CKINDS) else f"0x{t.ckind:x}"
    byuref = getattr(lib, "DIF_TF_BYUREF", 0)
    if t.flags & (lib.DIF_TF_BYREF | byuref):
        user = "user " if t.flags & byuref else ""
        return f"{kind} ({ckind}) by {user}ref (size {t.size})"
    return f"{kind} ({ckind}) (size {t.size})"


def _var_flags(flags: int) -> str:
    ref, mod = int(lib.DIFV_F_REF), int(lib.DIFV_F_MOD)
    out = f"/0x{flags & ~(ref | mod):x}" if flags & ~(ref | mod) else ""
    out += "/r" if flags & ref else ""
    out += "/w" if flags & mod else ""
    return out[1:]


def _kind(kind: int) -> str:
    if kind == lib.DIFV_KIND_ARRAY:
        return "arr"
    return "scl" if kind == lib.DIFV_KIND_SCALAR else str(kind)


def _scope(scope: int) -> str:
    names = {
        int(lib.DIFV_SCOPE_GLOBAL): "glb",
        int(lib.DIFV_SCOPE_THREAD): "tls",
        int(lib.DIFV_SCOPE_LOCAL): "loc",
    }
    return names.get(scope, str(scope))


def difo_listing(difo: Difo, addr: int) -> str:
    """dt_dis() of one DIFO, addr standing for its address."""
    lines = [
        f"\nDIFO 0x{addr:x} returns {typestr(difo.rtype)}",
        f"{'OFF':<3} {'OPCODE':<8}    INSTRUCTION",
    ]
    for pc, word in enumerate(difo.text):
        lines.append(f"{pc:02d}: {word:08x}    {instr_text(difo, word)}")
    if difo.vartab:
        lines.append(f"\n{'NAME':<16} {'ID':<4} KND SCP FLAG TYPE")
    for v in difo.vartab:
        name, flags = difo.string_at(v.name), _var_flags(v.flags)
        lines.append(
            f"{name:<16} {v.id:<4} {_kind(v.kind):<3} {_scope(v.scope):<3} "
            f"{flags:<4} {typestr(v.type)}"
        )
    return "".join(line + "\n" for line in lines)


def program_listing(data: bytes) -> str:
    """Each ECB's predicate and action DIFOs in dt_dis()'s form, in ECB
    order; a DIFO shared by several ECBs is listed once, where it first
    appears."""
    prog = decode(data)
    out: list[str] = []
    shown: set[int] = set()
    for ecb in prog.ecbs:
        for index in [ecb.pred] + [a.difo for a in ecb.acts]:
            if index is None or index in shown:
                continue
            shown.add(index)
            out.append(difo_listing(prog.difos[index], index))
    return "".join(out)
