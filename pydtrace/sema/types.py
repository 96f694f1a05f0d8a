"""The D type model (LP64) for the types the compiler knows today.

Integers have a size and a sign; their rank (bits + 1 if unsigned) decides
the result type of binary operators (D does no promotion to int).  "string"
is by reference with the strsize capacity.  Typedef names are kept so error
messages print the name the user sees (pid_t, uint64_t, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    name: str
    kind: str            # "int", "string", "void"
    size: int = 0        # bytes; strings: 0 here, strsize at code generation
    signed: bool = False

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    @property
    def is_string(self) -> bool:
        return self.kind == "string"

    @property
    def is_scalar(self) -> bool:
        return self.kind == "int"

    @property
    def rank(self) -> int:
        return self.size * 8 + (0 if self.signed else 1)

    def __str__(self) -> str:
        return self.name


def _i(name: str, size: int, signed: bool) -> DType:
    return DType(name, "int", size, signed)


VOID = DType("void", "void")
STRING = DType("string", "string")
CHAR = _i("char", 1, True)
SHORT = _i("short", 2, True)
INT = _i("int", 4, True)
LONG = _i("long", 8, True)
LONGLONG = _i("long long", 8, True)
UCHAR = _i("unsigned char", 1, False)
USHORT = _i("unsigned short", 2, False)
UINT = _i("unsigned int", 4, False)
ULONG = _i("unsigned long", 8, False)
ULONGLONG = _i("unsigned long long", 8, False)
SCHAR = _i("signed char", 1, True)

# Typedefs of the D library (8.1); name -> underlying integer type.
TYPEDEFS: dict[str, DType] = {
    name: _i(name, base.size, base.signed) for name, base in {
        "int8_t": CHAR, "int16_t": SHORT, "int32_t": INT, "int64_t": LONG,
        "uint8_t": UCHAR, "uint16_t": USHORT, "uint32_t": UINT, "uint64_t": ULONG,
        "intptr_t": LONG, "uintptr_t": ULONG, "ssize_t": LONG, "size_t": ULONG,
        "ptrdiff_t": LONG, "uchar_t": UCHAR, "ushort_t": USHORT, "uint_t": UINT,
        "ulong_t": ULONG, "u_longlong_t": ULONGLONG, "longlong_t": LONGLONG,
        "id_t": INT, "pid_t": INT, "uid_t": UINT, "gid_t": UINT,
        "processorid_t": INT, "_Bool": UCHAR, "boolean_t": INT, "dev_t": ULONG,
        "time_t": LONG, "hrtime_t": LONGLONG, "off_t": LONG, "mode_t": UINT,
        "zoneid_t": INT, "taskid_t": INT, "projid_t": INT,
    }.items()
}
TYPEDEFS["string"] = STRING

# Type specifier keyword combinations (sorted words) -> type.
_SPECIFIERS: dict[tuple[str, ...], DType] = {}


def _spec(words: str, t: DType) -> None:
    _SPECIFIERS[tuple(sorted(words.split()))] = t


for _w, _t in (
    ("char", CHAR), ("signed char", SCHAR), ("unsigned char", UCHAR),
    ("short", SHORT), ("short int", SHORT), ("signed short", SHORT),
    ("signed short int", SHORT), ("unsigned short", USHORT),
    ("unsigned short int", USHORT), ("int", INT), ("signed", INT),
    ("signed int", INT), ("unsigned", UINT), ("unsigned int", UINT),
    ("long", LONG), ("long int", LONG), ("signed long", LONG),
    ("signed long int", LONG), ("unsigned long", ULONG),
    ("unsigned long int", ULONG), ("long long", LONGLONG),
    ("long long int", LONGLONG), ("signed long long", LONGLONG),
    ("signed long long int", LONGLONG), ("unsigned long long", ULONGLONG),
    ("unsigned long long int", ULONGLONG), ("void", VOID), ("string", STRING),
):
    _spec(_w, _t)


def from_specifiers(words: list[str]) -> DType | None:
    """The type named by a list of specifier keywords or one typedef name."""
    if len(words) == 1 and words[0] in TYPEDEFS:
        return TYPEDEFS[words[0]]
    return _SPECIFIERS.get(tuple(sorted(words)))


def promote(a: DType, b: DType) -> DType:
    """The result type of an arithmetic binary operator (higher rank wins)."""
    return a if a.rank >= b.rank else b


def int_constant_type(value: int, decimal: bool, suffix: str) -> DType | None:
    """The type of an integer constant (8.2), or None if none can hold it."""
    s = suffix.lower()
    unsigned = "u" in s
    longs = s.count("l")
    if decimal and not unsigned:
        cands = [INT, LONG, LONGLONG]
    else:
        cands = [INT, UINT, LONG, ULONG, LONGLONG, ULONGLONG]
    if unsigned:
        cands = [t for t in cands if not t.signed]
    if longs:
        cands = [t for t in cands if t.size == 8]
    if longs == 2:
        cands = [t for t in cands if t.name.startswith(("long long", "unsigned long long"))]
    for t in cands:
        limit = 1 << (t.size * 8 - (1 if t.signed else 0))
        if value < limit:
            return t
    return None
