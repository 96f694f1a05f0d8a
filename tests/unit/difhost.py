"""Helpers for running compiled DIF in the host build of the interpreter."""

from __future__ import annotations

from typing import Any

from pydtrace.dif.ir import Difo


def dif_object(ffi: Any, difo: Difo, keep: list[object]) -> Any:
    """A `struct dif_object` for a decoded DIFO; its tables are appended to
    keep, which must live as long as the object is used."""
    obj = ffi.new("struct dif_object *")
    text = ffi.new("uint32_t[]", difo.text or [0])
    ints = ffi.new("unsigned long long[]", difo.inttab or [0])
    strs = ffi.new("char[]", difo.strtab or b"\0")
    vars_ = ffi.new("struct dtrace_difv[]", max(1, len(difo.vartab)))
    for i, v in enumerate(difo.vartab):
        vars_[i].dtdv_name = v.name
        vars_[i].dtdv_id = v.id
        vars_[i].dtdv_kind = v.kind
        vars_[i].dtdv_scope = v.scope
        vars_[i].dtdv_flags = v.flags
        vars_[i].dtdv_type.dtdt_kind = v.type.kind
        vars_[i].dtdv_type.dtdt_ckind = v.type.ckind
        vars_[i].dtdv_type.dtdt_flags = v.type.flags
        vars_[i].dtdv_type.dtdt_size = v.type.size
    obj.text, obj.len = text, len(difo.text)
    obj.inttab, obj.intlen = ints, len(difo.inttab)
    obj.strtab, obj.strlen = strs, len(difo.strtab)
    obj.vartab, obj.varlen = vars_, len(difo.vartab)
    obj.rtype.dtdt_kind = difo.rtype.kind
    obj.rtype.dtdt_ckind = difo.rtype.ckind
    obj.rtype.dtdt_flags = difo.rtype.flags
    obj.rtype.dtdt_size = difo.rtype.size
    keep += [text, ints, strs, vars_, obj]
    return obj
