"""Where the functions fbt may probe start, for DTRACEIOC_FBTPROVIDE.

The module creates the probes of many functions in one call when each
comes with its address: it checks that its own symbol table names the
function at exactly that address (a binary search), where a bare name
would cost a test kprobe each.  The addresses come from /proc/kallsyms
(real only for root: kptr_restrict shows others zeros).  Functions in the
kprobes blacklist (/sys/kernel/debug/kprobes/blacklist, address ranges)
are left out: kprobes would refuse them at enable.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydtrace.runtime.fbtnames import KERNEL_MODULE, KernelFunction

KALLSYMS = "/proc/kallsyms"
BLACKLIST = ("/sys/kernel/debug/kprobes/blacklist",)
_TEXT = re.compile(r"^([0-9a-fA-F]+) [tTwW] (\S+)(?:\t\[(\S+)\])?$", re.M)
_RANGE = re.compile(r"^0x([0-9a-fA-F]+)-0x([0-9a-fA-F]+)", re.M)
_NAME = re.compile(r"^0x[0-9a-fA-F]+-0x[0-9a-fA-F]+\s+(\S+)", re.M)


def parse_text_symbols(text: str) -> dict[tuple[str, str], int]:
    """(module, name) -> the first address of that text symbol; {} when the
    addresses are hidden."""
    out: dict[tuple[str, str], int] = {}
    for addr, name, mod in _TEXT.findall(text):
        key = (mod or KERNEL_MODULE, name)
        if key not in out:
            out[key] = int(addr, 16)
    out = {k: a for k, a in out.items() if a}
    return out


@dataclass(frozen=True)
class Blacklist:
    """The kprobes blacklist: its address ranges [start, end) and symbol
    names (kprobes also refuses a compiler clone such as foo.isra.0 of a
    blacklisted foo)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Blacklist:
        ranges = sorted((int(m.group(1), 16), int(m.group(2), 16)) for m in _RANGE.finditer(text))
        names = frozenset(m.group(1) for m in _NAME.finditer(text))
        return cls(tuple(r[0] for r in ranges), tuple(r[1] for r in ranges), names)

    def refuses(self, name: str, addr: int) -> bool:
        return addr in self or name.split(".", 1)[0] in self.names

    def __contains__(self, addr: object) -> bool:
        """Is addr in a range?  (The kernel's ranges do not overlap: one per
        blacklisted symbol.)"""
        if not isinstance(addr, int):
            return False
        i = bisect.bisect_right(self.starts, addr) - 1
        return i >= 0 and addr < self.ends[i]


def _read(paths: Iterable[str]) -> str | None:
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            continue
    return None


def read_text_symbols(path: str = KALLSYMS) -> dict[tuple[str, str], int]:
    text = _read((path,))
    return parse_text_symbols(text) if text else {}


def read_blacklist(paths: Iterable[str] = BLACKLIST) -> Blacklist:
    """The blacklist; empty when it cannot be read (no debugfs)."""
    return Blacklist.parse(_read(paths) or "")


def with_addresses(
    funcs: Iterable[KernelFunction],
    symbols: dict[tuple[str, str], int],
    blacklist: Blacklist,
) -> list[tuple[KernelFunction, int]]:
    """Each function kallsyms knows, with its address, unless blacklisted."""
    out = []
    for kf in funcs:
        addr = symbols.get((kf.module, kf.name))
        if addr is not None and not blacklist.refuses(kf.name, addr):
            out.append((kf, addr))
    return out
