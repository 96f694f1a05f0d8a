"""A reader for the kernel's BTF (BPF Type Format) and its mapping to D types.

The raw format (Documentation/bpf/btf.rst, include/uapi/linux/btf.h): a
header (magic 0xeb9f, version 1, flags, hdr_len, then type and string
section offsets and lengths relative to the end of the header), a type
section of variable-length records (struct btf_type, then kind-specific
data) numbered from 1 (0 is void), and a string section of NUL-terminated
names.  Split BTF (a module's /sys/kernel/btf/<mod>) continues the ids and
string offsets of its base (vmlinux).

Btf parses one blob: one pass records where each type starts and indexes
names; DTypes are made on demand and cached, and struct members only when
first used, so `struct task_struct` costs a handful of conversions.
BtfTypes adapts a Btf to sema.decl.TypeSource.
"""

from __future__ import annotations

import bisect
import os
import re
import struct
import sys
from collections.abc import Iterator, Sequence

from pydtrace.sema import types as T

MAGIC = 0xEB9F

KIND_INT = 1
KIND_PTR = 2
KIND_ARRAY = 3
KIND_STRUCT = 4
KIND_UNION = 5
KIND_ENUM = 6
KIND_FWD = 7
KIND_TYPEDEF = 8
KIND_VOLATILE = 9
KIND_CONST = 10
KIND_RESTRICT = 11
KIND_FUNC = 12
KIND_FUNC_PROTO = 13
KIND_VAR = 14
KIND_DATASEC = 15
KIND_FLOAT = 16
KIND_DECL_TAG = 17
KIND_TYPE_TAG = 18
KIND_ENUM64 = 19

INT_SIGNED = 1
INT_CHAR = 2
INT_BOOL = 4

_HDR = struct.Struct("<HBBIIIII")
_TYPE = struct.Struct("<III")
_U32 = struct.Struct("<I")
_3U32 = struct.Struct("<III")
PERCPU_SECTION = ".data..percpu"
_2U32 = struct.Struct("<II")
_ENUM = struct.Struct("<Ii")

# bytes of kind-specific data after struct btf_type: fixed, per vlen item
_MODIFIERS = (KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_TYPE_TAG)


class BtfError(Exception):
    """A malformed BTF blob."""


class Btf:
    """One parsed BTF blob (optionally split on top of base)."""

    def __init__(self, data: bytes, base: Btf | None = None) -> None:
        self.data = data
        self.base = base
        if len(data) < _HDR.size:
            raise BtfError("BTF blob shorter than its header")
        magic, version, _flags, hdr_len, toff, tlen, soff, slen = _HDR.unpack_from(data)
        if magic != MAGIC:
            raise BtfError(f"bad BTF magic 0x{magic:04x}")
        if version != 1:
            raise BtfError(f"unsupported BTF version {version}")
        if hdr_len < _HDR.size or hdr_len + max(toff + tlen, soff + slen) > len(data):
            raise BtfError("BTF sections out of bounds")
        self.types_start = hdr_len + toff
        self.types_end = self.types_start + tlen
        self.strs_start = hdr_len + soff
        self.strs_end = self.strs_start + slen
        self.first_id = base.next_id if base is not None else 1
        self.str_base = base.str_total if base is not None else 0
        self._offsets: Sequence[int] | None = None
        self._typedef_offs: list[int] = []
        self._enum_index: dict[str, tuple[int, int]] | None = None
        self._cache: dict[int, T.DType] = {}
        self._strcache: dict[str, int | None] = {}
        self._typedefs: frozenset[str] | None = None

    @property
    def offsets(self) -> Sequence[int]:
        """Byte offset of every type record, by id - first_id (one pass, lazily)."""
        if self._offsets is None:
            self._offsets = self._scan()
        return self._offsets

    @property
    def next_id(self) -> int:
        return self.first_id + len(self.offsets)

    @property
    def str_total(self) -> int:
        return self.str_base + (self.strs_end - self.strs_start)

    # -- raw access -------------------------------------------------------------------

    def _scan(self) -> Sequence[int]:
        """One pass in C (libdtrace's dt_btf_scan): every record's offset, in
        id order, and every typedef's name (the pass in Python cost ~0.2 s
        of a compile on the host, seconds in the test VM)."""
        from pydtrace.abi import ffi, lib

        if sys.byteorder != "little":
            raise BtfError("BTF of another byte order")  # the '<' formats below
        cap = (self.types_end - self.types_start) // 12 + 1  # a record is at least 12 bytes
        offs = ffi.new("uint32_t[]", cap)
        tdefs = ffi.new("uint32_t[]", cap)
        ntdefs = ffi.new("size_t *")
        rc = lib.dt_btf_scan(
            ffi.from_buffer(self.data),
            self.types_start,
            self.types_end,
            offs,
            cap,
            tdefs,
            cap,
            ntdefs,
        )
        if rc < 0:
            raise BtfError(
                {
                    lib.DT_BTF_EALIGN: "BTF type section is not a whole number of words",
                    lib.DT_BTF_ETRUNC: "truncated BTF type",
                    lib.DT_BTF_EKIND: "unknown BTF kind",
                }.get(rc, f"BTF scan error {rc}")
            )
        self._typedef_offs = ffi.unpack(tdefs, ntdefs[0])
        # a view of the C array: no int object per record until one is used
        return memoryview(ffi.buffer(offs, 4 * rc)).cast("I")

    def id_at(self, off: int) -> int | None:
        """The type id whose record starts at byte offset off, if one does."""
        offsets = self.offsets
        i = bisect.bisect_left(offsets, off)
        if i < len(offsets) and offsets[i] == off:
            return self.first_id + i
        return None

    def str_offset(self, name: str) -> int | None:
        """The string-section offset of name (BTF strings are unique), or None."""
        if name in self._strcache:
            return self._strcache[name]
        found: int | None = None
        if self.base is not None:
            found = self.base.str_offset(name)
        if found is None:
            raw = name.encode() + b"\0"
            if self.data.startswith(raw, self.strs_start):
                found = self.str_base  # a split blob's first string
            else:
                pos = self.data.find(b"\0" + raw, self.strs_start, self.strs_end)
                if pos >= 0:
                    found = pos + 1 - self.strs_start + self.str_base
        self._strcache[name] = found
        return found

    def records(self, name: str, kinds: tuple[int, ...]) -> list[int]:
        """Byte offsets (in this blob) of type records named name of a kind in kinds.

        Found by searching the type section for the record header rather
        than by indexing every name, so a miss costs no scan."""
        off = self.str_offset(name)
        if off is None or off == 0:
            return []
        kindbytes = b"".join(re.escape(bytes([k, k | 0x80])) for k in kinds)
        pat = re.compile(
            re.escape(struct.pack("<I", off)) + b"..\x00[" + kindbytes + b"]", re.DOTALL
        )
        out = []
        for m in pat.finditer(self.data, self.types_start, self.types_end):
            if (m.start() - self.types_start) % 4 == 0:
                out.append(m.start())
        return out

    def string(self, off: int) -> str:
        if off < self.str_base:
            assert self.base is not None
            return self.base.string(off)
        start = self.strs_start + off - self.str_base
        if start >= self.strs_end:
            raise BtfError(f"BTF string offset {off} out of bounds")
        stop = self.data.find(b"\0", start, self.strs_end)
        if stop < 0:
            raise BtfError("unterminated BTF string")
        return self.data[start:stop].decode("utf-8", "replace")

    def _whole_string(self, off: int) -> str | None:
        """The string starting exactly at off (not inside another), else None."""
        if off < self.str_base:
            return self.base._whole_string(off) if self.base is not None else None
        start = self.strs_start + off - self.str_base
        if not self.strs_start < start < self.strs_end or (
            self.data[start - 1] != 0 and start != self.strs_start
        ):
            return None
        try:
            return self.string(off)
        except BtfError:
            return None

    def owner(self, tid: int) -> Btf:
        if tid < self.first_id:
            if self.base is None:
                raise BtfError(f"BTF type id {tid} out of range")
            return self.base.owner(tid)
        if tid >= self.next_id:
            raise BtfError(f"BTF type id {tid} out of range")
        return self

    def raw(self, tid: int) -> tuple[int, int, bool, int, str, int]:
        """(kind, vlen, kind_flag, size_or_type, name, data offset) of type tid."""
        b = self.owner(tid)
        off = b.offsets[tid - b.first_id]
        name_off, info, st = _TYPE.unpack_from(b.data, off)
        return (
            (info >> 24) & 0x1F,
            info & 0xFFFF,
            bool(info >> 31),
            st,
            b.string(name_off) if name_off else "",
            off + 12,
        )

    def _items(self, tid: int, fmt: struct.Struct) -> Iterator[tuple[int, ...]]:
        b = self.owner(tid)
        _, vlen, _, _, _, off = self.raw(tid)
        for i in range(vlen):
            yield fmt.unpack_from(b.data, off + i * fmt.size)

    def typedef_names(self) -> frozenset[str]:
        """Every typedef name (the scan lists the typedef records)."""
        if self._typedefs is None:
            self.offsets  # noqa: B018 (the scan sets _typedef_offs)
            names = {self._whole_string(off) for off in self._typedef_offs}
            names.discard(None)
            names.discard("")
            if self.base is not None:
                names |= self.base.typedef_names()
            self._typedefs = frozenset(names)  # type: ignore[arg-type]
        return self._typedefs

    def has(self, name: str, kinds: tuple[int, ...]) -> bool:
        """Is there a type named name of a kind in kinds (no full scan)?"""
        return any(b.records(name, kinds) for b in self.chain())

    def chain(self) -> list[Btf]:
        return [self] + ([self.base] if self.base is not None else [])

    def lookup(self, name: str, kinds: tuple[int, ...]) -> int | None:
        """The first type id named name whose kind is in kinds."""
        for b in self.chain():
            for off in b.records(name, kinds):
                tid = b.id_at(off)
                if tid is not None:
                    return tid
        return None

    def enum_constants(self) -> dict[str, tuple[int, int]]:
        """Every enumerator name -> (value, enum type id); built on first use."""
        if self._enum_index is None:
            index: dict[str, tuple[int, int]] = {}
            if self.base is not None:
                index.update(self.base.enum_constants())
            for i in range(len(self.offsets)):
                tid = self.first_id + i
                kind, _, flag, _, _, _ = self.raw(tid)
                if kind == KIND_ENUM:
                    for noff, val in self._items(tid, _ENUM):
                        index.setdefault(self.string(noff), (val, tid))
                elif kind == KIND_ENUM64:
                    for noff, lo, hi in self._items(tid, _3U32):
                        v = (hi << 32) | lo
                        if flag and v >> 63:
                            v -= 1 << 64
                        index.setdefault(self.string(noff), (v, tid))
            self._enum_index = index
        return self._enum_index

    # -- conversion to D types ---------------------------------------------------------

    def dtype(self, tid: int) -> T.DType:
        """The D type for BTF type tid (cached)."""
        b = self.owner(tid) if tid else self
        cached = b._cache.get(tid)
        if cached is not None:
            return cached
        t = self._convert(tid)
        b._cache[tid] = t
        return t

    def _convert(self, tid: int) -> T.DType:
        if tid == 0:
            return T.VOID
        kind, vlen, flag, st, name, off = self.raw(tid)
        data = self.owner(tid).data
        if kind == KIND_INT:
            (enc,) = _U32.unpack_from(data, off)
            bits = enc & 0xFF
            encoding = (enc >> 24) & 0xF
            if encoding & INT_BOOL:
                return T.alias(T.BOOL, name) if name != "_Bool" else T.BOOL
            size = st if st in (1, 2, 4, 8) else max(1, -(-bits // 8))
            return T.DType(
                name, "int", min(size, 8), bool(encoding & INT_SIGNED), align=min(size, 8)
            )
        if kind == KIND_FLOAT:
            return T.DType(name, "float", st)
        if kind == KIND_PTR:
            return T.pointer(self.dtype(st))
        if kind == KIND_ARRAY:
            elem, _index, n = _3U32.unpack_from(data, off)
            return T.array(self.dtype(elem), n)
        if kind in (KIND_STRUCT, KIND_UNION):
            skind = "struct" if kind == KIND_STRUCT else "union"
            t = T.new_sou(skind, name or None)
            assert t.sou is not None
            t.sou.size = st
            t.sou._loader = lambda sou, tid=tid, flag=flag: self._members(sou, tid, flag)
            return t
        if kind == KIND_FWD:
            return T.new_sou("union" if flag else "struct", name)
        if kind in (KIND_ENUM, KIND_ENUM64):
            t = T.new_enum(name or None)
            t._size = st
            t._align = st
            t.signed = flag or kind == KIND_ENUM
            assert t.enum is not None
            if kind == KIND_ENUM:
                for noff, val in self._items(tid, _ENUM):
                    t.enum.constants[self.string(noff)] = val
            else:
                for noff, lo, hi in self._items(tid, _3U32):
                    t.enum.constants[self.string(noff)] = (hi << 32) | lo
            t.enum.complete = True
            return t
        if kind == KIND_TYPEDEF:
            return T.alias(self.dtype(st), name)
        if kind in _MODIFIERS:
            return self.dtype(st)
        if kind == KIND_FUNC:
            return self.dtype(st)
        if kind == KIND_FUNC_PROTO:
            params: list[T.DType] = []
            variadic = False
            for _noff, ptype in self._items(tid, _2U32):
                if ptype == 0:
                    variadic = True
                else:
                    params.append(self.dtype(ptype))
            return T.function(self.dtype(st), params, variadic)
        if kind == KIND_VAR:
            return self.dtype(st)
        return T.VOID

    def _members(self, sou: T.Sou, tid: int, bitfields: bool) -> None:
        out: list[T.SouMember] = []
        align = 1
        for noff, mtype, moff in self._items(tid, _3U32):
            mt = self.dtype(mtype)
            bits = 0
            if bitfields:
                bits = moff >> 24
                moff &= 0xFFFFFF
            out.append(T.SouMember(self.string(noff) if noff else "", mt, moff, bits))
            align = max(align, _align_of(mt))
        sou.members = out
        sou.align = align

    def param_names(self, func: str) -> list[str] | None:
        """Argument names of kernel function func (for fbt args), if known."""
        tid = self.lookup(func, (KIND_FUNC,))
        if tid is None:
            return None
        proto = self.raw(tid)[3]
        return [self.string(n) if n else "" for n, _t in self._items(proto, _2U32)]


def _align_of(t: T.DType) -> int:
    rt = T.resolve(t)
    if rt.kind == "array":
        assert rt.ref is not None
        return _align_of(rt.ref)
    if rt.sou is not None:
        return rt.sou.align
    return max(1, min(rt.size, 8))


class BtfTypes:
    """A TypeSource over a BTF blob, loaded from path on first use."""

    def __init__(self, path: str | None = None, data: bytes | None = None) -> None:
        self.path = path
        self._data = data
        self._btf: Btf | None = None
        self._failed = False

    @property
    def btf(self) -> Btf | None:
        if self._btf is None and not self._failed:
            try:
                data = self._data
                if data is None:
                    assert self.path is not None
                    with open(self.path, "rb") as f:
                        data = f.read()
                self._btf = Btf(data)
            except (OSError, BtfError):
                self._failed = True
        return self._btf

    def has_typedef(self, name: str) -> bool:
        b = self.btf
        return b is not None and name in b.typedef_names()

    def typedef(self, name: str) -> T.DType | None:
        b = self.btf
        tid = b.lookup(name, (KIND_TYPEDEF,)) if b is not None else None
        return b.dtype(tid) if b is not None and tid is not None else None

    def tag(self, kind: str, name: str) -> T.DType | None:
        b = self.btf
        if b is None:
            return None
        kinds = {
            "struct": (KIND_STRUCT,),
            "union": (KIND_UNION,),
            "enum": (KIND_ENUM, KIND_ENUM64),
        }.get(kind, ())
        tid = b.lookup(name, kinds)
        return b.dtype(tid) if tid is not None else None

    def function(self, name: str) -> T.DType | None:
        b = self.btf
        tid = b.lookup(name, (KIND_FUNC,)) if b is not None else None
        return b.dtype(tid) if b is not None and tid is not None else None

    def enum_constant(self, name: str) -> tuple[int, T.DType] | None:
        b = self.btf
        if b is None:
            return None
        if b.str_offset(name) is None:
            return None
        found = b.enum_constants().get(name)
        return (found[0], b.dtype(found[1])) if found is not None else None

    def percpu_var(self, name: str) -> T.DType | None:
        """The type of per-CPU variable name: a VAR listed in the DATASEC
        .data..percpu (6.1's vmlinux BTF describes per-CPU variables, not
        other globals), else None."""
        b = self.btf
        if b is None or b.str_offset(name) is None:
            return None
        sec = b.lookup(PERCPU_SECTION, (KIND_DATASEC,))
        if sec is None:
            return None
        in_section = {t for t, _off, _size in b._items(sec, _3U32)}
        for owner in b.chain():
            for off in owner.records(name, (KIND_VAR,)):
                tid = owner.id_at(off)
                if tid is not None and tid in in_section:
                    return b.dtype(tid)
        return None


BTF_DIR = "/sys/kernel/btf"
VMLINUX = f"{BTF_DIR}/vmlinux"
_KERNEL: BtfTypes | None = None
_MODULES: dict[tuple[str, str], Btf | None] = {}
_MODULE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def module_names(btf_dir: str = BTF_DIR) -> list[str]:
    """The loaded modules that have BTF (their split blobs in btf_dir)."""
    try:
        names = os.listdir(btf_dir)
    except OSError:
        return []
    return sorted(n for n in names if n != "vmlinux" and _MODULE_NAME.fullmatch(n))


def module_btf(mod: str, base: Btf, btf_dir: str = BTF_DIR) -> Btf | None:
    """A loaded module's split BTF on top of base (vmlinux's), or None;
    parsed once per run."""
    key = (btf_dir, mod)
    if key not in _MODULES:
        found = None
        if mod != "vmlinux" and _MODULE_NAME.fullmatch(mod):
            try:
                with open(os.path.join(btf_dir, mod), "rb") as f:
                    found = Btf(f.read(), base)
            except (OSError, BtfError):
                found = None
        _MODULES[key] = found
    return _MODULES[key]


def kernel_types(path: str = VMLINUX) -> BtfTypes | None:
    """The running kernel's types (shared by every compiler), or None."""
    global _KERNEL
    if path != VMLINUX:
        return BtfTypes(path) if os.access(path, os.R_OK) else None
    if _KERNEL is None and os.access(path, os.R_OK):
        _KERNEL = BtfTypes(path)
    return _KERNEL
