"""Integer constant folding of typed expressions (dt_node_op1/op2 folding).

fold() returns the value of an expression the checker has already typed
when it is an integral constant expression, else None.  Values are wrapped
to the expression's type the way the D compiler wraps them (64-bit
registers, then the type's width and sign).
"""

from __future__ import annotations

from pydtrace.lang import ast
from pydtrace.sema import types as T


def wrap(value: int, t: T.DType | None) -> int:
    """value reduced to t's width and sign (64-bit when t is unknown)."""
    size = t.size if t is not None and t.is_int and 0 < t.size <= 8 else 8
    signed = t.signed if t is not None and t.is_int else True
    bits = size * 8
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def fold(e: ast.Expr) -> int | None:
    c = getattr(e, "const", None)
    if c is not None:
        return int(c)
    if isinstance(e, ast.IntLit):
        return e.value
    if isinstance(e, ast.Unary) and e.op in ("-", "+", "~", "!"):
        v = fold(e.operand)
        if v is None:
            return None
        r = {"-": -v, "+": v, "~": ~v, "!": int(v == 0)}[e.op]
        return wrap(r, e.type)
    if isinstance(e, ast.Cast):
        v = fold(e.operand)
        return None if v is None or e.type is None or not e.type.is_int else wrap(v, e.type)
    if isinstance(e, ast.Ternary):
        c = fold(e.cond)
        if c is None:
            return None
        return fold(e.then if c else e.other)
    if isinstance(e, ast.Binary):
        return _binary(e)
    return None


def _binary(e: ast.Binary) -> int | None:
    a = fold(e.left)
    b = fold(e.right)
    if a is None or b is None:
        return None
    op = e.op
    if op in ("/", "%") and b == 0:
        return None
    rt = e.type
    if op in ("+", "-", "*", "/", "%", "&", "|", "^"):
        t = rt if rt is not None else T.LONG
        a, b = wrap(a, t), wrap(b, t)
        if op == "/":
            return wrap(_div(a, b), t)
        if op == "%":
            return wrap(a - _div(a, b) * b, t)
        r = {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]
        return wrap(r, t)
    if op in ("<<", ">>"):
        lt = e.left.type
        if not 0 <= b < 64:
            return None
        a = wrap(a, lt)
        return wrap(a << b if op == "<<" else a >> b, lt)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        pt = T.promote(e.left.type, e.right.type) if e.left.type and e.right.type else T.LONG
        a, b = wrap(a, pt), wrap(b, pt)
        return int(
            {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        )
    if op in ("&&", "||", "^^"):
        x, y = bool(a), bool(b)
        return int({"&&": x and y, "||": x or y, "^^": x != y}[op])
    if op == ",":
        return b
    return None
