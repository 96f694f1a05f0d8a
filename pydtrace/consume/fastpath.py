"""Plans for the drain loop (``_drain``): how one EPID's records print.

A plan is made once per EPID (and CPU, for the probe line) from the same
grouping :meth:`Printer.actions` does, for the clauses whose output depends
on nothing but their records: printf() and trace() of any value, stack
records, in quiet mode or after the header.  Clauses with exit(), printa(),
tracemem(), system(), freopen() or library actions, ERROR reports and
flowindent have no plan: the Python printer prints them.

The integer conversions printf.py reproduces in Python are handed to the C
library's snprintf with the same flags, width and precision (printf.py is
itself checked against the C library); strings and characters are padded
as printf.py pads them; every other conversion and value is a Python step
calling the very function the Python printer calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydtrace.abi import DTRACE_UARG_ERROR, lib
from pydtrace.consume import stackfmt
from pydtrace.consume.destr import KINDS as SHELL_KINDS
from pydtrace.consume.output import trace_value
from pydtrace.consume.printf import convert, format_printf
from pydtrace.consume.records import is_string_trace, string_record
from pydtrace.fmt import Conversion, Format
from pydtrace.runtime import EProbe, RecDesc

try:
    from pydtrace.consume import _drain
except ImportError:  # not built: the Python printer prints everything
    _drain = None  # type: ignore[assignment]

AVAILABLE = _drain is not None

# step kinds, as _drain numbers them
LIT, INT, STR, CHAR, PY1, PYREC = 0, 1, 2, 3, 4, 5

Step = tuple[int, int, int, int, int, int, int, bytes, Any]

# actions whose clause the Python printer handles (Printer.actions' special cases)
_UNPLANNED = frozenset(
    (lib.DTRACEACT_TRACEMEM, lib.DTRACEACT_EXIT, lib.DTRACEACT_PRINTA, lib.DTRACEACT_LIBACT)
)
_NATIVE_INT = frozenset("diuoxXp")


def _lit(b: bytes) -> Step:
    return (LIT, 0, 0, 0, 0, -1, -1, b"", b)


def _int_step(r: RecDesc, spec: bytes, signed: bool) -> Step:
    return (INT, r.offset, r.size, int(signed), 0, -1, -1, spec, None)


def _py1(r: RecDesc, fn: Callable[[bytes], bytes]) -> Step:
    return (PY1, r.offset, r.size, 0, 0, -1, -1, b"", fn)


def _pyrec(fn: Callable[[bytes, int], bytes]) -> Step:
    return (PYREC, 0, 0, 0, 0, -1, -1, b"", fn)


def _int_spec(flags: str, width: int | None, prec: int | None, conv: str) -> bytes:
    """The snprintf conversion of an integer read into a (unsigned) long long."""
    w = "" if width is None else str(width)
    p = "" if prec is None else f".{prec}"
    return f"%{flags}{w}{p}ll{conv}".encode()


def conversion_step(c: Conversion, r: RecDesc) -> Step:
    """One printf conversion of one argument record (no '*')."""
    flags = c.flags.replace("'", "").replace("@", "")
    width, prec = c.width, c.precision
    if r.size in (1, 2, 4, 8):
        if c.conv in _NATIVE_INT:
            signed = c.conv in "di" and c.signed
            conv = {"d": "d", "i": "d", "p": "x"}.get(c.conv, c.conv)
            if c.conv in "di" and not signed:
                conv = "u"
            return _int_step(r, _int_spec(flags, width, prec, conv), signed)
        if c.conv == "c":
            return (CHAR, r.offset, r.size, 0, int("-" in flags), _w(width), -1, b"", None)
    if c.conv == "s":
        return (STR, r.offset, r.size, 0, int("-" in flags), _w(width), _w(prec), b"", None)

    def one(raw: bytes, c: Conversion = c) -> bytes:
        return convert(c, raw, c.width, c.precision)

    return _py1(r, one)


def _w(v: int | None) -> int:
    return -1 if v is None else v


def printf_steps(fmt: Format, recs: Sequence[RecDesc]) -> list[Step]:
    """The steps of one printf() with its argument records (format_printf's
    order: literals, and each conversion takes the next record)."""
    convs = [p for p in fmt.pieces if isinstance(p, Conversion)]
    if len(convs) > len(recs) or any(c.width == -1 or c.precision == -1 for c in convs):

        def whole(data: bytes, off: int) -> bytes:
            return format_printf(
                fmt, [data[off + r.offset : off + r.offset + r.size] for r in recs]
            )

        return [_pyrec(whole)]
    steps: list[Step] = []
    it = iter(recs)
    for piece in fmt.pieces:
        if isinstance(piece, str):
            steps.append(_lit(piece.encode("utf-8", "surrogateescape")))
        else:
            steps.append(conversion_step(piece, next(it)))
    return steps


def trace_step(r: RecDesc, quiet: bool, rawbytes: bool) -> Step:
    """A trace()d record (output.trace_value)."""
    if r.action in stackfmt.KINDS:
        action, arg = r.action, r.arg
        return _py1(r, lambda raw: stackfmt.record_text(action, arg, raw))
    if r.size in (8, 4):
        spec = b"%lld" if quiet else (b" %16lld" if r.size == 8 else b" %8lld")
        return _int_step(r, spec, True)
    if r.size in (2, 1):
        spec = b"%llu" if quiet else (b" %5llu" if r.size == 2 else b" %3llu")
        return _int_step(r, spec, False)
    if is_string_trace(r):
        return _py1(r, lambda raw: trace_value(string_record(raw), quiet, rawbytes))
    return _py1(r, lambda raw: trace_value(raw, quiet, rawbytes))


def plan_steps(
    ep: EProbe, formats: Sequence[Format], quiet: bool, rawbytes: bool, prefix: bytes
) -> list[Step] | None:
    """The steps of an EPID's records, or None if the Python printer must
    print them (mirrors Printer.actions and Printer.ecb)."""
    if ep.uarg == DTRACE_UARG_ERROR:
        return None
    recs = ep.recs
    steps = [_lit(prefix)] if prefix else []
    i = 0
    while i < len(recs):
        r = recs[i]
        if r.action in _UNPLANNED or (r.action == lib.DTRACEACT_TRACEMEM_DYNSIZE and r.size == 8):
            return None
        if r.action == lib.DTRACEACT_PRINTF and 0 < r.format <= len(formats):
            j = i + 1
            while j < len(recs) and recs[j].action == lib.DTRACEACT_PRINTF and recs[j].format == 0:
                j += 1
            steps += printf_steps(formats[r.format - 1], recs[i:j])
            i = j
            continue
        if r.action in SHELL_KINDS and 0 < r.format <= len(formats):
            return None
        if r.size:
            steps.append(trace_step(r, quiet, rawbytes))
        i += 1
    if not quiet:
        steps.append(_lit(b"\n"))
    return steps


def make_plan(
    ep: EProbe, formats: Sequence[Format], quiet: bool, rawbytes: bool, prefix: bytes
) -> object | None:
    """A _drain.Plan, or None (no plan, or the extension is not built)."""
    if _drain is None:
        return None
    steps = plan_steps(ep, formats, quiet, rawbytes, prefix)
    if steps is None:
        return None
    return _drain.Plan(ep.size, steps)


def render(data: bytes, start: int, end: int, plans: dict[int, object], limit: int) -> Any:
    """_drain.render: (output, offset, reason, count)."""
    return _drain.render(data, start, end, plans, limit)


DONE, SLOW, FULL = 0, 1, 2
