"""printf() output from a parsed Format and its argument records (7.4).

C's printf conversions are reproduced in Python on bytes, so widths count
bytes as they do in C.  Integer arguments are read with their record's size,
signed for %d/%i when the compiler marked the argument signed.
"""

from __future__ import annotations

import functools
import struct
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydtrace.consume.stackfmt import conv_addr, conv_stack, conv_uaddr
from pydtrace.fmt import Conversion, Format

_ESCAPES = {
    0x07: b"\\a",
    0x08: b"\\b",
    0x0C: b"\\f",
    0x0A: b"\\n",
    0x0D: b"\\r",
    0x09: b"\\t",
    0x0B: b"\\v",
    0x5C: b"\\\\",
    0x22: b'\\"',
}


class PrintfError(Exception):
    """The records do not fit the format (a library-level fault)."""


def _pad(body: bytes, flags: str, width: int | None, zero_ok: bool = False) -> bytes:
    if width is None or len(body) >= width:
        return body
    if "-" in flags:
        return body.ljust(width)
    if zero_ok and "0" in flags:
        return body.rjust(width, b"0")
    return body.rjust(width)


def c_int(value: int, conv: str, flags: str, width: int | None, prec: int | None) -> bytes:
    """C's %d %i %u %o %x %X of value (already of the right signedness)."""
    mag = abs(value)
    if conv in "diu":
        digits = b"%d" % mag
    elif conv == "o":
        digits = b"%o" % mag
    elif conv == "x":
        digits = b"%x" % mag
    else:
        digits = b"%X" % mag
    if prec is not None:
        if prec == 0 and mag == 0:
            digits = b""
        digits = digits.rjust(prec, b"0")
    prefix = b""
    if conv in "di":
        if value < 0:
            prefix = b"-"
        elif "+" in flags:
            prefix = b"+"
        elif " " in flags:
            prefix = b" "
    if "#" in flags:
        if conv == "o" and not digits.startswith(b"0"):
            digits = b"0" + digits
        elif conv in "xX" and mag != 0:
            prefix = b"0x" if conv == "x" else b"0X"
    if width is not None and "-" not in flags and "0" in flags and prec is None:
        return prefix + digits.rjust(width - len(prefix), b"0")
    return _pad(prefix + digits, flags, width)


def c_str(s: bytes, flags: str, width: int | None, prec: int | None) -> bytes:
    """C's %s (glibc ignores the 0 flag for strings)."""
    if prec is not None:
        s = s[:prec]
    return _pad(s, flags, width)


def escape(s: bytes) -> bytes:
    """C escapes for non-printable bytes (%S, %C)."""
    out = []
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 0x20 <= c <= 0x7E:
            out.append(bytes((c,)))
        else:
            out.append(b"\\%03o" % c)
    return b"".join(out)


def _cstr(raw: bytes) -> bytes:
    nul = raw.find(b"\0")
    return raw if nul < 0 else raw[:nul]


def _int(raw: bytes, signed: bool) -> int:
    if len(raw) not in (1, 2, 4, 8):
        raise PrintfError(f"integer argument of {len(raw)} bytes")
    return int.from_bytes(raw, sys.byteorder, signed=signed)


@functools.cache
def _libc_snprintf() -> Any:
    """The C library's snprintf (ctypes is imported on the first float only)."""
    import ctypes

    return ctypes.CDLL(None).snprintf


def c_float(raw: bytes, conv: str, flags: str, width: int | None, prec: int | None) -> bytes:
    """pfprint_fp(): %e %E %f %g %G of a float, double or long double record
    (chosen by its size, as dtrace does), printed by the C library so that
    rounding, inf and -nan are the C library's.  A long double is passed as
    one with the L modifier; a float is promoted to double, as in C."""
    import ctypes

    if len(raw) == 4:
        arg: object = ctypes.c_double(struct.unpack("=f", raw)[0])
        length = ""
    elif len(raw) == 8:
        arg = ctypes.c_double(struct.unpack("=d", raw)[0])
        length = ""
    elif len(raw) == ctypes.sizeof(ctypes.c_longdouble):
        arg = ctypes.c_longdouble.from_buffer_copy(raw)
        length = "L"
    else:
        raise PrintfError(f"floating-point argument of {len(raw)} bytes")
    spec = "%" + flags + ("" if width is None else str(width))
    spec += ("" if prec is None else f".{prec}") + length + conv
    snprintf = _libc_snprintf()
    size = 128
    while True:
        buf = ctypes.create_string_buffer(size)
        n = snprintf(buf, size, spec.encode(), arg)
        if n < 0:
            raise PrintfError(f"cannot format {spec}")
        if n < size:
            return buf.raw[:n]
        size = n + 1


def _seconds(raw: bytes) -> int:
    """A timestamp record (hrtime_t, ns) in whole seconds, as C's division."""
    ns = _int(raw, True)
    return abs(ns) // 1_000_000_000 * (-1 if ns < 0 else 1)


def convert(c: Conversion, raw: bytes, width: int | None, prec: int | None) -> bytes:
    """One conversion applied to one argument record."""
    flags = c.flags.replace("'", "").replace("@", "")
    conv = c.conv
    if conv in "di":
        signed = c.signed
        return c_int(_int(raw, signed), "d" if signed else "u", flags, width, prec)
    if conv in "uoxX":
        return c_int(_int(raw, False), conv, flags, width, prec)
    if conv == "p":
        return c_int(_int(raw, False), "x", flags, width, prec)
    if conv == "c":
        return c_str(bytes((_int(raw, False) & 0xFF,)), flags, width, None)
    if conv == "C":
        return c_str(escape(bytes((_int(raw, False) & 0xFF,))), flags, width, None)
    if conv == "s":
        return c_str(_cstr(raw), flags, width, prec)
    if conv == "S":
        return c_str(escape(_cstr(raw)), flags, width, prec)
    if conv in "eEfgG":
        return c_float(raw, conv, flags, width, prec)
    if conv == "a":
        return c_str(conv_addr(raw), flags, width, prec)
    if conv == "A":
        return c_str(conv_uaddr(raw), flags, width, prec)
    if conv == "k":
        return conv_stack(raw, flags, width, lambda b: c_str(b, flags, width, prec))
    if conv in "YT":
        # pfprint_time ("1973 Dec  3 17:20:00", from ctime) and pfprint_time822,
        # both local time and printed as %s with the conversion's width
        form = "%Y %b %e %T" if conv == "Y" else "%a, %d %b %Y %T %Z"
        try:
            tm = time.localtime(_seconds(raw))
        except (OverflowError, OSError, ValueError) as e:
            raise PrintfError(f"%{conv} of an out-of-range time: {e}") from None
        return c_str(time.strftime(form, tm).encode(), flags, width, prec)
    raise PrintfError(f"conversion %{conv} is not supported")


def format_printf(fmt: Format, args: list[bytes]) -> bytes:
    """The bytes printf(fmt, ...) prints, given each argument record's bytes.

    '*' and '.*' consume an integer argument before the value, as in C.
    """
    return _format(fmt, args, None)


# Renders a %@ conversion: (conversion, width, precision) -> bytes.
AggValue = Callable[[Conversion, "int | None", "int | None"], bytes]


def format_printa(fmt: Format, keys: list[bytes], values: Sequence[AggValue]) -> bytes:
    """The bytes printa(fmt, @a[, @b ...]) prints for one entry.

    Ordinary conversions (and '*' widths) consume the keys in order; each %@
    conversion prints the next aggregation's value, the last one repeating
    (libdtrace's dt_printf_format with aggregation data).
    """
    return _format(fmt, keys, values)


def _format(fmt: Format, args: list[bytes], values: Sequence[AggValue] | None) -> bytes:
    out = []
    it = iter(args)
    cur = 0

    def take() -> bytes:
        try:
            return next(it)
        except StopIteration:
            raise PrintfError("missing argument record") from None

    for piece in fmt.pieces:
        if isinstance(piece, str):
            out.append(piece.encode("utf-8", "surrogateescape"))
            continue
        flags = piece.flags
        width, prec = piece.width, piece.precision
        if width == -1:
            width = _int(take(), True)
            if width < 0:
                flags += "-"
                width = -width
        if prec == -1:
            prec = _int(take(), True)
            if prec < 0:
                prec = None
        if piece.flags != flags:
            piece = Conversion(
                piece.text, flags, width, prec, piece.length, piece.conv, piece.signed
            )
        if values is not None and "@" in piece.flags:
            if not values:
                raise PrintfError("%@ conversion without an aggregation")
            out.append(values[cur](piece, width, prec))
            if cur < len(values) - 1:
                cur += 1
            continue
        out.append(convert(piece, take(), width, prec))
    return b"".join(out)
