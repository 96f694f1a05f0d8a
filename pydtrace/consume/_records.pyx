# cython: language_level=3, boundscheck=False, wraparound=False
"""Hot path of the consumer: walk a principal-buffer snapshot, decode values.

Pure-Python twins of these functions live in ``records.py`` and are used
when this extension is not built; the unit tests check they agree.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from pydtrace.abi import ffi

# Every ECB record starts with a struct dtrace_rechdr (EPID, timestamp).
cdef Py_ssize_t RECHDR_SIZE = ffi.sizeof("struct dtrace_rechdr")


def walk(const unsigned char[::1] buf, Py_ssize_t start, Py_ssize_t end, size_of):
    """(offset, epid) of each ECB record in buf[start:end].

    EPID 0 is padding (skip 4 bytes); size_of(epid) gives a record's size,
    at least its header (struct dtrace_rechdr).
    """
    cdef Py_ssize_t off = start
    cdef Py_ssize_t size
    cdef uint32_t epid
    if end > buf.shape[0]:
        end = buf.shape[0]
    out = []
    while off + 4 <= end:
        memcpy(&epid, &buf[off], 4)
        if epid == 0:
            off += 4
            continue
        size = size_of(epid)
        if size < RECHDR_SIZE or off + size > end:
            raise ValueError(f"EPID {epid} at offset {off}: record of {size} bytes overruns the buffer")
        out.append((off, epid))
        off += size
    return out


def read_int(const unsigned char[::1] buf, Py_ssize_t off, int size, bint signed):
    """The integer of 1, 2, 4 or 8 bytes (host order) at buf[off]."""
    cdef uint8_t u8
    cdef uint16_t u16
    cdef uint32_t u32
    cdef uint64_t u64
    if off < 0 or off + size > buf.shape[0]:
        raise ValueError(f"record at offset {off} of {size} bytes overruns the buffer")
    if size == 1:
        u8 = buf[off]
        return <int8_t>u8 if signed else u8
    if size == 2:
        memcpy(&u16, &buf[off], 2)
        return <int16_t>u16 if signed else u16
    if size == 4:
        memcpy(&u32, &buf[off], 4)
        return <int32_t>u32 if signed else u32
    if size == 8:
        memcpy(&u64, &buf[off], 8)
        return <int64_t>u64 if signed else u64
    raise ValueError(f"no integer of {size} bytes")


def read_cstr(const unsigned char[::1] buf, Py_ssize_t off, Py_ssize_t size):
    """The bytes at buf[off:off+size] up to the first NUL."""
    cdef Py_ssize_t i
    if off < 0 or off + size > buf.shape[0]:
        raise ValueError(f"record at offset {off} of {size} bytes overruns the buffer")
    for i in range(off, off + size):
        if buf[i] == 0:
            return bytes(buf[off:i])
    return bytes(buf[off:off + size])
