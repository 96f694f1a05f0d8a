"""Kernel and user symbols, and the text dtrace(1) prints for stacks and
addresses (dtrace-internals.md 7.8; libdtrace's dt_print_stack,
dt_print_ustack, dt_print_sym, dt_print_mod, dt_print_usym, dt_print_umod,
dtrace_addr2str and dtrace_uaddr2str).

Kernel symbols come from /proc/kallsyms, read once per run on first use:
the text symbols, named `vmlinux` or by their `[module]` column.  User
symbols come from /proc/PID/maps and the mapped objects' ELF symbol tables
(elfsyms), read when printed: a process that is gone, or an object without
symbols, shows addresses, as dtrace does.
"""

from __future__ import annotations

import bisect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pydtrace.consume.elfsyms import ElfSymbols

KALLSYMS = "/proc/kallsyms"
DEFAULT_INDENT = 14  # _dtrace_stkindent
_TEXT_TYPES = frozenset("tTwW")


class KernelSymbols:
    """The kernel's function symbols: lookup(pc) -> (module, name, address)."""

    def __init__(self, text: str) -> None:
        syms: list[tuple[int, str, str]] = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 3 or parts[1] not in _TEXT_TYPES:
                continue
            try:
                addr = int(parts[0], 16)
            except ValueError:
                continue
            if addr == 0:
                continue  # hidden by kptr_restrict
            mod = parts[3].strip("[]") if len(parts) > 3 else "vmlinux"
            syms.append((addr, parts[2], mod))
        syms.sort()
        self._addrs = [s[0] for s in syms]
        self._syms = syms

    @classmethod
    def load(cls, path: str = KALLSYMS) -> KernelSymbols:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return cls(f.read())
        except OSError:
            return cls("")

    def lookup(self, pc: int) -> tuple[str, str | None, int] | None:
        """(module, function or None, function address) of pc, or None
        when pc is in no known module."""
        i = bisect.bisect_right(self._addrs, pc) - 1
        if i < 0:
            return None
        addr, name, mod = self._syms[i]
        if mod == "vmlinux" and name == "_etext":
            return mod, None, addr  # past the kernel's text: the module only
        return mod, name, addr


class UserSymbols:
    """User symbols of live processes, from /proc/PID/maps and ELF files."""

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc
        self._maps: dict[int, list[tuple[int, int, int, str]] | None] = {}
        self._objs: dict[str, ElfSymbols | None] = {}

    def maps(self, pid: int) -> list[tuple[int, int, int, str]] | None:
        if pid not in self._maps:
            self._maps[pid] = _read_maps(f"{self.proc}/{pid}/maps")
        return self._maps[pid]

    def mapping(self, pid: int, pc: int) -> tuple[int, int, int, str] | None:
        for m in self.maps(pid) or ():
            if m[0] <= pc < m[1]:
                return m
        return None

    def objname(self, pid: int, pc: int) -> str | None:
        """The basename of the object mapped at pc (Pobjname)."""
        m = self.mapping(pid, pc)
        return os.path.basename(m[3]) if m is not None and m[3] else None

    def lookup(self, pid: int, pc: int) -> tuple[str, str, int] | None:
        """(object basename, function, function address) of pc."""
        m = self.mapping(pid, pc)
        if m is None or not m[3].startswith("/"):
            return None
        start, _end, offset, path = m
        if path not in self._objs:
            root = f"{self.proc}/{pid}/root{path}"
            self._objs[path] = ElfSymbols.from_file(root) or ElfSymbols.from_file(path)
        obj = self._objs[path]
        if obj is None:
            return None
        vaddr = obj.vaddr(pc - start + offset)
        if vaddr is None:
            return None
        hit = obj.lookup(vaddr)
        if hit is None:
            return None
        name, symaddr = hit
        return os.path.basename(path), name, pc - (vaddr - symaddr)


def _read_maps(path: str) -> list[tuple[int, int, int, str]] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = []
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        try:
            out.append(
                (
                    int(lo, 16),
                    int(hi, 16),
                    int(parts[2], 16),
                    parts[5].strip() if len(parts) > 5 else "",
                )
            )
        except ValueError:
            continue
    return out


@dataclass
class Symbolizer:
    """The symbol sources of one run; kernel symbols load on first use."""

    kernel_loader: Callable[[], KernelSymbols] = KernelSymbols.load
    user: UserSymbols | None = None
    indent: int = DEFAULT_INDENT  # the stackindent option
    target: int = 0  # the -c/-p process: %A of a plain integer
    _kernel: KernelSymbols | None = None

    @property
    def kernel(self) -> KernelSymbols:
        if self._kernel is None:
            self._kernel = self.kernel_loader()
        return self._kernel

    def users(self) -> UserSymbols:
        if self.user is None:
            self.user = UserSymbols()
        return self.user

    # -- kernel ------------------------------------------------------------

    def addr2str(self, pc: int) -> str:
        """dtrace_addr2str (%a and stack frames): mod`func+0xoff."""
        hit = self.kernel.lookup(pc)
        if hit is None:
            return f"0x{pc:x}"
        mod, name, addr = hit
        if name is None:
            return f"{mod}`0x{pc:x}"
        return f"{mod}`{name}+0x{pc - addr:x}" if pc > addr else f"{mod}`{name}"

    def sym(self, pc: int) -> str:
        """sym()/func(): mod`func, no offset."""
        hit = self.kernel.lookup(pc)
        if hit is None:
            return f"0x{pc:x}"
        mod, name, _ = hit
        return f"{mod}`{name}" if name is not None else f"{mod}`0x{pc:x}"

    def mod(self, pc: int) -> str:
        hit = self.kernel.lookup(pc)
        return hit[0] if hit is not None else f"0x{pc:x}"

    # -- user --------------------------------------------------------------

    def uaddr2str(self, pid: int, pc: int) -> str:
        """dtrace_uaddr2str (%A, uaddr(), ustack frames)."""
        u = self.users()
        hit = u.lookup(pid, pc) if pid else None
        if hit is not None:
            obj, name, addr = hit
            return f"{obj}`{name}+0x{pc - addr:x}" if pc > addr else f"{obj}`{name}"
        obj = u.objname(pid, pc) if pid else None
        return f"{obj}`0x{pc:x}" if obj else f"0x{pc:x}"

    def usym(self, pid: int, pc: int) -> str:
        """usym()/ufunc(): the function's start, then as uaddr2str."""
        hit = self.users().lookup(pid, pc) if pid else None
        return self.uaddr2str(pid, hit[2] if hit is not None else pc)

    def umod(self, pid: int, pc: int) -> str:
        obj = self.users().objname(pid, pc) if pid else None
        return obj if obj else f"0x{pc:x}"


_DEFAULT: Symbolizer | None = None


def default() -> Symbolizer:
    """This process's symbolizer (kallsyms is read once per run)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Symbolizer()
    return _DEFAULT


def set_default(s: Symbolizer | None) -> None:
    global _DEFAULT
    _DEFAULT = s


def words(raw: bytes) -> list[int]:
    return [int.from_bytes(raw[i : i + 8], sys.byteorder) for i in range(0, len(raw) - 7, 8)]
