"""dtrace(1)'s default output formats (dtrace-internals 7.1-7.3), as bytes.

Everything a consumer prints goes through these functions so the bytes match
dtrace(1)'s printf formats exactly; nothing here does I/O.
"""

from __future__ import annotations

import sys

from pydtrace.abi import lib
from pydtrace.runtime import ProbeDesc, Status

HEADER = b"%3s %6s %32s\n" % (b"CPU", b"ID", b"FUNCTION:NAME")
LIST_HEADER = b"%5s %10s %17s %33s %s\n" % (b"ID", b"PROVIDER", b"MODULE", b"FUNCTION", b"NAME")

# Flow indentation (-F, the flowindent option; dtrace-internals 7.2).  Followed:
# illumos usr/src/cmd/dtrace/dtrace.c chew() for the header and line formats
# ("%3s %-41s\n", "%3d %-41s ", and "%*s%s%s" / "%*s%s%s:%s" for the name) and
# usr/src/lib/libdtrace/common/dt_consume.c dt_flowindent() for the kinds and
# prefixes; Oracle's dtrace-utils has the same code.
FLOW_HEADER = b"%3s %-41s\n" % (b"CPU", b"FUNCTION")
FLOW_NONE, FLOW_ENTRY, FLOW_RETURN = 0, 1, 2

_PRINTABLE_CTRL = frozenset(b"\b\a\t\n\v\f\r")


def probe_line(cpu: int, probe: ProbeDesc) -> bytes:
    """The start of a non-quiet ECB line: CPU, probe id, function:name."""
    name = f"{probe.func}:{probe.name}".encode()
    return b"%3d %6d %32s " % (cpu, probe.id, name)


def _ends_flow_name(name: str, word: str) -> bool:
    """dt_flowindent()'s test: the first occurrence of word is at the end of
    name and is the whole name or follows a '-' ("method-entry" counts,
    "carpentry" does not)."""
    i = name.find(word)
    return i >= 0 and i + len(word) == len(name) and (i == 0 or name[i - 1] == "-")


def flow_kind(probe: ProbeDesc) -> int:
    """FLOW_ENTRY for "entry" or "*-entry", FLOW_RETURN for "return" or
    "*-return", else FLOW_NONE (before dt_flowindent's EPID heuristics)."""
    if _ends_flow_name(probe.name, "entry"):
        return FLOW_ENTRY
    if _ends_flow_name(probe.name, "return"):
        return FLOW_RETURN
    return FLOW_NONE


def flow_line(cpu: int, probe: ProbeDesc, indent: int, kind: int) -> bytes:
    """The start of a flow-indented ECB line: ``"%3d %-41s "`` of the
    indentation, then " -> func" / " <- func" (" => " / " <= " for the syscall
    provider) or "| func:name" for a probe that is neither."""
    func = probe.func.encode()
    if kind == FLOW_NONE:
        name = b"%*s| %s:%s" % (indent, b"", func, probe.name.encode())
    else:
        syscall = probe.provider == "syscall"
        if kind == FLOW_ENTRY:
            prefix = b" => " if syscall else b" -> "
        else:
            prefix = b" <= " if syscall else b" <- "
        name = b"%*s%s%s" % (indent, b"", prefix, func)
    return b"%3d %-41s " % (cpu, name)


LIST_FMT = b"%5d %10s %17s %33s %s\n"  # id, provider, module, function, name


def list_line(probe: ProbeDesc) -> bytes:
    """One row of ``-l``."""
    return LIST_FMT % (
        probe.id,
        probe.provider.encode(),
        probe.mod.encode(),
        probe.func.encode(),
        probe.name.encode(),
    )


def _printable(c: int) -> bool:
    """isprint(c) || isspace(c) || c == '\\b' || c == '\\a' in the C locale."""
    return 0x20 <= c <= 0x7E or c in _PRINTABLE_CTRL


def hexdump(raw: bytes) -> bytes:
    """dt_print_bytes()'s raw form: a header row, then 16 bytes per row."""
    margin = b" " * 5
    out = [b"\n", margin, b" " * 6]
    out += [b"  %c" % c for c in b"0123456789abcdef"]
    out.append(b"  0123456789abcdef\n")
    for i in range(0, len(raw), 16):
        row = raw[i : i + 16]
        out.append(margin + b"%5x:" % i)
        out += [b" %02x" % c for c in row]
        out.append(b"   " * (16 - len(row)))
        out.append(b"  ")
        out.append(bytes(c if 0x20 <= c <= 0x7E else 0x2E for c in row))
        out.append(b"\n")
    return b"".join(out)


def print_bytes(raw: bytes, width: int, quiet: bool, rawbytes: bool = False) -> bytes:
    """dt_print_bytes(): a string if the bytes look like one, else a hex dump.

    ``width`` is dtrace's: -33 for trace() (left-justified), 50 for keys.
    """
    if not raw:
        return b""
    if rawbytes:
        return hexdump(raw)
    n = len(raw)
    for i, c in enumerate(raw):
        if _printable(c):
            continue
        if c == 0 and i > 0:
            if raw[i + 1 :].count(0) != n - i - 1:
                break  # more data after the NUL: not a string
            s = raw[:i]
            if quiet:
                return s
            pad = b" " if width < 0 else b""
            return b" " + pad + (s.ljust(-width) if width < 0 else s.rjust(width))
        break
    else:
        # all printable, no NUL: a string of exactly these bytes
        return b"  " + raw.ljust(abs(width))
    return hexdump(raw)


def trace_value(raw: bytes, quiet: bool, rawbytes: bool = False) -> bytes:
    """A trace() record (7.3): integers by size, anything else as bytes."""
    n = len(raw)
    if n == 8:
        v = int.from_bytes(raw, sys.byteorder, signed=True)
        return b"%d" % v if quiet else b" %16d" % v
    if n == 4:
        v = int.from_bytes(raw, sys.byteorder, signed=True)
        return b"%d" % v if quiet else b" %8d" % v
    if n == 2:
        v = int.from_bytes(raw, sys.byteorder)
        return b"%d" % v if quiet else b" %5d" % v
    if n == 1:
        return b"%d" % raw[0] if quiet else b" %3d" % raw[0]
    return print_bytes(raw, -33, quiet, rawbytes)


def tracemem_value(raw: bytes, dynsize: int = 0) -> bytes:
    """A tracemem() record (7.3): always the hex dump, quiet or not
    (dt_print_bytes with forceraw).  dynsize is the value of the
    TRACEMEM_DYNSIZE record before it (0 when there is none): only that
    many bytes are printed, unless it is 0 or larger than the record, as
    dt_consume_cpu clamps it."""
    return print_bytes(raw[: tracemem_size(raw, dynsize)], -33, True, rawbytes=True)


def tracemem_size(raw: bytes, dynsize: int) -> int:
    """How many bytes of a tracemem() record are shown: dynsize, unless it
    is 0 or larger than the record (dt_consume_cpu's clamp)."""
    return len(raw) if dynsize == 0 or dynsize > len(raw) else dynsize


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _tag(kind: str, tags: bool) -> str:
    """The droptags option's prefix: the drop's kind (dtrace_dropkind_t)."""
    return f"[DTRACEDROP_{kind}] " if tags else ""


def cpu_drops(n: int, cpu: int, tags: bool = False) -> str:
    """dt_handle_cpudrop() for the principal buffer (tags: -xdroptags)."""
    return f"{_tag('PRINCIPAL', tags)}{n} {_plural(n, 'drop')} on CPU {cpu}"


def agg_drops(n: int, cpu: int, tags: bool = False) -> str:
    """dt_handle_cpudrop() for an aggregation buffer (tags: -xdroptags)."""
    return f"{_tag('AGGREGATION', tags)}{n} aggregation {_plural(n, 'drop')} on CPU {cpu}"


# Status counters reported as drops (4.5), in libdtrace's order, with their
# drop kind (DTRACEDROP_*).
_STATUS_DROPS: tuple[tuple[str, str, str, str], ...] = (
    ("dyndrops", "DYNAMIC", "dynamic variable drop", ""),
    ("dyndrops_rinsing", "DYNRINSE", "dynamic variable drop", " with non-empty rinsing list"),
    ("dyndrops_dirty", "DYNDIRTY", "dynamic variable drop", " with non-empty dirty list"),
    ("specdrops", "SPEC", "speculative drop", ""),
    ("specdrops_busy", "SPECBUSY", "failed speculation", " (available buffer(s) still busy)"),
    (
        "specdrops_unavail",
        "SPECUNAVAIL",
        "failed speculation",
        " (no speculative buffer available)",
    ),
    ("stkstroverflows", "STKSTROVERFLOW", "jstack()/ustack() string table overflow", ""),
    ("dblerrors", "DBLERROR", "error", " in ERROR probe enabling"),
)


def status_drops(old: Status | None, new: Status, tags: bool = False) -> list[str]:
    """Messages for the status counters that grew since the last status
    (tags: -xdroptags, each prefixed with its kind)."""
    out = []
    for field, kind, word, tail in _STATUS_DROPS:
        n = getattr(new, field) - (getattr(old, field) if old is not None else 0)
        if n > 0:
            out.append(f"{_tag(kind, tags)}{n} {_plural(n, word)}{tail}")
    return out


# dtrace_faultstr(): the text of each DTRACEFLT_* code (2.6), by name.
_FAULT_TEXT = {
    "DTRACEFLT_UNKNOWN": "unknown fault",
    "DTRACEFLT_BADADDR": "invalid address",
    "DTRACEFLT_BADALIGN": "invalid alignment",
    "DTRACEFLT_ILLOP": "illegal operation",
    "DTRACEFLT_DIVZERO": "divide-by-zero",
    "DTRACEFLT_NOSCRATCH": "out of scratch space",
    "DTRACEFLT_KPRIV": "invalid kernel access",
    "DTRACEFLT_UPRIV": "invalid user access",
    "DTRACEFLT_TUPOFLOW": "tuple stack overflow",
    "DTRACEFLT_BADSTACK": "bad stack",
    "DTRACEFLT_LIBRARY": "library-level fault",
}
FAULT_TEXT: dict[int, str] = {getattr(lib, k): v for k, v in _FAULT_TEXT.items()}
# faults whose illval (the address) is printed
_ADDR_FAULTS = frozenset((lib.DTRACEFLT_BADADDR, lib.DTRACEFLT_BADALIGN, lib.DTRACEFLT_BADSTACK))


def fault_message(
    epid: int, probe: ProbeDesc, action: int, offset: int, fault: int, addr: int
) -> str:
    """dt_handle_err()'s text for one ERROR report (7.1): the faulting EPID,
    its probe, the action index (0 = predicate), the DIF byte offset (-1 if
    not in DIF), the DTRACEFLT_* code and the illval."""
    text = FAULT_TEXT.get(fault, "unknown fault")
    details = f" (0x{addr & 0xFFFF_FFFF_FFFF_FFFF:x})" if fault in _ADDR_FAULTS else ""
    where = "predicate" if action == 0 else f"action #{action}"
    at = f" at DIF offset {offset}" if offset != -1 else ""
    return (
        f"error on enabled probe ID {epid} (ID {probe.id}: {probe.fullname}): "
        f"{text}{details} in {where}{at}"
    )
