"""The kernel functions fbt can probe, and which of them an fbt glob names.

The module cannot list kernel functions (kallsyms is not exported to
modules), so fbt probes are created on demand.  For a probe description
whose function (or module) field is a glob, and for listing, user space
reads the functions ftrace can trace from tracefs's
``available_filter_functions`` (lines ``func`` or ``func [module]``),
matches them with DTrace's glob rules, and hands them to the module with
their addresses (pydtrace.runtime.fbtaddrs, DTRACEIOC_FBTPROVIDE).  An
exact function name goes to the module as it is (DTRACEIOC_PROVIDE, or the
ENABLE that names it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FILTER_FUNCTIONS = (
    "/sys/kernel/tracing/available_filter_functions",
    "/sys/kernel/debug/tracing/available_filter_functions",
)
# Each function enabled costs a kprobe: cap what one description enables.
MAX_FUNCTIONS = 2000
FBT = "fbt"
KERNEL_MODULE = "vmlinux"
_FBT_NAMES = ("entry", "return")
_GLOB_CHARS = frozenset("*?[\\")

Desc = tuple[str, str, str, str]  # provider, module, function, name


# -- DTrace's globs (kmod/probe.c dtrace_gmatch): * ? [set] [!set] a-z \x ------
def _parse_set(p: str, i: int) -> tuple[int, bool, list[tuple[str, str]]]:
    """The set at p[i] ('['): (pattern chars it spans, negated, its
    (lo, hi) ranges, a single character as (c, c)); span 0 when malformed."""
    q = i + 1
    neg = q < len(p) and p[q] == "!"
    if neg:
        q += 1
    items: list[tuple[str, str]] = []
    first = True
    while q < len(p) and (p[q] != "]" or first):
        first = False
        lo = p[q]
        if lo == "\\" and q + 1 < len(p):
            q += 1
            lo = p[q]
        q += 1
        hi = lo
        if q + 1 < len(p) and p[q] == "-" and p[q + 1] != "]":
            hi = p[q + 1]
            if hi == "\\" and q + 2 < len(p):
                q += 1
                hi = p[q + 1]
            q += 2
        items.append((lo, hi))
    if q >= len(p) or p[q] != "]":
        return 0, neg, []
    return q + 1 - i, neg, items


def _elem(p: str, i: int, c: str) -> tuple[int, bool]:
    """Match the pattern element at p[i] against c: (pattern chars it spans,
    hit); span 0 for a malformed set."""
    ch = p[i]
    if ch == "?":
        return 1, True
    if ch == "\\":
        if i + 1 < len(p):
            return 2, p[i + 1] == c
        return 1, c == "\\"
    if ch != "[":
        return 1, ch == c
    n, neg, items = _parse_set(p, i)
    if not n:
        return 0, False
    return n, any(lo <= c <= hi for lo, hi in items) != neg


def gmatch(s: str, p: str) -> bool:
    """Does s match the DTrace glob p (as the module matches)?"""
    si = pi = 0
    star_p = star_s = -1
    while True:
        if pi < len(p) and p[pi] == "*":
            while pi < len(p) and p[pi] == "*":
                pi += 1
            if pi == len(p):
                return True
            star_p, star_s = pi, si
            continue
        if si == len(s):
            return pi == len(p)
        if pi < len(p):
            n, hit = _elem(p, pi, s[si])
            if n and hit:
                pi += n
                si += 1
                continue
        if star_p < 0:
            return False
        pi = star_p
        star_s += 1
        si = star_s


@functools.lru_cache(maxsize=256)
def glob_regex(p: str) -> re.Pattern[str]:
    """The DTrace glob p as a regular expression that matches as gmatch
    does (a malformed set matches nothing; a range whose ends are reversed
    holds nothing)."""
    out: list[str] = []
    i = 0
    while i < len(p):
        ch = p[i]
        if ch == "*":
            out.append(".*")
            i += 1
        elif ch == "?":
            out.append(".")
            i += 1
        elif ch == "\\":
            out.append(re.escape(p[i + 1] if i + 1 < len(p) else "\\"))
            i += 2
        elif ch != "[":
            out.append(re.escape(ch))
            i += 1
        else:
            n, cls = _set_regex(p, i)
            out.append(cls)
            i += n if n else len(p)
    return re.compile("".join(out), re.S)


def _set_regex(p: str, i: int) -> tuple[int, str]:
    """The set at p[i] ('['): (pattern chars it spans, regex); span 0 for a
    malformed set, which matches nothing (as _elem).  A range whose ends are
    reversed holds nothing."""
    n, neg, ranges = _parse_set(p, i)
    if not n:
        return 0, "(?!)"
    items = [
        re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
        for lo, hi in ranges
        if lo <= hi
    ]
    if not items:
        return n, "." if neg else "(?!)"
    return n, f"[{'^' if neg else ''}{''.join(items)}]"


def field_matches(field: str, pat: str) -> bool:
    """An empty pattern field matches anything."""
    return not pat or glob_regex(pat).fullmatch(field) is not None


def is_glob(s: str) -> bool:
    return any(c in _GLOB_CHARS for c in s)


# -- available_filter_functions ------------------------------------------------
@dataclass(frozen=True)
class KernelFunction:
    """A probeable kernel function and the module it is in."""

    module: str  # "vmlinux" for the kernel image
    name: str


def parse_filter_functions(text: str) -> list[KernelFunction]:
    """The lines "func" or "func [module]", in order, each (module, name)
    once (static functions of the same name appear several times)."""
    out: list[KernelFunction] = []
    seen: set[tuple[str, str]] = set()
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        name, module = parts[0], KERNEL_MODULE
        if len(parts) > 1 and parts[1].startswith("[") and parts[1].endswith("]"):
            module = parts[1][1:-1] or KERNEL_MODULE
        key = (module, name)
        if key not in seen:
            seen.add(key)
            out.append(KernelFunction(module, name))
    return out


def read_filter_functions(paths: Iterable[str] = FILTER_FUNCTIONS) -> list[KernelFunction]:
    """The probeable functions of the running kernel; [] when tracefs is not
    readable (then fbt globs match only probes created before)."""
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return parse_filter_functions(f.read())
        except OSError:
            continue
    return []


# -- which exact names a description needs -------------------------------------
class TooManyFunctions(Exception):
    """A description names more functions than fbt creates probes for at once."""

    def __init__(self, desc: Desc, count: int, limit: int) -> None:
        self.desc = desc
        self.count = count
        self.limit = limit
        super().__init__(
            f"probe description {':'.join(desc)} matches too many fbt functions "
            f"({count}; at most {limit} per description): name fewer functions"
        )


def can_be_fbt(desc: Desc) -> bool:
    """Could the description match an fbt probe?"""
    return field_matches(FBT, desc[0]) and any(field_matches(n, desc[3]) for n in _FBT_NAMES)


def fbt_functions(
    desc: Desc,
    functions: Callable[[], list[KernelFunction]],
    *,
    limit: int | None = MAX_FUNCTIONS,
) -> list[KernelFunction]:
    """The exact functions to provide for desc, in the order of the names
    file.  functions() is called only when a glob needs it.  An exact
    function name is returned as it is (module "" unless the description
    names one exactly).  Raises TooManyFunctions beyond limit (None: no
    limit, as for listing)."""
    if not can_be_fbt(desc):
        return []
    _, mod, func, _ = desc
    if func and not is_glob(func):
        return [KernelFunction("" if is_glob(mod) else mod, func)]
    found = [
        kf for kf in functions() if field_matches(kf.module, mod) and field_matches(kf.name, func)
    ]
    if limit is not None and len(found) > limit:
        raise TooManyFunctions(desc, len(found), limit)
    return found
