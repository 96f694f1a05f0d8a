"""The D type model (LP64).

Integers have a size and a sign; their rank (bits + 1 if unsigned) decides
the result type of binary operators (D does no promotion to int).  "string"
is by reference with the strsize capacity.  Typedef names are kept so error
messages print the name the user sees (pid_t, uint64_t, ...): a typedef is a
copy of its base type under the new name (`base` points at the original).

Kinds: int float void string ptr array struct union enum func.  Struct and
union types share one mutable Sou (members filled in when defined), so a
pointer to a forward-declared struct sees the later definition.  DTypes
compare by identity; use same() for type identity by structure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(eq=False)
class SouMember:
    """A member of a struct or union."""

    name: str
    type: DType
    offset: int  # bits from the start of the struct
    bits: int = 0  # bit-field width, 0 if not a bit-field


class Sou:
    """The body of a struct or union (members None while incomplete).

    loader, when given, fills in the members on first use (BTF types are
    converted lazily); size is known up front.
    """

    def __init__(
        self,
        members: list[SouMember] | None = None,
        size: int = 0,
        align: int = 1,
        loader: Callable[[Sou], None] | None = None,
    ) -> None:
        self._members = members
        self.size = size
        self._align = align
        self._loader = loader

    def _load(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            loader(self)

    @property
    def members(self) -> list[SouMember] | None:
        self._load()
        return self._members

    @members.setter
    def members(self, value: list[SouMember] | None) -> None:
        self._members = value

    @property
    def align(self) -> int:
        self._load()
        return self._align

    @align.setter
    def align(self, value: int) -> None:
        self._align = value

    def member(self, name: str) -> SouMember | None:
        for m in self.members or []:
            if m.name == name:
                return m
        return None


@dataclass(eq=False)
class EnumBody:
    """An enum's constants."""

    constants: dict[str, int] = field(default_factory=dict)
    complete: bool = False


class DType:
    """One D type.  Construct with the helper functions below."""

    __slots__ = (
        "name",
        "kind",
        "_size",
        "signed",
        "_align",
        "ref",
        "count",
        "sou",
        "enum",
        "params",
        "variadic",
        "base",
        "_lazy",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        size: int = 0,
        signed: bool = False,
        *,
        align: int = 0,
        ref: DType | None = None,
        count: int = 0,
        sou: Sou | None = None,
        enum: EnumBody | None = None,
        params: list[DType] | None = None,
        variadic: bool = False,
        base: DType | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self._size = size
        self.signed = signed
        self._align = align
        self.ref = ref
        self.count = count
        self.sou = sou
        self.enum = enum
        self.params = params
        self.variadic = variadic
        self.base = base
        self._lazy = None

    # -- size and alignment ----------------------------------------------------

    @property
    def size(self) -> int:
        if self.sou is not None:
            return self.sou.size
        if self.kind == "array":
            assert self.ref is not None
            return self.ref.size * self.count
        return self._size

    @property
    def align(self) -> int:
        if self.sou is not None:
            return self.sou.align
        if self.kind == "array":
            assert self.ref is not None
            return self.ref.align
        return self._align or max(self._size, 1)

    # -- classification (dt_node_is_*) ------------------------------------------

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "enum")

    @property
    def is_arith(self) -> bool:
        return self.kind in ("int", "enum", "float")

    @property
    def is_string(self) -> bool:
        return self.kind == "string"

    @property
    def is_ptr(self) -> bool:
        return self.kind == "ptr"

    @property
    def is_sou(self) -> bool:
        return self.kind in ("struct", "union")

    @property
    def is_scalar(self) -> bool:
        """Integer, enum or pointer (dt_node_is_scalar); arrays decay."""
        return self.kind in ("int", "enum", "ptr", "array")

    @property
    def is_void(self) -> bool:
        return self.kind == "void"

    @property
    def complete(self) -> bool:
        if self.sou is not None:
            return self.sou.members is not None
        if self.enum is not None:
            return self.enum.complete
        return self.kind not in ("void", "func")

    @property
    def rank(self) -> int:
        if self.kind in ("ptr", "array"):
            return 65
        return self.size * 8 + (0 if self.signed else 1)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"DType({self.name!r}, {self.kind!r}, size={self.size})"


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
BOOL = _i("_Bool", 1, False)
FLOAT = DType("float", "float", 4)
DOUBLE = DType("double", "float", 8)
LONGDOUBLE = DType("long double", "float", 16)


def alias(t: DType, name: str) -> DType:
    """A typedef: t under another name."""
    a = DType(
        name,
        t.kind,
        t._size,
        t.signed,
        align=t._align,
        ref=t.ref,
        count=t.count,
        sou=t.sou,
        enum=t.enum,
        params=t.params,
        variadic=t.variadic,
        base=t.base or t,
    )
    return a


def resolve(t: DType) -> DType:
    """The type under every typedef name."""
    return t.base or t


def pointer(t: DType) -> DType:
    return DType(_derived_name(t, "*"), "ptr", 8, False, align=8, ref=t)


def array(t: DType, count: int) -> DType:
    return DType(_derived_name(t, f"[{count}]"), "array", ref=t, count=count)


def function(ret: DType, params: list[DType], variadic: bool = False) -> DType:
    args = ", ".join(str(p) for p in params)
    if variadic:
        args = f"{args}, ..." if args else "..."
    return DType(f"{ret} ({args})", "func", 0, ref=ret, params=params, variadic=variadic)


def _derived_name(t: DType, suffix: str) -> str:
    # ctf_type_name style: "int *", "char [16]", "int (*)[4]", "int (*)()"
    if t.kind == "array" and suffix == "*":
        return t.name.replace(" [", " (*)[", 1)
    if t.kind == "func" and suffix == "*":
        return t.name.replace(" (", " (*)(", 1)
    if t.kind == "ptr" and suffix == "*":
        return t.name + "*"
    if t.kind == "array":
        # char [2][3]: outer dimension first
        head, _, tail = t.name.partition(" [")
        return f"{head} {suffix}[{tail}"
    return f"{t.name} {suffix}"


def new_sou(kind: str, tag: str | None) -> DType:
    name = f"{kind} {tag}" if tag else f"{kind} <anon>"
    return DType(name, kind, sou=Sou())


def new_enum(tag: str | None) -> DType:
    name = f"enum {tag}" if tag else "enum <anon>"
    return DType(name, "enum", 4, True, align=4, enum=EnumBody())


def layout(t: DType, members: list[tuple[str, DType, int | None]]) -> None:
    """Complete struct/union t: members are (name, type, bit-field width or None)."""
    assert t.sou is not None
    out: list[SouMember] = []
    off = 0  # bits
    size = 0
    align = 1
    union = t.kind == "union"
    for name, mt, bits in members:
        a = mt.align
        align = max(align, a)
        if bits is not None:
            unit = mt.size * 8
            start = 0 if union else off
            if bits == 0:
                off = -(-start // unit) * unit
                continue
            if (start % unit) + bits > unit:
                start = -(-start // unit) * unit
            out.append(SouMember(name, mt, start, bits))
            end = start + bits
        else:
            start = 0 if union else -(-off // (a * 8)) * (a * 8)
            out.append(SouMember(name, mt, start))
            end = start + mt.size * 8
        size = max(size, end)
        if not union:
            off = end
    nbytes = -(-size // 8)
    t.sou.size = -(-nbytes // align) * align
    t.sou.align = align
    t.sou.members = out


def member_path(t: DType, name: str) -> tuple[SouMember, int] | None:
    """Member name of struct/union t, looking through anonymous members.

    Returns the member and its bit offset from the start of t.
    """
    if t.sou is None or t.sou.members is None:
        return None
    for m in t.sou.members:
        if m.name == name:
            return m, m.offset
    for m in t.sou.members:
        if not m.name and m.type.sou is not None:
            found = member_path(m.type, name)
            if found is not None:
                return found[0], m.offset + found[1]
    return None


def same(a: DType, b: DType) -> bool:
    """Type identity through typedefs (ctf_type_cmp-like)."""
    a, b = resolve(a), resolve(b)
    if a is b:
        return True
    if a.kind != b.kind:
        return False
    if a.kind in ("int", "float"):
        return a.size == b.size and a.signed == b.signed
    if a.kind in ("void", "string"):
        return True
    if a.kind in ("ptr", "array"):
        assert a.ref is not None and b.ref is not None
        return a.count == b.count and same(a.ref, b.ref)
    if a.kind == "func":
        return a.ref is not None and b.ref is not None and same(a.ref, b.ref)
    if a.sou is not None and b.sou is not None:
        return a.name == b.name and (
            a.sou is b.sou or a.sou.members is None or b.sou.members is None
        )
    return a.name == b.name


# Typedefs of the D library (8.1); name -> underlying integer type.
TYPEDEFS: dict[str, DType] = {
    name: alias(base, name)
    for name, base in {
        "int8_t": SCHAR,
        "int16_t": SHORT,
        "int32_t": INT,
        "int64_t": LONG,
        "uint8_t": UCHAR,
        "uint16_t": USHORT,
        "uint32_t": UINT,
        "uint64_t": ULONG,
        "intptr_t": LONG,
        "uintptr_t": ULONG,
        "ssize_t": LONG,
        "size_t": ULONG,
        "ptrdiff_t": LONG,
        "uchar_t": UCHAR,
        "ushort_t": USHORT,
        "uint_t": UINT,
        "ulong_t": ULONG,
        "u_longlong_t": ULONGLONG,
        "longlong_t": LONGLONG,
        "id_t": INT,
        "pid_t": INT,
        "uid_t": UINT,
        "gid_t": UINT,
        "processorid_t": INT,
        "boolean_t": INT,
        "dev_t": ULONG,
        "time_t": LONG,
        "hrtime_t": LONGLONG,
        "off_t": LONG,
        "mode_t": UINT,
        "zoneid_t": INT,
        "taskid_t": INT,
        "projid_t": INT,
    }.items()
}
TYPEDEFS["string"] = STRING

# Type specifier keyword combinations (sorted words) -> type.
_SPECIFIERS: dict[tuple[str, ...], DType] = {}


def _spec(words: str, t: DType) -> None:
    _SPECIFIERS[tuple(sorted(words.split()))] = t


for _w, _t in (
    ("char", CHAR),
    ("signed char", SCHAR),
    ("unsigned char", UCHAR),
    ("short", SHORT),
    ("short int", SHORT),
    ("signed short", SHORT),
    ("signed short int", SHORT),
    ("unsigned short", USHORT),
    ("unsigned short int", USHORT),
    ("int", INT),
    ("signed", INT),
    ("signed int", INT),
    ("unsigned", UINT),
    ("unsigned int", UINT),
    ("long", LONG),
    ("long int", LONG),
    ("signed long", LONG),
    ("signed long int", LONG),
    ("unsigned long", ULONG),
    ("unsigned long int", ULONG),
    ("long long", LONGLONG),
    ("long long int", LONGLONG),
    ("signed long long", LONGLONG),
    ("signed long long int", LONGLONG),
    ("unsigned long long", ULONGLONG),
    ("unsigned long long int", ULONGLONG),
    ("void", VOID),
    ("string", STRING),
    ("_Bool", BOOL),
    ("float", FLOAT),
    ("double", DOUBLE),
    ("long double", LONGDOUBLE),
):
    _spec(_w, _t)


def from_specifiers(words: list[str]) -> DType | None:
    """The type named by a list of specifier keywords or one typedef name."""
    if len(words) == 1 and words[0] in TYPEDEFS:
        return TYPEDEFS[words[0]]
    return _SPECIFIERS.get(tuple(sorted(words)))


def promote(a: DType, b: DType) -> DType:
    """The result type of an arithmetic binary operator (higher rank wins)."""
    if a.kind == "enum":
        a = INT
    if b.kind == "enum":
        b = INT
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
