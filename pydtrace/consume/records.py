"""ECB records out of a principal-buffer snapshot (dtrace-internals 3.3, 3.4).

The walking and integer decoding run in the Cython extension ``_records``
when it is built; the pure-Python functions here are the fallback and the
reference the tests compare it against.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from pydtrace.abi import DTRACE_UARG_STRING, ffi, lib
from pydtrace.runtime import EProbe, RecDesc

# Every ECB record starts with a struct dtrace_rechdr: the EPID and the
# firing's timestamp (monotonic ns) in two 32-bit halves.
RECHDR_SIZE: int = ffi.sizeof("struct dtrace_rechdr")
_TS_HI: int = ffi.offsetof("struct dtrace_rechdr", "dtrh_timestamp_hi")
_TS_LO: int = ffi.offsetof("struct dtrace_rechdr", "dtrh_timestamp_lo")


def py_walk(
    buf: bytes, start: int, end: int, size_of: Callable[[int], int]
) -> list[tuple[int, int]]:
    """(offset, epid) of each ECB record in buf[start:end]; EPID 0 is 4 bytes of padding.

    A record is at least its header (struct dtrace_rechdr)."""
    end = min(end, len(buf))
    off = start
    out = []
    while off + 4 <= end:
        epid = int.from_bytes(buf[off : off + 4], sys.byteorder)
        if epid == 0:
            off += 4
            continue
        size = size_of(epid)
        if size < RECHDR_SIZE or off + size > end:
            raise ValueError(
                f"EPID {epid} at offset {off}: record of {size} bytes overruns the buffer"
            )
        out.append((off, epid))
        off += size
    return out


def py_read_int(buf: bytes, off: int, size: int, signed: bool) -> int:
    """The integer of 1, 2, 4 or 8 bytes (host order) at buf[off]."""
    if size not in (1, 2, 4, 8):
        raise ValueError(f"no integer of {size} bytes")
    if off < 0 or off + size > len(buf):
        raise ValueError(f"record at offset {off} of {size} bytes overruns the buffer")
    return int.from_bytes(buf[off : off + size], sys.byteorder, signed=signed)


def py_read_cstr(buf: bytes, off: int, size: int) -> bytes:
    """The bytes at buf[off:off+size] up to the first NUL."""
    if off < 0 or off + size > len(buf):
        raise ValueError(f"record at offset {off} of {size} bytes overruns the buffer")
    chunk = buf[off : off + size]
    nul = chunk.find(b"\0")
    return chunk if nul < 0 else chunk[:nul]


def is_string_trace(rec: RecDesc) -> bool:
    """A trace() of a string (the compiler marks it in its ad_uarg)."""
    return rec.action == lib.DTRACEACT_DIFEXPR and rec.uarg == DTRACE_UARG_STRING


def string_record(raw: bytes) -> bytes:
    """A string record as dtrace(1) reads it: the bytes up to the first NUL,
    then zeros.  The module writes a string only up to its NUL and leaves the
    rest of the record as it was (earlier records of this consumer)."""
    nul = raw.find(b"\0")
    if nul < 0 or nul + 1 == len(raw):
        return raw
    return raw[: nul + 1] + bytes(len(raw) - nul - 1)


try:
    from pydtrace.consume._records import read_cstr, read_int, walk
except ImportError:  # the extension is not built: same behaviour, slower
    walk, read_int, read_cstr = py_walk, py_read_int, py_read_cstr


@dataclass(frozen=True)
class EcbRecord:
    """One ECB record in a snapshot: its EPID's layout and where it starts."""

    cpu: int
    data: bytes
    offset: int
    eprobe: EProbe

    def raw(self, rec: RecDesc) -> bytes:
        """The bytes of one of its records (a traced string's zero-padded)."""
        start = self.offset + rec.offset
        raw = self.data[start : start + rec.size]
        return string_record(raw) if is_string_trace(rec) else raw

    def integer(self, rec: RecDesc, signed: bool) -> int:
        return read_int(self.data, self.offset + rec.offset, rec.size, signed)

    def cstr(self, rec: RecDesc) -> bytes:
        return read_cstr(self.data, self.offset + rec.offset, rec.size)

    @property
    def timestamp(self) -> int:
        """The firing's time from the record header: D's ``timestamp`` (ns)."""
        hi = read_int(self.data, self.offset + _TS_HI, 4, False)
        lo = read_int(self.data, self.offset + _TS_LO, 4, False)
        return hi << 32 | lo


def ecb_records(
    cpu: int, data: bytes, oldest: int, eprobe_of: Callable[[int], EProbe]
) -> list[EcbRecord]:
    """The ECB records of one CPU's snapshot, oldest first.

    A wrapped ring buffer starts at ``oldest``, runs to the end and resumes at 0.
    """

    def size_of(epid: int) -> int:
        return eprobe_of(epid).size

    spans = [(oldest, len(data))] + ([(0, oldest)] if oldest else [])
    out = []
    for start, end in spans:
        for off, epid in walk(data, start, end, size_of):
            out.append(EcbRecord(cpu, data, off, eprobe_of(epid)))
    return out
