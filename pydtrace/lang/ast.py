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
    typename: list[str]
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
    stmts: list[Expr]


@dataclass(eq=False)
class Pragma(Node):
    words: list[str]


@dataclass(eq=False)
class Program(Node):
    items: list[Clause | Pragma]

    @property
    def clauses(self) -> list[Clause]:
        return [i for i in self.items if isinstance(i, Clause)]


def walk(node: Any) -> Any:
    """Yield node and every node below it, depth first."""
    yield node
    if isinstance(node, Program):
        for i in node.items:
            yield from walk(i)
    elif isinstance(node, Clause):
        if node.predicate is not None:
            yield from walk(node.predicate)
        for s in node.stmts:
            yield from walk(s)
    elif isinstance(node, Unary | Cast):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Ternary):
        yield from walk(node.cond)
        yield from walk(node.then)
        yield from walk(node.other)
    elif isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
    elif isinstance(node, Assign):
        yield from walk(node.target)
        if node.value is not None:
            yield from walk(node.value)
