"""Declarations: type names and declarators -> D types, and the type scope.

TypeEnv is the consumer's type namespace (libdtrace's D and C definition
containers): the D library typedefs, the program's own typedefs, struct/
union/enum tags, enum constants and inlines.  Names not defined in D fall
back to the kernel's BTF (sema.btf) when a source is attached.  Messages are
dt_decl.c's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T

INT_MAX = (1 << 31) - 1
UINT_MAX = (1 << 32) - 1


class TypeSource(Protocol):
    """Where kernel types come from (sema.btf.BtfTypes)."""

    def has_typedef(self, name: str) -> bool: ...
    def typedef(self, name: str) -> T.DType | None: ...
    def tag(self, kind: str, name: str) -> T.DType | None: ...
    def function(self, name: str) -> T.DType | None: ...
    def enum_constant(self, name: str) -> tuple[int, T.DType] | None: ...


@dataclass
class Inline:
    """A D inline: a name for a typed constant expression."""

    name: str
    type: T.DType
    value: ast.Expr


@dataclass
class TypeEnv:
    """The D types a program sees: typedefs, tags, enums, inlines, the kernel's."""

    typedefs: dict[str, T.DType] = field(default_factory=lambda: dict(T.TYPEDEFS))
    tags: dict[tuple[str, str], T.DType] = field(default_factory=dict)
    enum_consts: dict[str, tuple[int, T.DType]] = field(default_factory=dict)
    inlines: dict[str, Inline] = field(default_factory=dict)
    kernel: TypeSource | None = None
    translators: list[tuple[T.DType, T.DType, ast.Translator]] = field(default_factory=list)
    # the D library (sema.library.Library) and the indexes of its items
    # already declared here; items are declared on first use
    library: Any = None
    loaded: set[int] = field(default_factory=set)
    # kernel symbols' types, from `extern` declarations (the D library's or
    # the program's): what the backquote operator loads
    externs: dict[str, T.DType] = field(default_factory=dict)

    # -- names --------------------------------------------------------------------

    def is_typename(self, name: str) -> bool:
        if name in self.typedefs:
            return name != "string"
        if self.library is not None:
            if self.library.has_typedef(name):
                return True
            if self.library.has_inline(name):
                return False  # a library constant: no need to ask BTF
        return self.kernel is not None and self.kernel.has_typedef(name)

    def _from_library(self, key: str) -> bool:
        if self.library is None:
            return False
        from pydtrace.sema.library import load

        return load(self, key)

    def typedef(self, name: str) -> T.DType | None:
        t = self.typedefs.get(name)
        if t is None and self._from_library(f"type:{name}"):
            t = self.typedefs.get(name)
        if t is None and self.kernel is not None:
            t = self.kernel.typedef(name)
        return t

    def tag(self, kind: str, name: str) -> T.DType | None:
        t = self.tags.get((kind, name))
        if t is None and self._from_library(f"type:{kind} {name}"):
            t = self.tags.get((kind, name))
        if t is None and self.kernel is not None:
            t = self.kernel.tag(kind, name)
        return t

    def inline(self, name: str) -> Inline | None:
        """The inline called name, declared from the library on first use."""
        i = self.inlines.get(name)
        if (
            i is None
            and self.library is not None
            and self.library.has_inline(name)
            and self._from_library(f"inline:{name}")
        ):
            i = self.inlines.get(name)
        return i

    def extern(self, name: str) -> T.DType | None:
        """The declared type of kernel symbol name, from the library on first use."""
        t = self.externs.get(name)
        if t is None and self._from_library(f"extern:{name}"):
            t = self.externs.get(name)
        return t

    def load_translators(self, names: list[str]) -> None:
        """Declare the library's translators to any of these output types."""
        for name in names:
            self._from_library(f"translator:{name}")

    def enum_constant(self, name: str) -> tuple[int, T.DType] | None:
        c = self.enum_consts.get(name)
        if c is None and self.kernel is not None:
            c = self.kernel.enum_constant(name)
        return c

    def copy(self) -> TypeEnv:
        """A scope for one compile: committed by the caller on success."""
        return TypeEnv(
            dict(self.typedefs),
            dict(self.tags),
            dict(self.enum_consts),
            dict(self.inlines),
            self.kernel,
            list(self.translators),
            self.library,
            set(self.loaded),
            dict(self.externs),
        )


Fold = Callable[[ast.Expr], int | None]


def _err(node: ast.Node, tag: str, msg: str) -> DError:
    return DError(tag, msg, node.line or None)


class Declarer:
    """Turns DeclSpecs + Declarator into D types inside a TypeEnv."""

    def __init__(self, env: TypeEnv, fold: Fold) -> None:
        self.env = env
        self.fold = fold
        # the strsize option: the size of a string stored in an array
        # element or a struct member (D's string is char [strsize])
        self.strsize = 256

    def stored(self, t: T.DType) -> T.DType:
        """t as an array element or struct member: a string takes strsize
        bytes there, as DTrace's string type (a char array of the strsize
        of the time of the declaration) does."""
        if not T.resolve(t).is_string:
            return t
        return T.DType(t.name, "string", self.strsize, align=1)

    # -- specifiers -----------------------------------------------------------------

    def specs_type(self, specs: ast.DeclSpecs) -> T.DType:
        if specs.sou is not None and specs.words:
            if "signed" in specs.words or "unsigned" in specs.words:
                raise _err(
                    specs,
                    "D_DECL_SIGNINT",
                    "invalid type declaration: signed "
                    "and unsigned may only be used with integer type",
                )
            if "long" in specs.words:
                raise _err(
                    specs,
                    "D_DECL_LONGINT",
                    "invalid type declaration: long and "
                    "long long may only be used with integer or floating-point type",
                )
            raise _err(specs, "D_DECL_COMBO", "invalid type combination")
        if specs.sou is not None:
            if isinstance(specs.sou, ast.StructSpec):
                return self.sou(specs.sou)
            return self.enum(specs.sou)
        words = specs.words or ["int"]
        t = T.from_specifiers(words)
        if t is not None:
            return t
        if len(words) == 1:
            t = self.env.typedef(words[0])
            if t is not None:
                return t
            raise _err(specs, "D_UNKNOWN", f"failed to resolve type {words[0]}")
        _check_words(specs, words)
        raise _err(specs, "D_DECL_COMBO", "invalid type combination")

    def sou(self, s: ast.StructSpec) -> T.DType:
        key = (s.kind, s.name) if s.name else None
        t = self.env.tags.get(key) if key else None
        if s.members is None:
            if t is None and key is not None:
                t = self.env.tag(s.kind, s.name or "")
                if t is None:
                    t = T.new_sou(s.kind, s.name)  # forward declaration
                    self.env.tags[key] = t
            return t if t is not None else T.new_sou(s.kind, None)
        if t is not None and t.sou is not None and t.sou.members is not None:
            raise _err(s, "D_DECL_TYPERED", f"type redeclared: {s.kind} {s.name}")
        if t is None:
            t = T.new_sou(s.kind, s.name)
            if key is not None:
                self.env.tags[key] = t
        members: list[tuple[str, T.DType, int | None]] = []
        seen: set[str] = set()
        for m in s.members:
            members.append(self.member(t, m))
            name = members[-1][0]
            if name and name in seen:
                raise _err(
                    m,
                    "D_UNKNOWN",
                    f"failed to define member '{name}': Duplicate member or variable name",
                )
            seen.add(name)
        T.layout(t, members)
        return t

    def member(self, owner: T.DType, m: ast.MemberDecl) -> tuple[str, T.DType, int | None]:
        base = self.specs_type(m.specs)
        name, mt = (None, base) if m.declarator is None else self.apply(base, m.declarator)
        ident = name or "(anon)"
        if m.declarator is None and m.bits is None:
            anon = isinstance(m.specs.sou, ast.StructSpec) and m.specs.sou.name is None
            if not anon:
                raise _err(m, "D_DECL_MNAME", "member declaration requires a name")
        rt = T.resolve(mt)
        if rt.sou is not None and rt.sou.members is None:
            raise _err(m, "D_DECL_INCOMPLETE", f"incomplete struct/union/enum {mt}: {ident}")
        if rt.kind == "void" or rt.kind == "func":
            raise _err(m, "D_DECL_VOIDOBJ", f"cannot have void member: {ident}")
        if m.bits is None:
            return name or "", self.stored(mt), None
        width = self.fold(m.bits)
        if name is None and width == 0:
            return "", mt, 0
        if width is None or width <= 0:
            raise _err(
                m,
                "D_DECL_BFCONST",
                "positive integral constant expression expected as bit-field size",
            )
        if not rt.is_int:
            raise _err(m, "D_DECL_BFTYPE", f"invalid type for bit-field: {ident}")
        if width > rt.size * 8:
            raise _err(m, "D_DECL_BFSIZE", f"bit-field too big for type: {ident}")
        return name or "", mt, width

    def enum(self, e: ast.EnumSpec) -> T.DType:
        key = ("enum", e.name) if e.name else None
        t = self.env.tags.get(key) if key else None
        if e.enumerators is None:
            if t is None and key is not None:
                t = self.env.tag("enum", e.name or "")
                if t is None:
                    t = T.new_enum(e.name)
                    self.env.tags[key] = t
            return t if t is not None else T.new_enum(None)
        if t is not None and t.enum is not None and t.enum.constants:
            raise _err(e, "D_DECL_TYPERED", f"type redeclared: enum {e.name}")
        if t is None:
            t = T.new_enum(e.name)
            if key is not None:
                self.env.tags[key] = t
        assert t.enum is not None
        value = -1
        for name, expr, line in e.enumerators:
            if expr is None:
                value += 1
            elif isinstance(expr, ast.Ident) and expr.name in t.enum.constants:
                value = t.enum.constants[expr.name]
            else:
                v = self.fold(expr)
                if v is None:
                    raise DError(
                        "D_DECL_ENCONST",
                        f"enumerator '{name}' must be assigned to an integral constant expression",
                        line,
                    )
                if not -INT_MAX - 1 <= v <= INT_MAX:
                    raise DError(
                        "D_DECL_ENOFLOW",
                        f"enumerator '{name}' value overflows INT_MAX ({INT_MAX})",
                        line,
                    )
                value = v
            if name in self.env.enum_consts or name in self.env.inlines:
                raise DError("D_DECL_IDRED", f"identifier redeclared: {name}", line)
            t.enum.constants[name] = value
            self.env.enum_consts[name] = (value, t)
        t.enum.complete = True
        return t

    # -- declarators ------------------------------------------------------------------

    def apply(self, base: T.DType, d: ast.Declarator) -> tuple[str | None, T.DType]:
        """(identifier, type) of declarator d applied to base."""
        t = base
        while True:
            if d.kind == "name":
                return d.name, t
            if d.kind == "ptr":
                t = T.pointer(t)
            elif d.kind == "array":
                t = self.array(t, d)
            elif d.kind == "func":
                t = self.func(t, d)
            assert d.inner is not None
            d = d.inner

    def array(self, t: T.DType, d: ast.Declarator) -> T.DType:
        if T.resolve(t).kind == "void":
            raise _err(d, "D_DECL_VOIDOBJ", "cannot declare array of void")
        if T.resolve(t).kind == "assoc":
            # `int a[4][int]`, `int a[int][int]` (dt_decl_array); an
            # associative array of arrays is `int a[int][4]`
            raise _err(d, "D_DECL_DYNOBJ", "cannot declare array of associative arrays")
        if isinstance(d.dim, list):
            keys = [self.apply(self.specs_type(p.specs), p.declarator)[1] for p in d.dim]
            assoc = T.DType(f"{t} [{', '.join(map(str, keys))}]", "assoc", ref=t, params=keys)
            return assoc
        t = self.stored(t)
        if d.dim is None:
            return T.array(t, 0)
        n = self.fold(d.dim)
        if n is None or n <= 0:
            raise _err(
                d,
                "D_DECL_ARRSUB",
                "positive integral constant expression "
                "or tuple signature expected as array declaration subscript",
            )
        if n > UINT_MAX:
            raise _err(d, "D_DECL_ARRBIG", "array dimension too big")
        return T.array(t, n)

    def func(self, ret: T.DType, d: ast.Declarator) -> T.DType:
        params = d.params or []
        types = [self.apply(self.specs_type(p.specs), p.declarator)[1] for p in params]
        nvoid = sum(1 for x in types if x.kind == "void")
        if nvoid and len(types) > 1:
            raise _err(d, "D_DECL_PROTO_VOID", "void must be sole parameter")
        if nvoid:
            named = params[0].declarator.ident
            if named:
                raise _err(d, "D_DECL_PROTO_NAME", f"void parameter may not have a name: {named}")
            types = []
        return T.function(ret, types, d.variadic)

    def typename(self, tn: ast.TypeName) -> T.DType:
        return self.apply(self.specs_type(tn.specs), tn.declarator)[1]


def _check_words(specs: ast.DeclSpecs, words: list[str]) -> None:
    """dt_decl_check / dt_decl_attr messages for a bad keyword combination."""
    counts = {w: words.count(w) for w in set(words)}
    if counts.get("long", 0) > 2:
        raise _err(
            specs,
            "D_DECL_COMBO",
            "the attribute 'long' may only be used at most twice in a declaration",
        )
    for w in ("short", "signed", "unsigned"):
        if counts.get(w, 0) > 1:
            raise _err(
                specs,
                "D_DECL_COMBO",
                f"the attribute '{w}' may only be used at most once in a declaration",
            )
    bases = [w for w in words if w not in ("short", "long", "signed", "unsigned")]
    attrs = [w for w in words if w in ("short", "long", "signed", "unsigned")]
    if len(bases) > 1:
        return
    base = bases[0] if bases else "int"
    if base == "char" and any(w in ("short", "long") for w in attrs):
        raise _err(
            specs,
            "D_DECL_CHARATTR",
            "invalid type declaration: short and long may not be used with char type",
        )
    if base == "void" and attrs:
        raise _err(
            specs,
            "D_DECL_VOIDATTR",
            "invalid type declaration: attributes may not be used with void type",
        )
    if base not in ("char", "int") and any(w in ("signed", "unsigned") for w in attrs):
        raise _err(
            specs,
            "D_DECL_SIGNINT",
            "invalid type declaration: signed and unsigned may only be used with integer type",
        )
    if base not in ("int", "double", "float") and "long" in attrs:
        raise _err(
            specs,
            "D_DECL_LONGINT",
            "invalid type declaration: long and "
            "long long may only be used with integer or floating-point type",
        )
