"""Build the struct dtrace_prog blob for DTRACEIOC_ENABLE.

Layout (uapi dtrace.h): header, ECB descriptions, action descriptions, DIFO
descriptions, option descriptions, then the data: per DIFO its text
(4-aligned), integer table (8-aligned), string table and variable table
(4-aligned).  Struct layouts and sizes come from cffi; nothing by hand.
"""

from __future__ import annotations

from pydtrace.abi import ffi, lib
from pydtrace.dif.ir import Difo
from pydtrace.errors import DError
from pydtrace.program import EcbDesc

NONE = int(lib.DTRACE_NONE)

_PROBE_FIELDS = (
    ("dtpd_provider", lib.DTRACE_PROVNAMELEN),
    ("dtpd_mod", lib.DTRACE_MODNAMELEN),
    ("dtpd_func", lib.DTRACE_FUNCNAMELEN),
    ("dtpd_name", lib.DTRACE_NAMELEN),
)


def _align(n: int, a: int) -> int:
    return (n + a - 1) & ~(a - 1)


def _bytes(cdata: object) -> bytes:
    return bytes(ffi.buffer(cdata))


def _check_probe(probe: tuple[str, str, str, str]) -> list[bytes]:
    out = []
    for value, (_, size) in zip(probe, _PROBE_FIELDS, strict=True):
        b = value.encode("latin-1", "replace")
        if len(b) >= size:
            raise DError(
                "D_PDESC_INVAL",
                f'invalid probe description "{":".join(probe)}": '
                "Probe description component is too long",
            )
        out.append(b)
    return out


def serialize(ecbs: list[EcbDesc], difos: list[Difo], options: list[tuple[int, int]]) -> bytes:
    nacts = sum(len(e.acts) for e in ecbs)
    off = ffi.sizeof("struct dtrace_prog")
    ecboff = off = _align(off, 8)
    off += len(ecbs) * ffi.sizeof("struct dtrace_ecbdesc")
    actoff = off = _align(off, 8)
    off += nacts * ffi.sizeof("struct dtrace_actdesc")
    difooff = off = _align(off, 8)
    off += len(difos) * ffi.sizeof("struct dtrace_difodesc")
    optoff = off = _align(off, 8)
    off += len(options) * ffi.sizeof("struct dtrace_optdesc")

    data = bytearray()
    base = _align(off, 8)
    descs = []
    vsize = ffi.sizeof("struct dtrace_difv")
    for d in difos:
        dd = ffi.new("struct dtrace_difodesc *")
        dd.dd_rtype.dtdt_kind = d.rtype.kind
        dd.dd_rtype.dtdt_ckind = d.rtype.ckind
        dd.dd_rtype.dtdt_flags = d.rtype.flags
        dd.dd_rtype.dtdt_size = d.rtype.size
        data += bytes(_align(len(data), 4) - len(data))
        dd.dd_textoff = base + len(data)
        dd.dd_textlen = len(d.text)
        for w in d.text:
            data += w.to_bytes(4, "little")
        data += bytes(_align(len(data), 8) - len(data))
        dd.dd_intoff = base + len(data) if d.inttab else 0
        dd.dd_intlen = len(d.inttab)
        for v in d.inttab:
            data += v.to_bytes(8, "little")
        dd.dd_stroff = base + len(data) if d.strtab else 0
        dd.dd_strlen = len(d.strtab)
        data += d.strtab
        data += bytes(_align(len(data), 4) - len(data))
        dd.dd_varoff = base + len(data) if d.vartab else 0
        dd.dd_varlen = len(d.vartab)
        for ent in d.vartab:
            v = ffi.new("struct dtrace_difv *")
            v.dtdv_name = ent.name
            v.dtdv_id = ent.id
            v.dtdv_kind = ent.kind
            v.dtdv_scope = ent.scope
            v.dtdv_flags = ent.flags
            v.dtdv_type.dtdt_kind = ent.type.kind
            v.dtdv_type.dtdt_ckind = ent.type.ckind
            v.dtdv_type.dtdt_flags = ent.type.flags
            v.dtdv_type.dtdt_size = ent.type.size
            b = _bytes(v)
            assert len(b) == vsize
            data += b
        descs.append(dd)
    total = _align(base + len(data), 8)
    if total > lib.DTRACE_PROG_MAXSIZE:
        raise DError("D_UNKNOWN", "program exceeds the maximum program size")

    buf = bytearray(total)
    hdr = ffi.new("struct dtrace_prog *")
    hdr.dp_magic = lib.DTRACE_PROG_MAGIC
    hdr.dp_version = lib.DTRACE_PROG_VERSION
    hdr.dp_size = total
    hdr.dp_necbs = len(ecbs)
    hdr.dp_ecboff = ecboff
    hdr.dp_nacts = nacts
    hdr.dp_actoff = actoff
    hdr.dp_ndifos = len(difos)
    hdr.dp_difooff = difooff
    hdr.dp_nopts = len(options)
    hdr.dp_optoff = optoff
    _put(buf, 0, _bytes(hdr))

    esize = ffi.sizeof("struct dtrace_ecbdesc")
    asize = ffi.sizeof("struct dtrace_actdesc")
    act = 0
    for i, e in enumerate(ecbs):
        ed = ffi.new("struct dtrace_ecbdesc *")
        ed.ed_pred = NONE if e.pred is None else e.pred
        ed.ed_act = act
        ed.ed_nacts = len(e.acts)
        ed.ed_uarg = e.uarg
        for value, (fname, _) in zip(_check_probe(e.probe), _PROBE_FIELDS, strict=True):
            ffi.memmove(getattr(ed.ed_probe, fname), value, len(value))
        _put(buf, ecboff + i * esize, _bytes(ed))
        for a in e.acts:
            ad = ffi.new("struct dtrace_actdesc *")
            ad.ad_difo = NONE if a.difo is None else a.difo
            ad.ad_kind = a.kind
            ad.ad_ntuple = a.ntuple
            ad.ad_format = a.format
            ad.ad_arg = a.arg
            ad.ad_uarg = a.uarg
            _put(buf, actoff + act * asize, _bytes(ad))
            act += 1
    dsize = ffi.sizeof("struct dtrace_difodesc")
    for i, dd in enumerate(descs):
        _put(buf, difooff + i * dsize, _bytes(dd))
    osize = ffi.sizeof("struct dtrace_optdesc")
    for i, (optid, value) in enumerate(options):
        od = ffi.new("struct dtrace_optdesc *")
        od.do_option = optid
        od.do_value = value
        _put(buf, optoff + i * osize, _bytes(od))
    _put(buf, base, bytes(data))
    return bytes(buf)


def _put(buf: bytearray, off: int, b: bytes) -> None:
    buf[off : off + len(b)] = b
