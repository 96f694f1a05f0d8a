"""/dev/dtrace through libdtrace's ioctl wrappers.

This is the only module that calls the cffi library's device functions.  Every
wrapper returns ``-errno`` on failure; :func:`_check` turns that into a
:class:`DeviceError` whose message is the text dtrace(1) prints after its
``dtrace: `` prefix.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pydtrace.abi import ffi, lib

DEFAULT_DEVICE = "/dev/dtrace"

# Why the module refused a program, by DTRACE_EPROG_* name (numbers from lib).
_EPROG_TEXT = {
    "DTRACE_EPROG_NONE": "no reason given",
    "DTRACE_EPROG_HEADER": "bad program header",
    "DTRACE_EPROG_BOUNDS": "a table lies outside the program",
    "DTRACE_EPROG_ALIGN": "a table is misaligned",
    "DTRACE_EPROG_RESERVED": "a reserved or pad field is not zero",
    "DTRACE_EPROG_ECB": "bad ECB description",
    "DTRACE_EPROG_ACTION": "bad action description",
    "DTRACE_EPROG_OPTION": "bad option",
    "DTRACE_EPROG_STRTAB": "string table not NUL-terminated",
    "DTRACE_EPROG_DIFO": "bad DIFO description",
    "DTRACE_EPROG_OPCODE": "invalid opcode",
    "DTRACE_EPROG_REG": "register out of range",
    "DTRACE_EPROG_R0": "write to %r0",
    "DTRACE_EPROG_RSVBITS": "non-zero reserved bits",
    "DTRACE_EPROG_BRANCH": "invalid or backward branch",
    "DTRACE_EPROG_INTIDX": "integer table index out of range",
    "DTRACE_EPROG_STRIDX": "string offset out of range",
    "DTRACE_EPROG_VAR": "bad or undeclared variable",
    "DTRACE_EPROG_SUBR": "bad subroutine",
    "DTRACE_EPROG_RET": "missing ret, or bad return type",
    "DTRACE_EPROG_TUPLE": "bad tuple type",
    "DTRACE_EPROG_VARTAB": "bad variable table entry",
    "DTRACE_EPROG_NOMEM": "out of memory",
}
EPROG_REASONS: dict[int, tuple[str, str]] = {
    getattr(lib, name): (name, text) for name, text in _EPROG_TEXT.items() if hasattr(lib, name)
}

# errnos of BUFSNAP meaning "this CPU has no buffer" (not possible, offline,
# or the consumer never needed one).
_NO_BUFFER = (_errno.EINVAL, _errno.ENOENT, _errno.ENXIO, _errno.ENODEV)
_MAX_SNAPSHOT = 1 << 34
_EPROBE_NRECS = 64


class DeviceError(Exception):
    """A failed device operation; str() is the message dtrace(1) prints."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno


class EnableError(DeviceError):
    """The module refused a program; where and why, as it reported."""

    def __init__(
        self, message: str, errno: int, reason: int, ecb: int, difo: int, offset: int
    ) -> None:
        super().__init__(message, errno)
        self.reason = reason
        self.ecb = ecb
        self.difo = difo
        self.offset = offset


def _check(rv: int, what: str) -> int:
    if rv < 0:
        raise DeviceError(f"{what}: {os.strerror(-rv)}", -rv)
    return rv


Desc = tuple[str, str, str, str]  # provider, module, function, name
ProbeRow = tuple[int, bytes, bytes, bytes, bytes]  # id and names, undecoded
_LIST_CHUNK = 1024  # probes per dt_probe_list call


@functools.cache
def _probedesc_unpacker() -> Callable[[bytes], Iterator[tuple]]:
    """struct.iter_unpack for an array of struct dtrace_probedesc, from the
    layout cffi knows (id, then the four name fields)."""
    t = ffi.typeof("struct dtrace_probedesc")
    fields = dict(t.fields)
    names = ("dtpd_provider", "dtpd_mod", "dtpd_func", "dtpd_name")
    fmt = "=I"
    pos = 4
    assert fields["dtpd_id"].offset == 0 and ffi.sizeof(fields["dtpd_id"].type) == 4
    for name in names:
        f = fields[name]
        fmt += f"{f.offset - pos}x{f.type.length}s"
        pos = f.offset + f.type.length
    fmt += f"{ffi.sizeof(t) - pos}x"
    return struct.Struct(fmt).iter_unpack


def _cstr(field: object) -> str:
    return ffi.string(field).decode("utf-8", "replace")


@dataclass(frozen=True)
class Conf:
    """DTRACEIOC_CONF: the module's ABI and DIF versions and CPU count."""

    abiversion: int
    difversion: int
    maxcpus: int


@dataclass(frozen=True)
class ProbeDesc:
    """A probe as the module describes it."""

    id: int
    provider: str
    mod: str
    func: str
    name: str

    @property
    def fullname(self) -> str:
        return f"{self.provider}:{self.mod}:{self.func}:{self.name}"


@dataclass(frozen=True)
class RecDesc:
    """One record of an enabled probe's data (struct dtrace_recdesc)."""

    action: int
    size: int
    offset: int
    alignment: int
    format: int
    arg: int
    uarg: int


@dataclass(frozen=True)
class EProbe:
    """An enabled probe's description: its probe and its records."""

    epid: int
    probeid: int
    uarg: int
    size: int
    recs: tuple[RecDesc, ...]


@dataclass(frozen=True)
class Status:
    """DTRACEIOC_STATUS: drop and error counts and the consumer's state."""

    dyndrops: int
    dyndrops_rinsing: int
    dyndrops_dirty: int
    specdrops: int
    specdrops_busy: int
    specdrops_unavail: int
    errors: int
    filled: int
    stkstroverflows: int
    dblerrors: int
    killed: bool
    exiting: bool
    activity: int


@dataclass(frozen=True)
class AggDesc:
    """One aggregation id (DTRACEIOC_AGGDESC): its records, offsets relative
    to the aggregation record (the u32 id at 0); record 0 is the variable id,
    then the keys, then the value."""

    aggid: int
    epid: int
    size: int
    recs: tuple[RecDesc, ...]


@dataclass(frozen=True)
class BufSnapshot:
    """One CPU's buffer as a snapshot handed it out."""

    cpu: int
    data: bytes
    drops: int
    errors: int
    oldest: int
    timestamp: int


def _recdesc(r: object) -> RecDesc:
    return RecDesc(
        r.dtrd_action,
        r.dtrd_size,
        r.dtrd_offset,
        r.dtrd_alignment,
        r.dtrd_format,
        r.dtrd_arg,
        r.dtrd_uarg,
    )


def enable_failure_message(label: str, rv: int, en: object) -> str:
    """dtrace(1)'s text for a refused program, plus where the module refused it."""
    text = f"failed to enable '{label}': {os.strerror(-rv)}"
    if -rv != _errno.EINVAL:
        return text
    name, why = EPROG_REASONS.get(en.de_err, (f"reason {en.de_err}", "unknown reason"))
    where = []
    if en.de_ecb != lib.DTRACE_NONE:
        where.append(f"ECB {en.de_ecb}")
    if en.de_difo != lib.DTRACE_NONE:
        where.append(f"DIFO {en.de_difo}")
    if en.de_offset != lib.DTRACE_NONE:
        where.append(f"DIF offset {en.de_offset}")
    loc = f" at {', '.join(where)}" if where else ""
    return f"{text} ({why} [{name}]{loc})"


class Device:
    """One open /dev/dtrace file: one consumer in the module."""

    def __init__(self, path: str = DEFAULT_DEVICE) -> None:
        fd = lib.dt_open(path.encode())
        if fd < 0:
            raise DeviceError(f"failed to initialize dtrace: {os.strerror(-fd)}", -fd)
        self._fd = fd
        self._probes: dict[int, ProbeDesc] = {}
        self._eprobes: dict[int, EProbe] = {}
        self._buf = None
        self._bufsize = 0
        self._aggbuf = None
        self._aggbufsize = 0
        self._aggdescs: dict[int, AggDesc] = {}

    # -- lifetime ---------------------------------------------------------
    def close(self) -> None:
        if self._fd >= 0:
            lib.dt_close(self._fd)
            self._fd = -1

    def fileno(self) -> int:
        """The open device: poll() says POLLIN while a principal buffer is
        past half full."""
        return self._fd

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------
    def conf(self) -> Conf:
        c = ffi.new("struct dtrace_conf *")
        _check(lib.dt_conf(self._fd, c), "failed to get configuration")
        return Conf(c.dtc_abiversion, c.dtc_difversion, c.dtc_maxcpus)

    def probes(self, patterns: Sequence[Desc] | None = None) -> Iterator[ProbeDesc]:
        """Every probe, in id order; or those matching any of the patterns
        (DTrace's globs, matched by the module: PROBEMATCH)."""
        for pid, *names in self.probe_rows(patterns):
            prov, mod, func, name = (f.decode("utf-8", "replace") for f in names)
            probe = ProbeDesc(pid, prov, mod, func, name)
            self._probes[pid] = probe
            yield probe

    def probe_rows(self, patterns: Sequence[Desc] | None = None) -> Iterator[ProbeRow]:
        """probes() as (id, provider, module, function, name) with the names
        undecoded, the cheapest form (a listing of every probe is ~10^5)."""
        if patterns is None or any(not any(p) for p in patterns):
            yield from self._rows(None)
            return
        if len(patterns) == 1:
            yield from self._rows(self._pattern(patterns[0]))
            return
        found: dict[int, ProbeRow] = {}
        for pat in patterns:
            for row in self._rows(self._pattern(pat)):
                found[row[0]] = row
        yield from (found[i] for i in sorted(found))

    def _pattern(self, desc: Desc) -> object:
        pd = ffi.new("struct dtrace_probedesc *")
        fields = (pd.dtpd_provider, pd.dtpd_mod, pd.dtpd_func, pd.dtpd_name)
        for field, value in zip(fields, desc, strict=True):
            raw = value.encode()
            if len(raw) >= len(field):
                raise DeviceError(f"failed to match {':'.join(desc)}: File name too long")
            ffi.memmove(field, raw, len(raw))
        return pd

    def _rows(self, pat: object) -> Iterator[ProbeRow]:
        """The probes from the module, _LIST_CHUNK per dt_probe_list call."""
        out = ffi.new("struct dtrace_probedesc[]", _LIST_CHUNK)
        size = ffi.sizeof("struct dtrace_probedesc")
        unpack = _probedesc_unpacker()
        nxt = 0
        while True:
            n = _check(
                lib.dt_probe_list(
                    self._fd, pat if pat is not None else ffi.NULL, nxt, out, _LIST_CHUNK
                ),
                "failed to list probes",
            )
            rows = [
                (pid, p.rstrip(b"\0"), m.rstrip(b"\0"), f.rstrip(b"\0"), nm.rstrip(b"\0"))
                for pid, p, m, f, nm in unpack(ffi.buffer(out, n * size)[:])
            ]
            yield from rows
            if n < _LIST_CHUNK:
                return
            nxt = rows[-1][0] + 1

    def first_match(self, desc: Desc) -> ProbeDesc | None:
        """The first probe a description (provider, module, function, name;
        DTrace's globs) matches, by the module's own matching (PROBEMATCH)."""
        pd = self._pattern(desc)
        pd.dtpd_id = 1
        rv = lib.dt_probe_match(self._fd, pd)
        if rv in (-_errno.ESRCH, -_errno.ENOENT):
            return None
        _check(rv, "failed to match probes")
        return self._probe_from(pd)

    def probe(self, probeid: int) -> ProbeDesc:
        """The probe with that id (cached)."""
        probe = self._probes.get(probeid)
        if probe is None:
            pd = ffi.new("struct dtrace_probedesc *")
            _check(lib.dt_probe_next(self._fd, probeid, pd), f"failed to look up probe {probeid}")
            probe = self._probe_from(pd)
            if probe.id != probeid:
                raise DeviceError(f"failed to look up probe {probeid}: No such process")
            self._probes[probeid] = probe
        return probe

    @staticmethod
    def _probe_from(pd: object) -> ProbeDesc:
        return ProbeDesc(
            pd.dtpd_id,
            _cstr(pd.dtpd_provider),
            _cstr(pd.dtpd_mod),
            _cstr(pd.dtpd_func),
            _cstr(pd.dtpd_name),
        )

    def _described(
        self, call: Callable[..., int], key: int, desc: object, count: str, what: str
    ) -> tuple[RecDesc, ...]:
        """EPROBE's and AGGDESC's two-call protocol: ask with room for
        _EPROBE_NRECS records, and again with room for all if the module
        reports more (in desc.<count>)."""
        nrecs = _EPROBE_NRECS
        while True:
            recs = ffi.new("struct dtrace_recdesc[]", nrecs)
            _check(call(self._fd, key, desc, recs, nrecs), what)
            n = getattr(desc, count)
            if n <= nrecs:
                return tuple(_recdesc(recs[i]) for i in range(n))
            nrecs = n

    def eprobe(self, epid: int) -> EProbe:
        """The record layout of an EPID (cached)."""
        ep = self._eprobes.get(epid)
        if ep is not None:
            return ep
        ed = ffi.new("struct dtrace_eprobedesc *")
        recs = self._described(
            lib.dt_eprobe, epid, ed, "dtepd_nrecs", f"failed to get description of EPID {epid}"
        )
        ep = EProbe(epid, ed.dtepd_probeid, ed.dtepd_uarg, ed.dtepd_size, recs)
        self._eprobes[epid] = ep
        return ep

    def provide(self, provider: str, mod: str, func: str, name: str) -> None:
        """Let the providers create the probes of one exact description
        (DTRACEIOC_PROVIDE), e.g. fbt:vmlinux:vfs_read: for an fbt glob."""
        rv = lib.dt_provide(self._fd, provider.encode(), mod.encode(), func.encode(), name.encode())
        _check(rv, f"failed to provide {provider}:{mod}:{func}:{name}")

    def fbt_provide(self, funcs: Sequence[tuple[str, int]]) -> int:
        """Create the fbt probes of (function, address) pairs
        (DTRACEIOC_FBTPROVIDE); the module checks each against its symbol
        table and skips those it does not confirm.  How many functions got
        new probes.  Names too long for a probe are skipped here."""
        cap = int(lib.DTRACE_FBTPROVIDE_MAX)
        size = len(ffi.new("struct dtrace_fbtfunc *").dtff_func)
        usable = [(n.encode(), a) for n, a in funcs if 0 < len(n.encode()) < size]
        created = ffi.new("uint32_t *")
        total = 0
        for start in range(0, len(usable), cap):
            part = usable[start : start + cap]
            arr = ffi.new("struct dtrace_fbtfunc[]", len(part))
            for i, (name, addr) in enumerate(part):
                arr[i].dtff_addr = addr
                arr[i].dtff_func = name
            _check(
                lib.dt_fbt_provide(self._fd, arr, len(part), created),
                "failed to provide fbt probes",
            )
            total += created[0]
        return total

    # -- tracing ----------------------------------------------------------
    def enable(self, data: bytes, label: str) -> int:
        """Hand over one compiled program; the number of probes it matched."""
        en = ffi.new("struct dtrace_enable *")
        buf = ffi.from_buffer(data)
        rv = lib.dt_enable(self._fd, buf, len(data), en)
        if rv < 0:
            raise EnableError(
                enable_failure_message(label, rv, en),
                -rv,
                en.de_err,
                en.de_ecb,
                en.de_difo,
                en.de_offset,
            )
        return rv

    def go(self) -> int:
        """Start tracing (fires BEGIN); the CPU BEGIN ran on."""
        cpu = ffi.new("uint32_t *")
        rv = lib.dt_go(self._fd, cpu)
        if rv == -_errno.EACCES:
            # libdtrace's EDT_DESTRUCTIVE: destructive actions without -w
            raise DeviceError(
                "could not enable tracing: Destructive actions not allowed", _errno.EACCES
            )
        if rv == -_errno.ENOENT:
            # EDT_NOANON: grabanon with no anonymous state to claim
            raise DeviceError("could not enable tracing: No anonymous tracing state", _errno.ENOENT)
        if rv == -_errno.ENOSPC:
            # EDT_BUFTOOSMALL: a buffer size below a word where one is needed
            raise DeviceError(
                "could not enable tracing: Enabling exceeds size of buffer", _errno.ENOSPC
            )
        _check(rv, "could not enable tracing")
        return cpu[0]

    def options(self) -> list[int]:
        """The consumer's option values by DTRACEOPT_* id (DTRACEOPT_UNSET
        for those never set); after GO, the sizes and rates the module chose."""
        n = int(lib.DTRACEOPT_MAX)
        values = ffi.new("int64_t[]", n)
        got = _check(lib.dt_optget(self._fd, values, n), "couldn't get options")
        return [int(values[i]) for i in range(min(n, got))]

    def stop(self) -> int:
        """Stop tracing (fires END); the CPU END ran on."""
        cpu = ffi.new("uint32_t *")
        _check(lib.dt_stop(self._fd, cpu), "couldn't stop tracing")
        return cpu[0]

    def status(self) -> Status:
        st = ffi.new("struct dtrace_status *")
        _check(lib.dt_status(self._fd, st), "failed to get status")
        return Status(
            st.dtst_dyndrops,
            st.dtst_dyndrops_rinsing,
            st.dtst_dyndrops_dirty,
            st.dtst_specdrops,
            st.dtst_specdrops_busy,
            st.dtst_specdrops_unavail,
            st.dtst_errors,
            st.dtst_filled,
            st.dtst_stkstroverflows,
            st.dtst_dblerrors,
            bool(st.dtst_killed),
            bool(st.dtst_exiting),
            st.dtst_activity,
        )

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        """Snapshot one CPU's principal buffer; None if that CPU has none."""
        if self._buf is None or self._bufsize < size:
            self._buf = ffi.new("char[]", size)
            self._bufsize = size
        bd = ffi.new("struct dtrace_bufdesc *")
        rv = lib.dt_bufsnap(self._fd, cpu, self._buf, self._bufsize, bd)
        while rv == -_errno.ENOSPC and self._bufsize < _MAX_SNAPSHOT:
            # the module's buffers are larger than we thought: nothing was
            # switched, so grow and ask again
            self._bufsize *= 2
            self._buf = ffi.new("char[]", self._bufsize)
            rv = lib.dt_bufsnap(self._fd, cpu, self._buf, self._bufsize, bd)
        if -rv in _NO_BUFFER:
            return None
        _check(rv, f"failed to snapshot buffer of CPU {cpu}")
        n = min(bd.dtbd_size, self._bufsize)
        return BufSnapshot(
            cpu,
            bytes(ffi.buffer(self._buf, n)),
            bd.dtbd_drops,
            bd.dtbd_errors,
            bd.dtbd_oldest,
            bd.dtbd_timestamp,
        )

    # -- aggregations -------------------------------------------------------
    def aggsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        """Snapshot (and switch) one CPU's aggregation buffer; None if that
        CPU has none."""
        if self._aggbuf is None or self._aggbufsize < size:
            self._aggbuf = ffi.new("char[]", size)
            self._aggbufsize = size
        bd = ffi.new("struct dtrace_bufdesc *")
        rv = lib.dt_aggsnap(self._fd, cpu, self._aggbuf, self._aggbufsize, bd)
        while rv == -_errno.ENOSPC and self._aggbufsize < _MAX_SNAPSHOT:
            # the module tells the size it needs; nothing was switched
            self._aggbufsize = max(self._aggbufsize * 2, bd.dtbd_size)
            self._aggbuf = ffi.new("char[]", self._aggbufsize)
            rv = lib.dt_aggsnap(self._fd, cpu, self._aggbuf, self._aggbufsize, bd)
        if -rv in _NO_BUFFER:
            return None
        _check(rv, f"failed to snapshot aggregation buffer of CPU {cpu}")
        n = min(bd.dtbd_size, self._aggbufsize)
        return BufSnapshot(
            cpu,
            bytes(ffi.buffer(self._aggbuf, n)),
            bd.dtbd_drops,
            bd.dtbd_errors,
            bd.dtbd_oldest,
            bd.dtbd_timestamp,
        )

    def aggdesc(self, aggid: int) -> AggDesc:
        """The record layout of an aggregation id (cached)."""
        ad = self._aggdescs.get(aggid)
        if ad is not None:
            return ad
        d = ffi.new("struct dtrace_aggdesc *")
        recs = self._described(
            lib.dt_aggdesc,
            aggid,
            d,
            "dtagd_nrecs",
            f"failed to get description of aggregation {aggid}",
        )
        ad = AggDesc(aggid, d.dtagd_epid, d.dtagd_size, recs)
        self._aggdescs[aggid] = ad
        return ad
