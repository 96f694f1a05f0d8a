"""The D abstract syntax tree.

Nodes are plain dataclasses; the checker (sema.check) fills in `type` on
expression nodes.  Every node has the source line it starts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    line: int


@dataclass(eq=False)
class Expr(Node):
    type: Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class IntLit(Expr):
    value: int
    text: str = ""


@dataclass(eq=False)
class StrLit(Expr):
    value: str


@dataclass(eq=False)
class Ident(Expr):
    name: str


@dataclass(eq=False)
class ScopedVar(Expr):
    scope: str          # "this" or "self"
    name: str


@dataclass(eq=False)
class Unary(Expr):
    op: str             # "-", "+", "~", "!"
    operand: Expr


@dataclass(eq=False)
class Binary(Expr):
    op: str             # + - * / % & | ^ << >> == != < <= > >= && || ^^
    left: Expr
    right: Expr


@dataclass(eq=False)
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(eq=False)
class Cast(Expr):
    typename: TypeName
    operand: Expr


@dataclass(eq=False)
class Call(Expr):
    name: str
    args: list[Expr]


@dataclass(eq=False)
class Assign(Expr):
    op: str             # "=", "+=", ... ; "++"/"--" with prefix flag
    target: Expr
    value: Expr | None
    prefix: bool = True


@dataclass(eq=False)
class Member(Expr):
    op: str             # "." or "->"
    operand: Expr
    name: str


@dataclass(eq=False)
class Index(Expr):
    operand: Expr       # an array, pointer or associative array
    keys: list[Expr]


@dataclass(eq=False)
class Agg(Expr):
    name: str           # without the '@' ("" for the anonymous @)
    keys: list[Expr] | None


@dataclass(eq=False)
class Macro(Expr):
    name: str           # "$1", "$$1", "$pid", ...


@dataclass(eq=False)
class Symbol(Expr):
    module: str         # "" for `sym
    name: str


@dataclass(eq=False)
class Sizeof(Expr):
    operand: Expr | TypeName


@dataclass(eq=False)
class Offsetof(Expr):
    typename: TypeName
    member: str


@dataclass(eq=False)
class Xlate(Expr):
    typename: TypeName
    operand: Expr


# --- types and declarations ---------------------------------------------------

@dataclass(eq=False)
class StructSpec(Node):
    kind: str                           # "struct" or "union"
    name: str | None
    members: list[MemberDecl] | None    # None: a reference, not a definition


@dataclass(eq=False)
class EnumSpec(Node):
    name: str | None
    enumerators: list[tuple[str, Expr | None, int]] | None   # (name, value, line)


@dataclass(eq=False)
class DeclSpecs(Node):
    storage: list[str] = field(default_factory=list)      # typedef extern static self this ...
    qualifiers: list[str] = field(default_factory=list)   # const volatile restrict
    words: list[str] = field(default_factory=list)        # int unsigned long ... or a TNAME
    sou: StructSpec | EnumSpec | None = None


@dataclass(eq=False)
class Declarator(Node):
    """kind: "name" (name may be None when abstract), "ptr", "array", "func".

    Applied to a base type: ptr/array/func derive from it, then `inner` is
    applied to the result (so `int *a[2]` is ptr(array(name a, 2))).
    """

    kind: str
    inner: Declarator | None = None
    name: str | None = None
    dim: Expr | list[ParamDecl] | None = None     # array: size or key types
    params: list[ParamDecl] | None = None        # func
    variadic: bool = False

    @property
    def ident(self) -> str | None:
        d: Declarator | None = self
        while d is not None and d.kind != "name":
            d = d.inner
        return d.name if d is not None else None


@dataclass(eq=False)
class ParamDecl(Node):
    specs: DeclSpecs
    declarator: Declarator


@dataclass(eq=False)
class TypeName(Node):
    specs: DeclSpecs
    declarator: Declarator

    def __str__(self) -> str:
        return " ".join(self.specs.qualifiers + self.specs.words) if \
            self.specs.sou is None else f"{_sou_text(self.specs.sou)}"


def _sou_text(s: StructSpec | EnumSpec) -> str:
    kind = s.kind if isinstance(s, StructSpec) else "enum"
    return f"{kind} {s.name}" if s.name else kind


@dataclass(eq=False)
class MemberDecl(Node):
    specs: DeclSpecs
    declarator: Declarator | None
    bits: Expr | None = None


@dataclass(eq=False)
class Decl(Node):
    specs: DeclSpecs
    declarators: list[Declarator]


@dataclass(eq=False)
class InlineDecl(Node):
    specs: DeclSpecs
    declarator: Declarator
    value: Expr


@dataclass(eq=False)
class Translator(Node):
    output: TypeName
    input: TypeName
    param: str
    members: list[tuple[str, Expr, int]]      # (member, expression, line)


# --- statements -------------------------------------------------------------

@dataclass(eq=False)
class If(Node):
    cond: Expr
    then: list[Stmt]
    other: list[Stmt] | None


Stmt = Expr | If


@dataclass(eq=False)
class ProbeDesc(Node):
    text: str
    provider: str
    module: str
    function: str
    name: str


@dataclass(eq=False)
class Clause(Node):
    descs: list[ProbeDesc]
    predicate: Expr | None
    stmts: list[Stmt]


@dataclass(eq=False)
class Pragma(Node):
    words: list[str]


@dataclass(eq=False)
class Program(Node):
    items: list[Clause | Pragma | Decl | InlineDecl | Translator]

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
