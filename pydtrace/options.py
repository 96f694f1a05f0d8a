"""DTrace options: the table, value parsing (libdtrace dt_options.c) and defaults.

Kernel options carry their DTRACEOPT_* id (from the uapi header through cffi)
and travel in every program's option table when set; the others are kept by
the consumer and the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace.abi import lib
from pydtrace.errors import DError

UNSET: int = lib.DTRACEOPT_UNSET
NANOSEC = 1_000_000_000


@dataclass(frozen=True)
class OptSpec:
    """A D option: its name, the kind of value it takes, its kernel id."""

    name: str
    kind: str  # "size" "rate" "bool" "int" "string" "policy" "oformat" "encoding"
    optid: int | None  # DTRACEOPT_* for kernel options, else None


def _k(name: str) -> int:
    return int(getattr(lib, "DTRACEOPT_" + name.upper()))


_KERNEL: tuple[tuple[str, str], ...] = (
    ("bufsize", "size"),
    ("bufpolicy", "policy"),
    ("dynvarsize", "size"),
    ("aggsize", "size"),
    ("specsize", "size"),
    ("nspec", "int"),
    ("strsize", "size"),
    ("cleanrate", "rate"),
    ("cpu", "int"),
    ("bufresize", "resize"),
    ("grabanon", "bool"),
    ("flowindent", "bool"),
    ("quiet", "bool"),
    ("stackframes", "int"),
    ("ustackframes", "int"),
    ("aggrate", "rate"),
    ("switchrate", "rate"),
    ("statusrate", "rate"),
    ("destructive", "bool"),
    ("stackindent", "int"),
    ("rawbytes", "bool"),
    ("jstackframes", "int"),
    ("jstackstrsize", "size"),
    ("aggsortkey", "bool"),
    ("aggsortrev", "bool"),
    ("aggsortpos", "int"),
    ("aggsortkeypos", "int"),
)

# Compiler and consumer options (no kernel id).
_USER: tuple[tuple[str, str], ...] = (
    ("amin", "string"),
    ("argref", "bool"),
    ("core", "string"),
    ("cpp", "bool"),
    ("cpphdrs", "bool"),
    ("cpppath", "string"),
    ("ctypes", "string"),
    ("defaultargs", "bool"),
    ("define", "string"),
    ("disasm", "bool"),
    ("droptags", "bool"),
    ("dtypes", "string"),
    ("errtags", "bool"),
    ("evaltime", "string"),
    ("incdir", "string"),
    ("iregs", "int"),
    ("kdefs", "bool"),
    ("knodefs", "bool"),
    ("late", "string"),
    ("lazyload", "bool"),
    ("ldpath", "string"),
    ("libdir", "string"),
    ("linkmode", "string"),
    ("linktype", "string"),
    ("nolibs", "bool"),
    ("pgmax", "int"),
    ("pspec", "bool"),
    ("stdc", "string"),
    ("strip", "bool"),
    ("syslibdir", "string"),
    ("tree", "int"),
    ("tregs", "int"),
    ("udefs", "bool"),
    ("undef", "string"),
    ("unodefs", "bool"),
    ("verbose", "bool"),
    ("version", "string"),
    ("zdefs", "bool"),
    ("temporal", "bool"),
    ("agghist", "bool"),
    ("aggpack", "bool"),
    ("aggzoom", "bool"),
    ("oformat", "oformat"),
    ("encoding", "encoding"),
)

TABLE: dict[str, OptSpec] = {
    **{n: OptSpec(n, kind, _k(n)) for n, kind in _KERNEL},
    **{n: OptSpec(n, kind, None) for n, kind in _USER},
}

# Output formats of the oformat option (FreeBSD's -O / -x oformat): dtrace(1)'s
# text, or one JSON document per record (docs/json.md).
OFORMATS = ("text", "json")

# The encoding option (illumos): how histogram bars are drawn.  Unset, bars
# are '@'s and aggpack's cells are UTF-8 unless TERM says the terminal can't.
ENCODINGS = ("ascii", "utf8")

# dtrace(1)'s defaults.
DEFAULTS: dict[str, int | str] = {
    "bufsize": 4 << 20,
    "aggsize": 4 << 20,
    "strsize": 256,
    "switchrate": NANOSEC,
    "statusrate": NANOSEC,
    "aggrate": NANOSEC,
    "oformat": "text",
}

_RATE_SUFFIX: dict[str, int] = {
    "ns": 1,
    "nsec": 1,
    "us": 1000,
    "usec": 1000,
    "ms": 1_000_000,
    "msec": 1_000_000,
    "s": NANOSEC,
    "sec": NANOSEC,
    "m": 60 * NANOSEC,
    "min": 60 * NANOSEC,
    "h": 3600 * NANOSEC,
    "hour": 3600 * NANOSEC,
    "d": 86400 * NANOSEC,
    "day": 86400 * NANOSEC,
    "hz": 0,
}

_COUPLES = (
    ("yes", "no"),
    ("enable", "disable"),
    ("enabled", "disabled"),
    ("true", "false"),
    ("on", "off"),
    ("set", "unset"),
)


class OptionError(DError):
    """A failed option setting; reason is dtrace_errmsg()'s text."""

    def __init__(self, name: str, reason: str, line: int | None = None) -> None:
        super().__init__("D_PRAGMA_OPTSET", f"failed to set option '{name}': {reason}", line)
        self.option = name
        self.reason = reason


def _strtoull(text: str) -> tuple[int, str]:
    """C strtoull(text, &end, 0): the value and the unparsed rest."""
    s = text.lstrip()
    if s[:2].lower() == "0x":
        digits, base = "0123456789abcdef", 16
        body = s[2:]
    elif s[:1] == "0":
        digits, base = "01234567", 8
        body = s
    else:
        digits, base = "0123456789", 10
        body = s
    n = 0
    while n < len(body) and body[n].lower() in digits:
        n += 1
    if n == 0:
        if base == 16:  # "0x" alone parses as 0 followed by "x..."
            return 0, s[1:]
        return 0, text
    return min(int(body[:n], base), (1 << 64) - 1), body[n:]


def parse_size(value: str) -> int | None:
    """dt_optval_parse: a number with an optional k/m/g/t suffix (x1024)."""
    if not value:
        return None
    mul = 1
    suffix = value[-1].lower()
    if suffix in "kmgt":
        mul = 1024 ** ("kmgt".index(suffix) + 1)
        value = value[:-1]
    num, rest = _strtoull(value)
    if rest or not value or value[0] in "+-":
        return None
    return num * mul


def parse_rate(value: str) -> int | None:
    """dt_opt_rate: nanoseconds; suffixes ns us ms s m h d, or hz (frequency)."""
    if not value or value[0] in "+-":
        return None
    num, rest = _strtoull(value)
    if rest == value:
        return None
    mul = _RATE_SUFFIX.get(rest.lower(), None) if rest else 1
    if mul is None:
        return None
    if mul == 0:
        return NANOSEC // num if num else 0
    return num * mul


def parse_bool(value: str) -> int | None:
    """dt_opt_runtime's yes/no words, or a number."""
    if value[:1].isdigit():
        num, rest = _strtoull(value)
        return None if rest else num
    for pos, neg in _COUPLES:
        if value.lower() == pos:
            return 1
        if value.lower() == neg:
            return UNSET
    return None


_POLICIES = {
    "ring": lib.DTRACEOPT_BUFPOLICY_RING,
    "fill": lib.DTRACEOPT_BUFPOLICY_FILL,
    "switch": lib.DTRACEOPT_BUFPOLICY_SWITCH,
}


class Options:
    """The option values of one consumer (dtrace_setopt / dtrace_getopt)."""

    def __init__(self) -> None:
        self._values: dict[str, int | str] = dict(DEFAULTS)
        # every -L / -x libdir directory, in order (the option keeps the last)
        self.libdirs: list[str] = []

    def set(self, name: str, value: str | None) -> None:
        spec = TABLE.get(name)
        if spec is None:
            raise OptionError(name, "Invalid option name")
        parsed = self._parse(spec, value)
        if parsed is None:
            raise OptionError(name, "Invalid value for specified option")
        self._values[name] = parsed
        if name == "libdir" and isinstance(parsed, str):
            self.libdirs.append(parsed)

    @staticmethod
    def _parse(spec: OptSpec, value: str | None) -> int | str | None:
        if spec.kind == "string":
            return value if value is not None else ""
        if spec.kind == "oformat":
            return value if value in OFORMATS else None
        if spec.kind == "encoding":
            return value if value in ENCODINGS else None
        if value is None:
            # an option given without a value: set, value 0 (ints/sizes need one)
            return 0 if spec.kind in ("bool", "int", "resize") else None
        if spec.kind == "size":
            return parse_size(value)
        if spec.kind == "rate":
            return parse_rate(value)
        if spec.kind == "bool":
            return parse_bool(value)
        if spec.kind == "policy":
            return _POLICIES.get(value)
        if spec.kind == "resize":
            return {"auto": 0, "manual": 1}.get(value)
        num, rest = _strtoull(value)
        if rest or not value or value[0] in "+-":
            return None
        return num

    def get(self, name: str) -> int | str:
        """The value, or DTRACEOPT_UNSET when never set."""
        if name not in TABLE:
            raise OptionError(name, "Invalid option name")
        return self._values.get(name, UNSET)

    def is_set(self, name: str) -> bool:
        return self.get(name) != UNSET

    def kernel_options(self) -> list[tuple[int, int]]:
        """(DTRACEOPT_* id, value) for every set kernel option, by id."""
        out = []
        for name, value in self._values.items():
            spec = TABLE[name]
            if spec.optid is not None and value != UNSET and isinstance(value, int):
                out.append((spec.optid, value))
        return sorted(out)
