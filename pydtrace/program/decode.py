"""Parse a struct dtrace_prog blob back into descriptions (tests, -S, debugging)."""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace.abi import ffi, lib
from pydtrace.dif.ir import Difo, DifType, VarEntry
from pydtrace.program import ActDesc, EcbDesc

NONE = int(lib.DTRACE_NONE)


@dataclass
class Decoded:
    """An enabling blob read back: its ECBs, DIFOs and options."""

    size: int
    ecbs: list[EcbDesc]
    difos: list[Difo]
    options: list[tuple[int, int]]


def _struct(blob: bytes, off: int, ctype: str) -> object:
    size = ffi.sizeof(ctype)
    if off < 0 or off + size > len(blob):
        raise ValueError(f"{ctype} at {off} lies outside the program")
    p = ffi.new(ctype + " *")
    ffi.memmove(p, blob[off : off + size], size)
    return p


def _cstr(arr: object) -> str:
    return ffi.string(arr).decode("latin-1")  # type: ignore[no-any-return]


def _diftype(t: object) -> DifType:
    return DifType(t.dtdt_kind, t.dtdt_ckind, t.dtdt_flags, t.dtdt_size)  # type: ignore[attr-defined]


def decode(blob: bytes) -> Decoded:
    h = _struct(blob, 0, "struct dtrace_prog")
    if h.dp_magic != lib.DTRACE_PROG_MAGIC or h.dp_version != lib.DTRACE_PROG_VERSION:  # type: ignore[attr-defined]
        raise ValueError("bad program header")
    if h.dp_size != len(blob):  # type: ignore[attr-defined]
        raise ValueError("dp_size does not match the blob")
    acts = []
    asize = ffi.sizeof("struct dtrace_actdesc")
    for i in range(h.dp_nacts):  # type: ignore[attr-defined]
        a = _struct(blob, h.dp_actoff + i * asize, "struct dtrace_actdesc")  # type: ignore[attr-defined]
        acts.append(
            ActDesc(
                None if a.ad_difo == NONE else a.ad_difo,
                a.ad_kind,  # type: ignore[attr-defined]
                a.ad_format,
                a.ad_ntuple,
                a.ad_arg,
                a.ad_uarg,
            )
        )  # type: ignore[attr-defined]
    ecbs = []
    esize = ffi.sizeof("struct dtrace_ecbdesc")
    for i in range(h.dp_necbs):  # type: ignore[attr-defined]
        e = _struct(blob, h.dp_ecboff + i * esize, "struct dtrace_ecbdesc")  # type: ignore[attr-defined]
        p = e.ed_probe  # type: ignore[attr-defined]
        probe = (_cstr(p.dtpd_provider), _cstr(p.dtpd_mod), _cstr(p.dtpd_func), _cstr(p.dtpd_name))
        ecbs.append(
            EcbDesc(
                probe,
                None if e.ed_pred == NONE else e.ed_pred,  # type: ignore[attr-defined]
                acts[e.ed_act : e.ed_act + e.ed_nacts],
                e.ed_uarg,
            )
        )  # type: ignore[attr-defined]
    difos = []
    dsize = ffi.sizeof("struct dtrace_difodesc")
    vsize = ffi.sizeof("struct dtrace_difv")
    for i in range(h.dp_ndifos):  # type: ignore[attr-defined]
        d = _struct(blob, h.dp_difooff + i * dsize, "struct dtrace_difodesc")  # type: ignore[attr-defined]
        text = [
            int.from_bytes(blob[d.dd_textoff + 4 * k : d.dd_textoff + 4 * k + 4], "little")  # type: ignore[attr-defined]
            for k in range(d.dd_textlen)
        ]  # type: ignore[attr-defined]
        ints = [
            int.from_bytes(blob[d.dd_intoff + 8 * k : d.dd_intoff + 8 * k + 8], "little")  # type: ignore[attr-defined]
            for k in range(d.dd_intlen)
        ]  # type: ignore[attr-defined]
        strtab = blob[d.dd_stroff : d.dd_stroff + d.dd_strlen]  # type: ignore[attr-defined]
        vartab = []
        for k in range(d.dd_varlen):  # type: ignore[attr-defined]
            v = _struct(blob, d.dd_varoff + k * vsize, "struct dtrace_difv")  # type: ignore[attr-defined]
            vartab.append(
                VarEntry(
                    v.dtdv_name,
                    v.dtdv_id,
                    v.dtdv_kind,
                    v.dtdv_scope,  # type: ignore[attr-defined]
                    v.dtdv_flags,
                    _diftype(v.dtdv_type),
                )
            )  # type: ignore[attr-defined]
        difos.append(Difo(text, ints, bytes(strtab), vartab, _diftype(d.dd_rtype)))  # type: ignore[attr-defined]
    opts = []
    osize = ffi.sizeof("struct dtrace_optdesc")
    for i in range(h.dp_nopts):  # type: ignore[attr-defined]
        o = _struct(blob, h.dp_optoff + i * osize, "struct dtrace_optdesc")  # type: ignore[attr-defined]
        opts.append((o.do_option, o.do_value))  # type: ignore[attr-defined]
    return Decoded(h.dp_size, ecbs, difos, opts)  # type: ignore[attr-defined]
