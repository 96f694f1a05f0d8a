"""printf format strings: parsed at compile time into literal text and conversions.

Follows libdtrace dt_printf_create(): flags, width, precision, '*'/'.*',
'?' (pointer width), length modifiers h l ll L w, and the conversion
dictionary; the consumer formats records with the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace.errors import DError


@dataclass(frozen=True)
class Conversion:
    """One printf conversion, parsed."""

    text: str  # the conversion as written, e.g. "%-8.3lld"
    flags: str  # subset of "-+ #0'" ("@" too: the printa value)
    width: int | None  # None = absent; -1 = '*'
    precision: int | None  # None = absent; -1 = '.*'
    length: str  # "", "h", "l", "ll", "L", "w"
    conv: str  # d i u o x X c C s S p a A e E f g G k Y T
    signed: bool = False  # d/i: set by the compiler from the argument type


@dataclass(frozen=True)
class Format:
    """A format string split into literal text and conversions."""

    text: str
    pieces: tuple[str | Conversion, ...]


@dataclass(frozen=True)
class ConvInfo:
    """One entry of libdtrace's conversion dictionary."""

    check: str  # "xint" "csi" "str" "addr" "uaddr" "fp" "ldouble" "stack" "time"
    # "type" "xsize" "wstr"
    proto: str  # the prototype text of error messages
    size: int = 0  # for check == "type": required integer size (0 = any)
    unsigned: bool = False


_XINT = "char, short, int, long, or long long"
_CSI = "char, short, or int"
_FP = "float, double, or long double"
_ADDR = "pointer or integer"
_UADDR = "pointer or integer (with -p/-c) or _usymaddr (without -p/-c)"
_CSTR = "char [] or string (or use stringof)"
_WSTR = "wchar_t []"

CONVERSIONS: dict[str, ConvInfo] = {
    "a": ConvInfo("addr", _ADDR),
    "A": ConvInfo("uaddr", _UADDR),
    "c": ConvInfo("csi", _CSI),
    "C": ConvInfo("csi", _CSI),
    "d": ConvInfo("xint", _XINT),
    "i": ConvInfo("xint", _XINT),
    "e": ConvInfo("fp", _FP),
    "E": ConvInfo("fp", _FP),
    "f": ConvInfo("fp", _FP),
    "g": ConvInfo("fp", _FP),
    "G": ConvInfo("fp", _FP),
    "hd": ConvInfo("type", "short", 2),
    "hi": ConvInfo("type", "short", 2),
    "ho": ConvInfo("type", "unsigned short", 2, True),
    "hu": ConvInfo("type", "unsigned short", 2, True),
    "hx": ConvInfo("xsize", "short", 2),
    "hX": ConvInfo("xsize", "short", 2),
    "k": ConvInfo("stack", "stack"),
    "lc": ConvInfo("type", "int", 4),
    "ld": ConvInfo("type", "long", 8),
    "li": ConvInfo("type", "long", 8),
    "lo": ConvInfo("type", "unsigned long", 8, True),
    "lu": ConvInfo("type", "unsigned long", 8, True),
    "ls": ConvInfo("wstr", _WSTR),
    "lx": ConvInfo("xsize", "long", 8),
    "lX": ConvInfo("xsize", "long", 8),
    "lld": ConvInfo("type", "long long", 8),
    "lli": ConvInfo("type", "long long", 8),
    "llo": ConvInfo("type", "unsigned long long", 8, True),
    "llu": ConvInfo("type", "unsigned long long", 8, True),
    "llx": ConvInfo("xsize", "long long", 8),
    "llX": ConvInfo("xsize", "long long", 8),
    "Le": ConvInfo("ldouble", "long double"),
    "LE": ConvInfo("ldouble", "long double"),
    "Lf": ConvInfo("ldouble", "long double"),
    "Lg": ConvInfo("ldouble", "long double"),
    "LG": ConvInfo("ldouble", "long double"),
    "o": ConvInfo("xint", _XINT),
    "p": ConvInfo("addr", _ADDR),
    "s": ConvInfo("str", _CSTR),
    "S": ConvInfo("str", _CSTR),
    "T": ConvInfo("time", "int64_t"),
    "u": ConvInfo("xint", _XINT),
    "wc": ConvInfo("type", "int", 4),
    "ws": ConvInfo("wstr", _WSTR),
    "x": ConvInfo("xint", _XINT),
    "X": ConvInfo("xint", _XINT),
    "Y": ConvInfo("time", "int64_t"),
}

POINTER_WIDTH = 16  # '?' on LP64


def conv_name(c: Conversion) -> str:
    """The dictionary name of a conversion: length + conversion ("lld")."""
    return c.length + c.conv


def info(c: Conversion) -> ConvInfo:
    return CONVERSIONS[conv_name(c)]


def _error(msg: str) -> DError:
    return DError("D_SYNTAX", msg)


def parse(text: str) -> Format:
    """Parse a decoded format string; raises DError as dt_printf_create does."""
    pieces: list[str | Conversion] = []
    lit: list[str] = []
    i = 0
    argc = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "%":
            lit.append(ch)
            i += 1
            continue
        argc += 1
        start = i
        i += 1
        flags: set[str] = set()
        width: int | None = None
        prec: int | None = None
        dot = 0
        digits = 0
        name = ""
        while True:
            if i >= n:
                raise _error(f"format conversion #{argc} name expected before end of format string")
            c = text[i]
            if c.isdigit():
                if dot == 0 and digits == 0 and c == "0":
                    flags.add("0")
                    flags.discard("-")
                    i += 1
                    continue
                j = i
                while j < n and text[j].isdigit():
                    j += 1
                val = int(text[i:j])
                if dot:
                    prec = val
                else:
                    width = val
                digits += 1
                i = j
                continue
            i += 1
            if c == "#":
                flags.add("#")
            elif c == "*":
                if dot:
                    if prec == -1:
                        raise _error(
                            f"format conversion #{argc} has more than one "
                            "'*' specified for the output precision"
                        )
                    prec = -1
                else:
                    if width == -1:
                        raise _error(
                            f"format conversion #{argc} has more than one "
                            "'*' specified for the output width"
                        )
                    width = -1
            elif c == "+":
                flags.add("+")
            elif c == "-":
                flags.add("-")
                flags.discard("0")
            elif c == ".":
                if dot:
                    raise _error(f"format conversion #{argc} has more than one '.' specified")
                dot = 1
                digits = 0
                if prec is None:
                    prec = 0
            elif c == "?":
                width = POINTER_WIDTH
            elif c == "@":
                flags.add("@")
            elif c == "'":
                flags.add("'")
            elif c == " ":
                flags.add(" ")
            elif c == "$":
                raise _error(f"format conversion #{argc} uses unsupported positional format (%n$)")
            elif c == "%":
                if text[i - 2] == "%":
                    name += "%"
                    break
                raise _error(
                    f"format conversion #{argc} cannot be combined with other format flags: %%"
                )
            elif c in "hlLw":
                if len(name) < 6:
                    name += c
            else:
                name += c
                break
        if name == "%":
            lit.append("%")
            continue
        if name not in CONVERSIONS:
            raise _error(f"format conversion #{argc} is undefined: %{name}")
        length = name[:-1]
        if lit:
            pieces.append("".join(lit))
            lit = []
        pieces.append(
            Conversion(
                text=text[start:i],
                flags="".join(f for f in "-+ #0'@" if f in flags),
                width=width,
                precision=prec,
                length=length,
                conv=name[-1],
            )
        )
    if lit:
        pieces.append("".join(lit))
    return Format(text=text, pieces=tuple(pieces))


def conversions(fmt: Format) -> list[Conversion]:
    return [p for p in fmt.pieces if isinstance(p, Conversion)]


def with_signs(fmt: Format, signs: list[bool]) -> Format:
    """The same format with each conversion's signed flag set from signs."""
    it = iter(signs)
    pieces: list[str | Conversion] = []
    for p in fmt.pieces:
        if isinstance(p, Conversion):
            p = Conversion(p.text, p.flags, p.width, p.precision, p.length, p.conv, next(it))
        pieces.append(p)
    return Format(fmt.text, tuple(pieces))
