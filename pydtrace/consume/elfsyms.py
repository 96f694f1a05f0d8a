"""Function symbols of an ELF64 little-endian object, read with struct.

Just what ustack() and usym() need: the loadable segments (to turn a
mapped address into a link-time address) and the function symbols of
.symtab, else .dynsym.  A stripped object has no .symtab; one with neither
table (or not ELF at all) has no symbols, and the printer shows addresses.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
PT_LOAD = 1
SHT_SYMTAB = 2
SHT_DYNSYM = 11
STT_FUNC = 2
STT_GNU_IFUNC = 10
SHN_UNDEF = 0
MAX_SYMS = 2_000_000


@dataclass(frozen=True)
class Segment:
    """A loadable segment of an ELF file: where its bytes are and where they map."""

    offset: int
    vaddr: int
    filesz: int


class ElfSymbols:
    """The function symbols of one object, sorted by address."""

    def __init__(self, segments: list[Segment], syms: list[tuple[int, int, str]]) -> None:
        self.segments = segments
        syms.sort()
        self._addrs = [s[0] for s in syms]
        self._syms = syms

    @classmethod
    def from_bytes(cls, data: bytes) -> ElfSymbols | None:
        """None when data is not a 64-bit little-endian ELF object."""
        if len(data) < _EHDR.size or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            return None
        try:
            return cls(_segments(data), _functions(data))
        except (struct.error, IndexError, UnicodeDecodeError):
            return cls([], [])

    @classmethod
    def from_file(cls, path: str) -> ElfSymbols | None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        return cls.from_bytes(data)

    def vaddr(self, file_offset: int) -> int | None:
        """The link-time address of the byte at file_offset, if loadable."""
        for s in self.segments:
            if s.offset <= file_offset < s.offset + max(s.filesz, 1):
                return s.vaddr + file_offset - s.offset
        return None

    def lookup(self, vaddr: int) -> tuple[str, int] | None:
        """(name, symbol address) of the function containing vaddr."""
        i = bisect.bisect_right(self._addrs, vaddr) - 1
        while i >= 0:
            addr, size, name = self._syms[i]
            if vaddr < addr + max(size, 1):
                return name, addr
            if i == 0 or self._addrs[i - 1] != addr:
                return None
            i -= 1
        return None


def _segments(data: bytes) -> list[Segment]:
    h = _EHDR.unpack_from(data, 0)
    phoff, phentsize, phnum = h[5], h[9], h[10]
    out = []
    for i in range(phnum):
        p = _PHDR.unpack_from(data, phoff + i * phentsize)
        if p[0] == PT_LOAD:
            out.append(Segment(p[2], p[3], p[5]))
    return out


def _functions(data: bytes) -> list[tuple[int, int, str]]:
    h = _EHDR.unpack_from(data, 0)
    shoff, shentsize, shnum = h[6], h[11], h[12]
    sections = [_SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    for want in (SHT_SYMTAB, SHT_DYNSYM):
        tables = [s for s in sections if s[1] == want]
        syms: list[tuple[int, int, str]] = []
        for s in tables:
            strtab = sections[s[6]]
            stroff, strsize = strtab[4], strtab[5]
            entsize = s[9] or _SYM.size
            n = min(s[5] // entsize, MAX_SYMS)
            for j in range(n):
                name_off, info, _other, shndx, value, size = _SYM.unpack_from(
                    data, s[4] + j * entsize
                )
                if info & 0xF not in (STT_FUNC, STT_GNU_IFUNC) or shndx == SHN_UNDEF:
                    continue
                if not value or name_off >= strsize:
                    continue
                start = stroff + name_off
                end = data.find(b"\0", start, stroff + strsize)
                name = data[start : end if end >= 0 else stroff + strsize]
                syms.append((value, size, name.decode("utf-8", "replace")))
        if syms:
            return syms
    return []
