"""Hand-built programs and raw ioctls for the kernel tests (no compiler).

A small DIF assembler, a program builder with variable tables and
aggregation tuples, and a /dev/dtrace consumer with the snapshot and
description ioctls.  Every number comes from the uapi header through the
cffi module (pydtrace.abi).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pydtrace.abi import ffi, lib

DEV = "/dev/dtrace"
NONE = 0xFFFFFFFF  # DTRACE_NONE
M64 = (1 << 64) - 1
UBASE = lib.DIF_VAR_OTHER_UBASE

# ---------------------------------------------------------------------------
# DIF assembly
# ---------------------------------------------------------------------------


def copy_recs(recs: Any, n: int) -> list[SimpleNamespace]:
    """The first n records of a cffi recdesc array, copied: an element of a
    cffi struct array does not keep the array alive."""
    names = [name for name, _ in ffi.typeof("struct dtrace_recdesc").fields]
    return [SimpleNamespace(**{k: getattr(recs[i], k) for k in names}) for i in range(n)]


def ins(op: int, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    return ((op << 24) | (r1 << 16) | (r2 << 8) | rd) & 0xFFFFFFFF


def wide(op: int, value: int, rd: int) -> int:
    """setx/sets/variable/call instructions: a 16-bit field, then rd/rs."""
    return ((op << 24) | ((value & 0xFFFF) << 8) | rd) & 0xFFFFFFFF


def setx(index: int, rd: int) -> int:
    return wide(lib.DIF_OP_SETX, index, rd)


def sets(off: int, rd: int) -> int:
    return wide(lib.DIF_OP_SETS, off, rd)


def var(opname: str, vid: int, reg: int) -> int:
    """ldgs/stgs/ldls/stls/ldts/stts/ldgaa/stgaa/ldtaa/sttaa vid, reg."""
    return wide(getattr(lib, f"DIF_OP_{opname.upper()}"), vid, reg)


def push(by_ref: bool, typ: int, r2: int, rs: int) -> int:
    op = lib.DIF_OP_PUSHTR if by_ref else lib.DIF_OP_PUSHTV
    return ((op << 24) | (typ << 16) | (r2 << 8) | rs) & 0xFFFFFFFF


def flushts() -> int:
    return ins(lib.DIF_OP_FLUSHTS)


def ret(rd: int) -> int:
    return ins(lib.DIF_OP_RET, 0, 0, rd)


def add(r1: int, r2: int, rd: int) -> int:
    return ins(lib.DIF_OP_ADD, r1, r2, rd)


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


@dataclass
class Var:
    """One variable table entry."""

    vid: int
    scope: int
    kind: int = lib.DIFV_KIND_SCALAR
    tkind: int = lib.DIF_TYPE_KIND_CTF
    tflags: int = 0
    tsize: int = 8


def string_var(vid: int, scope: int, size: int, kind: int = lib.DIFV_KIND_SCALAR) -> Var:
    return Var(vid, scope, kind, lib.DIF_TYPE_KIND_STRING, lib.DIF_TF_BYREF, size)


@dataclass
class Difo:
    text: list[int]
    ints: list[int] = field(default_factory=list)
    strtab: bytes = b""
    size: int = 8  # rtype.dtdt_size
    kind: int = 0  # DIF_TYPE_KIND_CTF
    flags: int = 0
    vars: list[Var] = field(default_factory=list)


def const_difo(value: int, size: int = 8) -> Difo:
    return Difo(text=[setx(0, 1), ret(1)], ints=[value], size=size)


def void_difo(value: int) -> Difo:
    """An expression of void type: the increment argument of quantize."""
    return Difo(text=[setx(0, 1), ret(1)], ints=[value], size=0)


def builtin_difo(vid: int, size: int = 8) -> Difo:
    return Difo(text=[var("ldgs", vid, 1), ret(1)], size=size)


def string_difo(vid: int, size: int) -> Difo:
    """A by-reference string built-in such as execname."""
    return Difo(
        text=[var("ldgs", vid, 1), ret(1)],
        size=size,
        kind=lib.DIF_TYPE_KIND_STRING,
        flags=lib.DIF_TF_BYREF,
    )


@dataclass
class Act:
    kind: int
    difo: int = NONE
    fmt: int = 0
    arg: int = 0
    uarg: int = 0
    ntuple: int = 0


@dataclass
class Ecb:
    probe: tuple[str, str, str, str]
    acts: tuple[int, int] = (0, 0)  # first action, count
    pred: int = NONE
    uarg: int = 0


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


class Builder:
    """Collects DIFOs, actions and ECB descriptions; builds the bytes."""

    def __init__(self) -> None:
        self.ecbs: list[Ecb] = []
        self.acts: list[Act] = []
        self.difos: list[Difo] = []
        self.opts: list[tuple[int, int]] = []
        # after build(): where each table starts, and ("data") each DIFO's
        # (text, ints, strings, variables) offsets, for tests that patch bytes
        self.offsets: dict[str, Any] = {}

    def difo(self, d: Difo) -> int:
        self.difos.append(d)
        return len(self.difos) - 1

    def clause(
        self,
        probe: tuple[str, str, str, str],
        acts: list[Act],
        pred: Difo | None = None,
    ) -> None:
        first = len(self.acts)
        self.acts.extend(acts)
        p = NONE if pred is None else self.difo(pred)
        self.ecbs.append(Ecb(probe, (first, len(acts)), p))

    def expr(self, d: Difo, kind: int = lib.DTRACEACT_DIFEXPR) -> Act:
        return Act(kind, self.difo(d))

    def agg(
        self,
        kind: int,
        keys: list[Difo],
        value: Difo | None = None,
        arg: int = 0,
        incr: Difo | None = None,
        varid: int = 1,
    ) -> list[Act]:
        """The actions of @varid[keys] = kind(value[, incr])."""
        tup = [const_difo(varid), *keys] + ([incr] if incr is not None else [])
        acts = [self.expr(d) for d in tup]
        v = NONE if value is None else self.difo(value)
        acts.append(Act(kind, v, arg=arg, ntuple=len(tup)))
        return acts

    def build(self) -> bytearray:
        sz = ffi.sizeof
        off = sz("struct dtrace_prog")
        layout: dict[str, int] = {}
        for name, n, ctype in (
            ("ecb", len(self.ecbs), "struct dtrace_ecbdesc"),
            ("act", len(self.acts), "struct dtrace_actdesc"),
            ("difo", len(self.difos), "struct dtrace_difodesc"),
            ("opt", len(self.opts), "struct dtrace_optdesc"),
        ):
            off = _align(off, 8)
            layout[name] = off
            off += n * sz(ctype)
        data = []
        vsz = sz("struct dtrace_difv")
        for d in self.difos:
            off = _align(off, 8)
            t_off = off
            off += 4 * len(d.text)
            off = _align(off, 8)
            i_off = off
            off += 8 * len(d.ints)
            s_off = off
            off += len(d.strtab)
            off = _align(off, 4)
            v_off = off
            off += vsz * len(d.vars)
            data.append((t_off, i_off, s_off, v_off))
        total = _align(off, 8)
        self.offsets = {**layout, "data": data}

        buf = ffi.new("char[]", total)
        hdr = ffi.cast("struct dtrace_prog *", buf)
        hdr.dp_magic = lib.DTRACE_PROG_MAGIC
        hdr.dp_version = lib.DTRACE_PROG_VERSION
        hdr.dp_size = total
        hdr.dp_necbs, hdr.dp_ecboff = len(self.ecbs), layout["ecb"]
        hdr.dp_nacts, hdr.dp_actoff = len(self.acts), layout["act"]
        hdr.dp_ndifos, hdr.dp_difooff = len(self.difos), layout["difo"]
        hdr.dp_nopts, hdr.dp_optoff = len(self.opts), layout["opt"]

        eds = ffi.cast("struct dtrace_ecbdesc *", buf + layout["ecb"])
        for i, e in enumerate(self.ecbs):
            eds[i].ed_pred = e.pred
            eds[i].ed_act, eds[i].ed_nacts = e.acts
            eds[i].ed_uarg = e.uarg
            pd = eds[i].ed_probe
            pd.dtpd_provider, pd.dtpd_mod, pd.dtpd_func, pd.dtpd_name = (
                s.encode() for s in e.probe
            )
        ads = ffi.cast("struct dtrace_actdesc *", buf + layout["act"])
        for i, a in enumerate(self.acts):
            ads[i].ad_difo = a.difo
            ads[i].ad_kind = a.kind
            ads[i].ad_ntuple = a.ntuple
            ads[i].ad_format = a.fmt
            ads[i].ad_arg = a.arg & M64
            ads[i].ad_uarg = a.uarg
        dds = ffi.cast("struct dtrace_difodesc *", buf + layout["difo"])
        for i, (d, (t_off, i_off, s_off, v_off)) in enumerate(zip(self.difos, data, strict=True)):
            dd = dds[i]
            dd.dd_rtype.dtdt_kind = d.kind
            dd.dd_rtype.dtdt_flags = d.flags
            dd.dd_rtype.dtdt_size = d.size
            dd.dd_textoff, dd.dd_textlen = t_off, len(d.text)
            dd.dd_intoff, dd.dd_intlen = i_off, len(d.ints)
            dd.dd_stroff, dd.dd_strlen = s_off, len(d.strtab)
            dd.dd_varoff, dd.dd_varlen = v_off, len(d.vars)
            text = ffi.cast("uint32_t *", buf + t_off)
            for j, w in enumerate(d.text):
                text[j] = w
            ints = ffi.cast("uint64_t *", buf + i_off)
            for j, v in enumerate(d.ints):
                ints[j] = v & M64
            ffi.memmove(buf + s_off, d.strtab, len(d.strtab))
            vt = ffi.cast("struct dtrace_difv *", buf + v_off)
            for j, v in enumerate(d.vars):
                vt[j].dtdv_id = v.vid
                vt[j].dtdv_kind = v.kind
                vt[j].dtdv_scope = v.scope
                vt[j].dtdv_type.dtdt_kind = v.tkind
                vt[j].dtdv_type.dtdt_flags = v.tflags
                vt[j].dtdv_type.dtdt_size = v.tsize
        ods = ffi.cast("struct dtrace_optdesc *", buf + layout["opt"])
        for i, (opt, val) in enumerate(self.opts):
            ods[i].do_option = opt
            ods[i].do_value = val
        return bytearray(ffi.buffer(buf))


# ---------------------------------------------------------------------------
# The consumer
# ---------------------------------------------------------------------------


class Consumer:
    """One open of /dev/dtrace."""

    def __init__(self) -> None:
        self.fd = os.open(DEV, os.O_RDWR)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def ioctl(self, cmd: int, obj: Any) -> Any:
        """ioctl with a cffi struct; the struct is updated even on failure."""
        raw = bytearray(ffi.buffer(obj))
        try:
            fcntl.ioctl(self.fd, cmd, raw, True)
        finally:
            ffi.memmove(obj, bytes(raw), len(raw))
        return obj

    def conf(self) -> Any:
        return self.ioctl(lib.DTRACEIOC_CONF, ffi.new("struct dtrace_conf *"))

    def enable_raw(self, prog: bytes | bytearray, size: int | None = None) -> tuple[int, Any]:
        """(errno or 0, struct dtrace_enable); size overrides the length told."""
        pbuf = ffi.new("char[]", bytes(prog) + bytes(64))  # slack for size > actual
        de = ffi.new("struct dtrace_enable *")
        de.de_prog = int(ffi.cast("uintptr_t", pbuf))
        de.de_size = len(prog) if size is None else size
        try:
            self.ioctl(lib.DTRACEIOC_ENABLE, de)
        except OSError as e:
            return e.errno or -1, de
        return 0, de

    def enable(self, b: Builder | bytes | bytearray) -> int:
        err, de = self.enable_raw(b.build() if isinstance(b, Builder) else b)
        assert err == 0, (errno.errorcode.get(err), de.de_err, de.de_ecb, de.de_difo, de.de_offset)
        return int(de.de_nmatched)

    def _u32(self, cmd: int) -> int:
        raw = bytearray(4)
        fcntl.ioctl(self.fd, cmd, raw, True)
        return int(struct.unpack("<I", raw)[0])

    def go(self) -> int:
        return self._u32(lib.DTRACEIOC_GO)

    def stop(self) -> int:
        return self._u32(lib.DTRACEIOC_STOP)

    def status(self) -> Any:
        return self.ioctl(lib.DTRACEIOC_STATUS, ffi.new("struct dtrace_status *"))

    def optget(self, nopts: int = lib.DTRACEOPT_MAX) -> tuple[list[int], int]:
        """DTRACEIOC_OPTGET: (the first nopts option values, the module's count)."""
        values = ffi.new("int64_t[]", max(nopts, 1))
        og = ffi.new("struct dtrace_optget *")
        og.dtog_values = int(ffi.cast("uintptr_t", values))
        og.dtog_nopts = nopts
        self.ioctl(lib.DTRACEIOC_OPTGET, og)
        return [int(values[i]) for i in range(nopts)], int(og.dtog_nopts)

    def eprobe(self, epid: int, nrecs: int = 16) -> tuple[Any, list[Any]]:
        recs = ffi.new("struct dtrace_recdesc[]", max(nrecs, 1))
        epd = ffi.new("struct dtrace_eprobedesc *")
        epd.dtepd_epid = epid
        epd.dtepd_nrecs = nrecs
        epd.dtepd_recs = int(ffi.cast("uintptr_t", recs))
        self.ioctl(lib.DTRACEIOC_EPROBE, epd)
        return epd, copy_recs(recs, min(nrecs, epd.dtepd_nrecs))

    def aggdesc(self, aggid: int, nrecs: int = 16) -> tuple[Any, list[Any]]:
        recs = ffi.new("struct dtrace_recdesc[]", max(nrecs, 1))
        ad = ffi.new("struct dtrace_aggdesc *")
        ad.dtagd_id = aggid
        ad.dtagd_nrecs = nrecs
        ad.dtagd_recs = int(ffi.cast("uintptr_t", recs))
        self.ioctl(lib.DTRACEIOC_AGGDESC, ad)
        return ad, copy_recs(recs, min(nrecs, ad.dtagd_nrecs))

    def _snap(self, cmd: int, cpu: int, size: int) -> tuple[bytes, Any]:
        data = ffi.new("char[]", size)
        bd = ffi.new("struct dtrace_bufdesc *")
        bd.dtbd_data = int(ffi.cast("uintptr_t", data))
        bd.dtbd_size = size
        bd.dtbd_cpu = cpu
        self.ioctl(cmd, bd)
        return bytes(ffi.buffer(data, bd.dtbd_size)), bd

    def bufsnap(self, cpu: int, size: int = 4 << 20) -> tuple[bytes, Any]:
        return self._snap(lib.DTRACEIOC_BUFSNAP, cpu, size)

    def aggsnap(self, cpu: int, size: int = 4 << 20) -> tuple[bytes, Any]:
        return self._snap(lib.DTRACEIOC_AGGSNAP, cpu, size)

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def records(data: bytes, c: Consumer) -> list[tuple[int, bytes]]:
    """Split a principal buffer into (epid, record bytes), skipping pads."""
    out, off, sizes = [], 0, {}
    while off < len(data):
        (epid,) = struct.unpack_from("<I", data, off)
        if epid == lib.DTRACE_EPIDNONE:
            off += 4
            continue
        if epid not in sizes:
            sizes[epid] = int(c.eprobe(epid)[0].dtepd_size)
        out.append((epid, data[off : off + sizes[epid]]))
        off += sizes[epid]
    return out


# Every ECB record starts with a struct dtrace_rechdr: EPID and timestamp.
RECHDR = ffi.sizeof("struct dtrace_rechdr")
# where a clause's first record goes when it is 8-aligned (8-byte values,
# strings of a multiple of 8 bytes): the header, padded to 8
FIRST8 = -(-RECHDR // 8) * 8


def rechdr(rec: bytes) -> tuple[int, int]:
    """(EPID, timestamp) from a record's header."""
    h = ffi.new("struct dtrace_rechdr *")
    ffi.memmove(h, rec[:RECHDR], RECHDR)
    return int(h.dtrh_epid), int(h.dtrh_timestamp_hi) << 32 | int(h.dtrh_timestamp_lo)


def bodies(data: bytes, c: Consumer) -> list[tuple[int, bytes]]:
    """records() without their headers: (epid, the bytes after the header).
    Each header must name its EPID and carry a time (monotonic ns, never 0)."""
    out = []
    for epid, rec in records(data, c):
        hepid, ts = rechdr(rec)
        assert hepid == epid and ts > 0, (epid, hepid, ts)
        out.append((epid, rec[RECHDR:]))
    return out


def agg_records(data: bytes, c: Consumer) -> list[tuple[int, bytes]]:
    """Split an aggregation buffer into (aggid, record bytes)."""
    out, off, sizes = [], 0, {}
    while off < len(data):
        (aggid,) = struct.unpack_from("<I", data, off)
        if aggid == lib.DTRACE_AGGIDNONE:
            off += 4
            continue
        assert off % 8 == 0
        if aggid not in sizes:
            sizes[aggid] = int(c.aggdesc(aggid)[0].dtagd_size)
        out.append((aggid, data[off : off + sizes[aggid]]))
        off += sizes[aggid]
    return out


def all_cpus(c: Consumer, snap: str = "aggsnap") -> list[bytes]:
    """One snapshot of every possible CPU (offline ones skipped)."""
    out = []
    for cpu in range(c.ioctl(lib.DTRACEIOC_CONF, ffi.new("struct dtrace_conf *")).dtc_maxcpus):
        try:
            out.append(getattr(c, snap)(cpu)[0])
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.EINVAL):
                raise
    return out
