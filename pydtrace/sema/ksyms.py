"""Kernel symbol addresses for the backquote operator (`` `sym ``,
`` module`sym ``), from /proc/kallsyms, read once per run on first use.

DTrace resolves a backquoted name against the kernel's symbol tables and
compiles a load from the address it finds; on Linux those tables are
/proc/kallsyms, whose addresses are real only for root (kptr_restrict shows
others zeros).  vmlinux symbols carry no module; a module's carry
``[module]``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydtrace.errors import DError

KALLSYMS = "/proc/kallsyms"

_text: dict[str, str] = {}
# per kallsyms file: (__per_cpu_start, __per_cpu_end, __per_cpu_offset)
_percpu: dict[str, tuple[int, int, int] | None] = {}


def _read(path: str) -> str:
    if path not in _text:
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                _text[path] = f.read()
        except OSError as e:
            raise DError("D_IDENT_UNDEF", f"failed to read {path}: {e.strerror}") from None
    return _text[path]


_LINE = re.compile(r"([0-9a-fA-F]+) \w (\S+)(?:\t\[(\S+)\])?")


def _named(text: str, name: str) -> Iterator[tuple[int, str]]:
    """(address, module) of every kallsyms line naming name.  A substring
    search for " name" followed by the end of the name, then the line is
    parsed: a regex over the whole text costs ~0.1 s of host CPU per lookup
    (a second in the test VM), and a compile may make four."""
    needle = " " + name
    i = text.find(needle)
    while i >= 0:
        end = i + len(needle)
        if text[end : end + 1] in ("\n", "\t", ""):
            start = text.rfind("\n", 0, i) + 1
            stop = text.find("\n", end)
            m = _LINE.fullmatch(text, start, len(text) if stop < 0 else stop)
            if m and m.group(2) == name:
                yield int(m.group(1), 16), m.group(3) or "vmlinux"
        i = text.find(needle, end)


def lookup(name: str, module: str, what: str, path: str = KALLSYMS) -> tuple[int, str]:
    """(address, module) of kernel symbol name: vmlinux's for module
    "vmlinux", that module's for another module, else vmlinux's first, then
    any module's; the address is 0 when kallsyms hides the addresses (not
    root).  DError (D_IDENT_UNDEF) when there is no such symbol."""
    found = list(_named(_read(path), name))
    if module:
        found = [f for f in found if f[1] == module]
    else:
        found.sort(key=lambda f: f[1] != "vmlinux")
    if not found:
        raise DError("D_IDENT_UNDEF", f"failed to resolve {what}: Unknown symbol name")
    return found[0]


def address(name: str, module: str, what: str, path: str = KALLSYMS) -> int:
    """The address of kernel symbol name (see lookup)."""
    return lookup(name, module, what, path)[0]


def percpu_offsets(addr: int, module: str, path: str = KALLSYMS) -> int | None:
    """For a vmlinux per-CPU variable at kallsyms address addr (inside
    [__per_cpu_start, __per_cpu_end): on x86_64 an offset into each CPU's
    per-CPU area, not a pointer), the address of __per_cpu_offset[], the
    array of those areas' offsets (per_cpu_ptr(&var, cpu) is
    &var + __per_cpu_offset[cpu]); else None."""
    if module != "vmlinux":
        return None
    if path not in _percpu:
        try:
            _percpu[path] = (
                address("__per_cpu_start", "vmlinux", "", path),
                address("__per_cpu_end", "vmlinux", "", path),
                address("__per_cpu_offset", "vmlinux", "", path),
            )
        except DError:
            _percpu[path] = None  # !CONFIG_SMP: no per-CPU areas
    area = _percpu[path]
    if area is None or not area[0] <= addr < area[1] or area[2] == 0:
        return None
    return area[2]


def hidden(what: str, path: str = KALLSYMS) -> DError:
    return DError(
        "D_IDENT_UNDEF",
        f"failed to resolve {what}: kernel addresses are hidden ({path} shows them to root)",
    )
