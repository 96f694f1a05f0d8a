"""What dtrace(1) says after GO when the module chose other sizes or rates.

With ``bufresize=auto`` the module halves a buffer that does not fit and
keeps the size it obtained; it clamps ``cleanrate`` and caps ``statusrate``.
dtrace(1)'s go() compares each option as set before GO with the module's
value after it (DTRACEIOC_OPTGET here, DOFGET there) and prints, after its
``dtrace: `` prefix, ``buffer size lowered to 2m``, ``aggregation size
lowered to 512k``, ``speculation size lowered to 1000 bytes``, ``cleaning
rate reduced to 5000 hz`` ... Only options that were set are compared (as
dtrace(1), which sets bufsize and aggsize itself); a module value of 0 (no
such buffer: nothing aggregates or speculates) says nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

NANOSEC = 1_000_000_000
_U64 = 1 << 64

# (name in the message, option), in dtrace(1)'s order.
BUFFERS: tuple[tuple[str, str], ...] = (
    ("buffer size", "bufsize"),
    ("aggregation size", "aggsize"),
    ("speculation size", "specsize"),
    ("dynamic variable size", "dynvarsize"),
)
RATES: tuple[tuple[str, str], ...] = (
    ("cleaning rate", "cleanrate"),
    ("status rate", "statusrate"),
)


def size_text(nsize: int) -> str:
    """A size as go() prints it: ``2m`` when a whole number of its largest
    unit (k m g t p e; below 1k a blank unit, so ``512 ``), else ``N bytes``."""
    j, mul = 0, 10
    while (1 << mul) <= nsize:
        j += 1
        mul += 10
    if not nsize & ((1 << (mul - 10)) - 1):
        return f"{nsize >> (mul - 10)}{' kmgtpe'[j]}"
    return f"{nsize} bytes"


def size_lowered(name: str, asked: int, nsize: int, unset: int) -> str | None:
    """The message for one buffer size, or None when there is nothing to say."""
    if asked == unset or nsize == unset or nsize == 0:
        return None
    # dtrace(1) compares with an unsigned "asked - sizeof (uint64_t)"
    if nsize % _U64 >= (asked - 8) % _U64:
        return None
    return f"{name} lowered to {size_text(nsize)}"


def rate_changed(name: str, asked: int, nval: int, unset: int) -> str | None:
    """The message for one rate (nanoseconds between events), or None."""
    if asked == unset or nval == unset or nval == 0 or nval == asked:
        return None
    way = "reduced" if nval > asked else "increased"
    if nval <= NANOSEC and NANOSEC % nval == 0:
        return f"{name} {way} to {NANOSEC // nval} hz"
    if nval % NANOSEC == 0:
        return f"{name} {way} to once every {nval // NANOSEC} seconds"
    return f"{name} {way} to once every {nval} nanoseconds"


def go_messages(
    asked: Callable[[str], int], got: Sequence[int], optid: Callable[[str], int], unset: int
) -> list[str]:
    """Every message of go(): asked(option) is the value set before GO (unset
    if never), got[optid(option)] the module's after it."""
    out: list[str] = []

    def module(opt: str) -> int:
        i = optid(opt)
        return got[i] if 0 <= i < len(got) else unset

    for name, opt in BUFFERS:
        msg = size_lowered(name, asked(opt), module(opt), unset)
        if msg:
            out.append(msg)
    for name, opt in RATES:
        msg = rate_changed(name, asked(opt), module(opt), unset)
        if msg:
            out.append(msg)
    return out
