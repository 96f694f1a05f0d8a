"""The D abstract syntax tree.

Nodes are plain classes (what ``@dataclass(eq=False)`` would generate,
written out: generating 35 dataclasses cost ~10 ms at every start); the
checker (sema.check) fills in `type` on expression nodes.  Every node has
the source line it starts on.
"""

from __future__ import annotations

from typing import Any


class Node:
    """The base of every node: its source line.  Each class lists in
    ``_fields`` its constructor's fields, which its repr() shows."""

    line: int
    _fields: tuple[str, ...] = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({args})"


class Expr(Node):
    type: Any = None

    _fields = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line
        self.type = None


class IntLit(Expr):
    value: int
    text: str = ""

    _fields = ("line", "value", "text")

    def __init__(self, line: int, value: int, text: str = "") -> None:
        self.line = line
        self.type = None
        self.value = value
        self.text = text


class StrLit(Expr):
    value: str

    _fields = ("line", "value")

    def __init__(self, line: int, value: str) -> None:
        self.line = line
        self.type = None
        self.value = value


class Ident(Expr):
    name: str

    _fields = ("line", "name")

    def __init__(self, line: int, name: str) -> None:
        self.line = line
        self.type = None
        self.name = name


class ScopedVar(Expr):
    scope: str  # "this" or "self"
    name: str

    _fields = ("line", "scope", "name")

    def __init__(self, line: int, scope: str, name: str) -> None:
        self.line = line
        self.type = None
        self.scope = scope
        self.name = name


class Unary(Expr):
    op: str  # "-", "+", "~", "!"
    operand: Expr

    _fields = ("line", "op", "operand")

    def __init__(self, line: int, op: str, operand: Expr) -> None:
        self.line = line
        self.type = None
        self.op = op
        self.operand = operand


class Binary(Expr):
    op: str  # + - * / % & | ^ << >> == != < <= > >= && || ^^
    left: Expr
    right: Expr

    _fields = ("line", "op", "left", "right")

    def __init__(self, line: int, op: str, left: Expr, right: Expr) -> None:
        self.line = line
        self.type = None
        self.op = op
        self.left = left
        self.right = right


class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr

    _fields = ("line", "cond", "then", "other")

    def __init__(self, line: int, cond: Expr, then: Expr, other: Expr) -> None:
        self.line = line
        self.type = None
        self.cond = cond
        self.then = then
        self.other = other


class Cast(Expr):
    typename: TypeName
    operand: Expr

    _fields = ("line", "typename", "operand")

    def __init__(self, line: int, typename: TypeName, operand: Expr) -> None:
        self.line = line
        self.type = None
        self.typename = typename
        self.operand = operand


class Call(Expr):
    name: str
    args: list[Expr]

    _fields = ("line", "name", "args")

    def __init__(self, line: int, name: str, args: list[Expr]) -> None:
        self.line = line
        self.type = None
        self.name = name
        self.args = args


class Assign(Expr):
    op: str  # "=", "+=", ... ; "++"/"--" with prefix flag
    target: Expr
    value: Expr | None
    prefix: bool = True

    _fields = ("line", "op", "target", "value", "prefix")

    def __init__(
        self, line: int, op: str, target: Expr, value: Expr | None, prefix: bool = True
    ) -> None:
        self.line = line
        self.type = None
        self.op = op
        self.target = target
        self.value = value
        self.prefix = prefix


class Member(Expr):
    op: str  # "." or "->"
    operand: Expr
    name: str

    _fields = ("line", "op", "operand", "name")

    def __init__(self, line: int, op: str, operand: Expr, name: str) -> None:
        self.line = line
        self.type = None
        self.op = op
        self.operand = operand
        self.name = name


class Index(Expr):
    operand: Expr  # an array, pointer or associative array
    keys: list[Expr]

    _fields = ("line", "operand", "keys")

    def __init__(self, line: int, operand: Expr, keys: list[Expr]) -> None:
        self.line = line
        self.type = None
        self.operand = operand
        self.keys = keys


class Agg(Expr):
    name: str  # without the '@' ("" for the anonymous @)
    keys: list[Expr] | None

    _fields = ("line", "name", "keys")

    def __init__(self, line: int, name: str, keys: list[Expr] | None) -> None:
        self.line = line
        self.type = None
        self.name = name
        self.keys = keys


class Macro(Expr):
    name: str  # "$1", "$$1", "$pid", ...

    _fields = ("line", "name")

    def __init__(self, line: int, name: str) -> None:
        self.line = line
        self.type = None
        self.name = name


class Symbol(Expr):
    module: str  # "" for `sym
    name: str

    _fields = ("line", "module", "name")

    def __init__(self, line: int, module: str, name: str) -> None:
        self.line = line
        self.type = None
        self.module = module
        self.name = name


class Sizeof(Expr):
    operand: Expr | TypeName

    _fields = ("line", "operand")

    def __init__(self, line: int, operand: Expr | TypeName) -> None:
        self.line = line
        self.type = None
        self.operand = operand


class Offsetof(Expr):
    typename: TypeName
    member: str

    _fields = ("line", "typename", "member")

    def __init__(self, line: int, typename: TypeName, member: str) -> None:
        self.line = line
        self.type = None
        self.typename = typename
        self.member = member


class Xlate(Expr):
    typename: TypeName
    operand: Expr

    _fields = ("line", "typename", "operand")

    def __init__(self, line: int, typename: TypeName, operand: Expr) -> None:
        self.line = line
        self.type = None
        self.typename = typename
        self.operand = operand


# --- types and declarations ---------------------------------------------------


class StructSpec(Node):
    kind: str  # "struct" or "union"
    name: str | None
    members: list[MemberDecl] | None  # None: a reference, not a definition

    _fields = ("line", "kind", "name", "members")

    def __init__(
        self, line: int, kind: str, name: str | None, members: list[MemberDecl] | None
    ) -> None:
        self.line = line
        self.kind = kind
        self.name = name
        self.members = members


class EnumSpec(Node):
    name: str | None
    enumerators: list[tuple[str, Expr | None, int]] | None  # (name, value, line)

    _fields = ("line", "name", "enumerators")

    def __init__(
        self, line: int, name: str | None, enumerators: list[tuple[str, Expr | None, int]] | None
    ) -> None:
        self.line = line
        self.name = name
        self.enumerators = enumerators


class DeclSpecs(Node):
    storage: list[str]  # typedef extern static self this ...
    qualifiers: list[str]  # const volatile restrict
    words: list[str]  # int unsigned long ... or a TNAME
    sou: StructSpec | EnumSpec | None = None

    _fields = ("line", "storage", "qualifiers", "words", "sou")

    def __init__(
        self,
        line: int,
        storage: list[str] | None = None,
        qualifiers: list[str] | None = None,
        words: list[str] | None = None,
        sou: StructSpec | EnumSpec | None = None,
    ) -> None:
        self.line = line
        self.storage = list() if storage is None else storage
        self.qualifiers = list() if qualifiers is None else qualifiers
        self.words = list() if words is None else words
        self.sou = sou


class Declarator(Node):
    """kind: "name" (name may be None when abstract), "ptr", "array", "func".

    Applied to a base type: ptr/array/func derive from it, then `inner` is
    applied to the result (so `int *a[2]` is ptr(array(name a, 2))).
    """

    kind: str
    inner: Declarator | None = None
    name: str | None = None
    dim: Expr | list[ParamDecl] | None = None  # array: size or key types
    params: list[ParamDecl] | None = None  # func
    variadic: bool = False

    _fields = ("line", "kind", "inner", "name", "dim", "params", "variadic")

    def __init__(
        self,
        line: int,
        kind: str,
        inner: Declarator | None = None,
        name: str | None = None,
        dim: Expr | list[ParamDecl] | None = None,
        params: list[ParamDecl] | None = None,
        variadic: bool = False,
    ) -> None:
        self.line = line
        self.kind = kind
        self.inner = inner
        self.name = name
        self.dim = dim
        self.params = params
        self.variadic = variadic

    @property
    def ident(self) -> str | None:
        d: Declarator | None = self
        while d is not None and d.kind != "name":
            d = d.inner
        return d.name if d is not None else None


class ParamDecl(Node):
    specs: DeclSpecs
    declarator: Declarator

    _fields = ("line", "specs", "declarator")

    def __init__(self, line: int, specs: DeclSpecs, declarator: Declarator) -> None:
        self.line = line
        self.specs = specs
        self.declarator = declarator


class TypeName(Node):
    specs: DeclSpecs
    declarator: Declarator

    _fields = ("line", "specs", "declarator")

    def __init__(self, line: int, specs: DeclSpecs, declarator: Declarator) -> None:
        self.line = line
        self.specs = specs
        self.declarator = declarator

    def __str__(self) -> str:
        return (
            " ".join(self.specs.qualifiers + self.specs.words)
            if self.specs.sou is None
            else f"{_sou_text(self.specs.sou)}"
        )


def _sou_text(s: StructSpec | EnumSpec) -> str:
    kind = s.kind if isinstance(s, StructSpec) else "enum"
    return f"{kind} {s.name}" if s.name else kind


class MemberDecl(Node):
    specs: DeclSpecs
    declarator: Declarator | None
    bits: Expr | None = None

    _fields = ("line", "specs", "declarator", "bits")

    def __init__(
        self, line: int, specs: DeclSpecs, declarator: Declarator | None, bits: Expr | None = None
    ) -> None:
        self.line = line
        self.specs = specs
        self.declarator = declarator
        self.bits = bits


class Decl(Node):
    specs: DeclSpecs
    declarators: list[Declarator]

    _fields = ("line", "specs", "declarators")

    def __init__(self, line: int, specs: DeclSpecs, declarators: list[Declarator]) -> None:
        self.line = line
        self.specs = specs
        self.declarators = declarators


class InlineDecl(Node):
    specs: DeclSpecs
    declarator: Declarator
    value: Expr

    _fields = ("line", "specs", "declarator", "value")

    def __init__(self, line: int, specs: DeclSpecs, declarator: Declarator, value: Expr) -> None:
        self.line = line
        self.specs = specs
        self.declarator = declarator
        self.value = value


class Translator(Node):
    output: TypeName
    input: TypeName
    param: str
    members: list[tuple[str, Expr, int]]  # (member, expression, line)

    _fields = ("line", "output", "input", "param", "members")

    def __init__(
        self,
        line: int,
        output: TypeName,
        input: TypeName,
        param: str,
        members: list[tuple[str, Expr, int]],
    ) -> None:
        self.line = line
        self.output = output
        self.input = input
        self.param = param
        self.members = members


# --- statements -------------------------------------------------------------


class If(Node):
    cond: Expr
    then: list[Stmt]
    other: list[Stmt] | None

    _fields = ("line", "cond", "then", "other")

    def __init__(self, line: int, cond: Expr, then: list[Stmt], other: list[Stmt] | None) -> None:
        self.line = line
        self.cond = cond
        self.then = then
        self.other = other


Stmt = Expr | If


class ProbeDesc(Node):
    text: str
    provider: str
    module: str
    function: str
    name: str

    _fields = ("line", "text", "provider", "module", "function", "name")

    def __init__(
        self, line: int, text: str, provider: str, module: str, function: str, name: str
    ) -> None:
        self.line = line
        self.text = text
        self.provider = provider
        self.module = module
        self.function = function
        self.name = name


class Clause(Node):
    descs: list[ProbeDesc]
    predicate: Expr | None
    stmts: list[Stmt]

    _fields = ("line", "descs", "predicate", "stmts")

    def __init__(
        self, line: int, descs: list[ProbeDesc], predicate: Expr | None, stmts: list[Stmt]
    ) -> None:
        self.line = line
        self.descs = descs
        self.predicate = predicate
        self.stmts = stmts


class Pragma(Node):
    words: list[str]

    _fields = ("line", "words")

    def __init__(self, line: int, words: list[str]) -> None:
        self.line = line
        self.words = words


class Program(Node):
    items: list[Clause | Pragma | Decl | InlineDecl | Translator]

    _fields = ("line", "items")

    def __init__(
        self, line: int, items: list[Clause | Pragma | Decl | InlineDecl | Translator]
    ) -> None:
        self.line = line
        self.items = items

    @property
    def clauses(self) -> list[Clause]:
        return [i for i in self.items if isinstance(i, Clause)]


def children(node: Any) -> list[Any]:
    """The direct child nodes of node, in source order."""
    if isinstance(node, Program):
        return list(node.items)
    if isinstance(node, Clause):
        return ([node.predicate] if node.predicate is not None else []) + list(node.stmts)
    if isinstance(node, If):
        return [node.cond, *node.then, *(node.other or [])]
    if isinstance(node, Unary | Cast | Member | Xlate):
        return [node.operand]
    if isinstance(node, Sizeof):
        return [node.operand] if isinstance(node.operand, Expr) else []
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Ternary):
        return [node.cond, node.then, node.other]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Index):
        return [node.operand, *node.keys]
    if isinstance(node, Agg):
        return list(node.keys or [])
    if isinstance(node, Assign):
        return [node.target] + ([node.value] if node.value is not None else [])
    if isinstance(node, InlineDecl):
        return [node.value]
    if isinstance(node, Translator):
        return [e for _, e, _ in node.members]
    return []


def walk(node: Any) -> Any:
    """Yield node and every node below it, depth first."""
    yield node
    for c in children(node):
        yield from walk(c)
