"""The text of stack(), ustack() and symbol records as dtrace(1) prints
them: in the record stream, as aggregation keys, and for printf/printa's
%k, %a and %A (dtrace-internals.md 7.4, 7.5, 7.8).
"""

from __future__ import annotations

from collections.abc import Callable

from pydtrace.abi import lib
from pydtrace.consume.symbols import Symbolizer, default, words

STACK = int(lib.DTRACEACT_STACK)
USTACK = int(lib.DTRACEACT_USTACK)
SYM = int(lib.DTRACEACT_SYM)
MOD = int(lib.DTRACEACT_MOD)
USYM = int(lib.DTRACEACT_USYM)
UMOD = int(lib.DTRACEACT_UMOD)
UADDR = int(lib.DTRACEACT_UADDR)
STACKS = (STACK, USTACK)
KINDS = frozenset((STACK, USTACK, SYM, MOD, USYM, UMOD, UADDR))


class KeyBytes(bytes):
    """A record's bytes that remember the record's action and argument, so
    %k can tell a stack() from a ustack() (printa's keys)."""

    action: int = 0
    arg: int = 0


def tagged(action: int, arg: int, raw: bytes) -> bytes:
    if action not in KINDS:
        return raw
    k = KeyBytes(raw)
    k.action = action
    k.arg = arg
    return k


def _frames(
    pcs: list[int], text: Callable[[int], str], indent: int, frame: Callable[[str], bytes]
) -> bytes:
    out = [b"\n"]
    for pc in pcs:
        if pc == 0:
            break
        out.append(b" " * indent + frame(text(pc)) + b"\n")
    return b"".join(out)


def _plain(s: str) -> bytes:
    return s.encode("utf-8", "replace")


def stack_text(
    raw: bytes,
    nframes: int,
    indent: int | None = None,
    frame: Callable[[str], bytes] = _plain,
    sym: Symbolizer | None = None,
) -> bytes:
    """dt_print_stack: a newline, then one indented line per frame."""
    s = sym or default()
    pcs = words(raw)[:nframes]
    return _frames(pcs, s.addr2str, s.indent if indent is None else indent, frame)


def ustack_text(
    raw: bytes,
    nframes: int,
    indent: int | None = None,
    frame: Callable[[str], bytes] = _plain,
    sym: Symbolizer | None = None,
) -> bytes:
    """dt_print_ustack: as stack_text, the process's pid in the first word."""
    s = sym or default()
    w = words(raw)
    if not w:
        return b"\n"
    pid = w[0]
    pcs = w[1 : 1 + nframes]
    return _frames(
        pcs, lambda pc: s.uaddr2str(pid, pc), s.indent if indent is None else indent, frame
    )


def record_text(action: int, arg: int, raw: bytes, sym: Symbolizer | None = None) -> bytes:
    """A stack or symbol record in the record stream or as an aggregation
    key without a format: stacks as stacks, the others "  %-50s"."""
    s = sym or default()
    if action == STACK:
        return stack_text(raw, arg, sym=s)
    if action == USTACK:
        return ustack_text(raw, arg & 0xFFFFFFFF, sym=s)
    w = words(raw)
    if action == SYM:
        text = s.sym(w[0])
    elif action == MOD:
        text = s.mod(w[0])
    elif action == UMOD:
        text = s.umod(w[0], w[1])
    elif action == USYM:
        text = s.usym(w[0], w[1])
    else:
        text = s.uaddr2str(w[0], w[1])
    return b"  %-50s" % _plain(text)


def python_value(
    action: int, arg: int, raw: bytes, sym: Symbolizer | None = None
) -> str | tuple[str, ...]:
    """The scripting API's key: a stack's frames as printed (innermost
    first, no indentation), a symbol record's text."""
    if action in STACKS:
        text = record_text(action, arg, raw, sym)
        return tuple(
            line.strip().decode("utf-8", "replace") for line in text.splitlines() if line.strip()
        )
    return record_text(action, arg, raw, sym)[2:].rstrip(b" ").decode("utf-8", "replace")


def conv_stack(
    raw: bytes,
    flags: str,
    width: int | None,
    pad: Callable[[bytes], bytes],
    sym: Symbolizer | None = None,
) -> bytes:
    """%k (pfprint_stack): the indentation is the width of a left-adjusted
    conversion, else 0; each frame is printed with the conversion."""
    indent = (width or 0) if "-" in flags else 0
    action = getattr(raw, "action", STACK)
    arg = getattr(raw, "arg", len(raw) // 8)

    def frame(t: str) -> bytes:
        return pad(_plain(t))

    if action == USTACK:
        return ustack_text(raw, arg & 0xFFFFFFFF, indent, frame, sym)
    return stack_text(raw, arg, indent, frame, sym)


def conv_addr(raw: bytes, sym: Symbolizer | None = None) -> bytes:
    """%a (pfprint_addr): a kernel address as mod`func+0xoff."""
    return _plain(
        (sym or default()).addr2str(
            words(raw)[0] if len(raw) >= 8 else int.from_bytes(raw, "little")
        )
    )


def conv_uaddr(raw: bytes, sym: Symbolizer | None = None) -> bytes:
    """%A (pfprint_uaddr): a user address; (pid, address) records of
    usym()/uaddr() name their process, plain integers the -c/-p one."""
    s = sym or default()
    w = words(raw)
    if len(w) >= 2:
        return _plain(s.uaddr2str(w[0], w[1]))
    pc = w[0] if w else int.from_bytes(raw, "little")
    return _plain(s.uaddr2str(s.target, pc))
