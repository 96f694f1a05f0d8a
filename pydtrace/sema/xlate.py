"""Translators: definitions, xlate<T>(e) and translated member references.

As libdtrace does it (dt_parser.c, dt_xlator.c, dt_cg.c): `xlate<T>(e)` and
`xlate<T *>(e)` have a dynamic type ("translated data", "pointer to
translated data") that only the member operators accept; a member reference
evaluates e once into a register, binds the translator's parameter to it and
compiles that member's expression, cast to the member's type.  No
DIF_OP_XLATE/XLARG ever reaches the kernel.

Annotations: an Xlate node gets .xlator (a Xlator) and .xlout (the output
type as written); a Member node translated gets .xlmember = (the Xlate node,
the member's checked expression wrapped in a Cast, the parameter's Var).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T

if TYPE_CHECKING:
    from pydtrace.sema.check import Checker, Var


@dataclass(eq=False)
class Xlator:
    """One translator: output (struct/union) and input types, the parameter
    and every member's checked expression (cast to the member's type)."""

    out: T.DType
    src: T.DType
    param: Var
    members: dict[str, ast.Expr] = field(default_factory=dict)
    # lazily checked members: name -> (expression, line, member type)
    pending: dict[str, tuple[ast.Expr, int, T.DType]] = field(default_factory=dict)


def dyn_type(ptr: bool) -> T.DType:
    """The dynamic type of an xlate expression (dt_idkind_name's words)."""
    return T.DType("pointer to translated data" if ptr else "translated data", "dyn")


def is_dyn(t: T.DType | None) -> bool:
    return t is not None and t.kind == "dyn"


def xlate_node(e: ast.Expr) -> ast.Xlate | None:
    """The Xlate node e stands for (itself, or an inline's value)."""
    seen = 0
    while not isinstance(e, ast.Xlate) and seen < 64:
        sub = getattr(e, "subst", None)
        if sub is None:
            return None
        e = sub
        seen += 1
    return e if isinstance(e, ast.Xlate) else None


def define(checker: Checker, x: ast.Translator, lazy: bool = False) -> Xlator:
    """dt_node_xlator + dt_cook_xlator: declare translator x.  lazy (the D
    library's translators): a member's expression is checked when a
    program first uses that member, so BTF types are looked up only for
    what is used."""
    from pydtrace.sema.check import Var

    out = checker.decl.typename(x.output)
    src = checker.decl.typename(x.input)
    for old in checker.env.translators:
        if T.same(old[0], out) and T.same(old[1], src):
            raise checker.err(
                x, "D_XLATE_REDECL", f"translator from {src} to {out} has already been declared"
            )
    ro = T.resolve(out)
    if ro.sou is not None and ro.sou.members is None and " " in ro.name:
        full = checker.env.tag(ro.kind, ro.name.split(" ", 1)[1])
        if full is None or full.sou is None or full.sou.members is None:
            raise checker.err(x, "D_XLATE_SOU", f"incomplete struct/union/enum {out}")
        ro = full
    if ro.sou is None:
        raise checker.err(x, "D_XLATE_SOU", "translator output type must be a struct or union")
    param = Var(x.param, "xlarg", 0, src)
    xl = Xlator(out, src, param)
    for name, e, line in x.members:
        found = T.member_path(ro, name)
        if found is None:
            raise DError("D_XLATE_MEMB", f"translator member {name} is not a member of {out}", line)
        if lazy:
            xl.pending[name] = (e, line, found[0].type)
        else:
            xl.members[name] = _check_member(checker, xl, name, e, line, found[0].type)
    checker.env.translators.append((out, src, x))
    x.xlator = xl  # type: ignore[attr-defined]
    return xl


def _check_member(
    checker: Checker, xl: Xlator, name: str, e: ast.Expr, line: int, mt: T.DType
) -> ast.Expr:
    """Check one member's expression with the parameter in scope; the
    expression cast to the member's type."""
    from pydtrace.sema.check import _assignable, _strcompat

    globals_ = checker.scope.globals
    param = xl.param.name
    saved = globals_.get(param)
    globals_[param] = xl.param
    region = checker.region
    checker.region = None
    try:
        vt = checker.expr(e)
        if not (
            _assignable(mt, vt)
            or (mt.is_int and vt.is_int)
            or (_strcompat(T.resolve(mt)) and _strcompat(T.resolve(vt)))
        ):
            raise DError(
                "D_XLATE_INCOMPAT",
                f'translator member {name} definition uses incompatible types: "{mt}" = "{vt}"',
                line,
            )
    finally:
        checker.region = region
        if saved is None:
            del globals_[param]
        else:
            globals_[param] = saved
    cast = ast.Cast(line, ast.TypeName(line, ast.DeclSpecs(line), ast.Declarator(line, name)), e)
    cast.type = mt
    return cast


def _candidates(out: T.DType) -> list[str]:
    names = [out.name]
    r = T.resolve(out)
    if r.name not in names:
        names.append(r.name)
    return names


def lookup(checker: Checker, out: T.DType, src: T.DType) -> Xlator | None:
    """dt_xlator_lookup(DT_XLATE_FUZZY): exact types, then compatible
    types, then an input the translator's parameter accepts."""
    from pydtrace.sema.check import _assignable

    base = out
    if T.resolve(out).kind == "ptr":
        ref = T.resolve(out).ref
        assert ref is not None
        base = ref
    checker.env.load_translators(_candidates(base))
    table = checker.env.translators
    for match in (
        lambda o, s: o is base and s is src,
        lambda o, s: T.same(o, base) and T.same(s, src),
        lambda o, s: T.same(o, base) and _assignable(s, src),
    ):
        for o, s, x in table:
            if match(o, s):
                return x.xlator  # type: ignore[attr-defined,no-any-return]
    return None


def check_xlate(checker: Checker, e: ast.Xlate) -> T.DType:
    """dt_cook_op2(DT_TOK_XLATE)."""
    out = checker.decl.typename(e.typename)
    src = checker.expr(e.operand)
    xl = lookup(checker, out, src)
    if xl is None:
        raise checker.err(e, "D_XLATE_NONE", f'cannot translate from "{src}" to "{out}"')
    e.xlator = xl  # type: ignore[attr-defined]
    e.xlout = out  # type: ignore[attr-defined]
    return dyn_type(T.resolve(out).kind == "ptr")


def check_member(checker: Checker, e: ast.Member, xl_node: ast.Xlate) -> T.DType:
    """dt_cook_op2(DT_TOK_PTR/DOT) on a translated operand."""
    xl: Xlator = xl_node.xlator  # type: ignore[attr-defined]
    body = xl.members.get(e.name)
    pending = xl.pending.pop(e.name, None)
    if body is None and pending is not None:
        from pydtrace.sema.check import Checker, Scope

        body = xl.members[e.name] = _check_member(
            Checker(Scope(), checker.env), xl, e.name, *pending
        )
    if body is None:
        raise checker.err(
            e, "D_XLATE_NOCONV", f"translator does not define conversion for member: {e.name}"
        )
    t: T.DType = xl_node.xlout  # type: ignore[attr-defined]
    rt = T.resolve(t)
    if e.op == "->":
        if rt.kind != "ptr":
            raise checker.err(e, "D_OP_PTR", "operator -> must be applied to a pointer")
        assert rt.ref is not None
        rt = T.resolve(rt.ref)
    elif rt.sou is None:
        raise checker.err(
            e,
            "D_OP_SOU",
            f'operator . cannot be applied to type "{rt}"; must be applied to a struct or union',
        )
    e.xlmember = (xl_node, body, xl.param)  # type: ignore[attr-defined]
    e.lvalue = False  # type: ignore[attr-defined]
    return body.type  # type: ignore[no-any-return]


def deref(e: ast.Unary, xl_node: ast.Xlate) -> T.DType:
    """`*xlate<T *>(x)` (dt_cook_op1 DT_TOK_DEREF on a translated pointer):
    the translated struct itself, xlate<T>(x), which e stands for."""
    out = T.resolve(xl_node.xlout).ref  # type: ignore[attr-defined]
    assert out is not None
    node = ast.Xlate(e.line, xl_node.typename, xl_node.operand)
    node.xlator = xl_node.xlator  # type: ignore[attr-defined]
    node.xlout = out  # type: ignore[attr-defined]
    node.type = dyn_type(False)
    e.subst = node  # type: ignore[attr-defined]
    return node.type


def expand(checker: Checker, e: ast.Expr) -> T.DType | None:
    """A translated struct (xlate<T>(x), not a pointer) used as a whole, as
    trace() does: every member checked, the value typed as T (code
    generation builds it in scratch memory).  None when e is not one."""
    node = xlate_node(e)
    if node is None or T.resolve(node.xlout).kind == "ptr":  # type: ignore[attr-defined]
        return None
    xl: Xlator = node.xlator  # type: ignore[attr-defined]
    if xl.pending:
        from pydtrace.sema.check import Checker, Scope

        sub = Checker(Scope(), checker.env)
        for name, pending in list(xl.pending.items()):
            xl.members[name] = _check_member(sub, xl, name, *pending)
            del xl.pending[name]
    node.expand = True  # type: ignore[attr-defined]
    out = xl.out
    while e is not node:
        e.type = out
        e = e.subst  # type: ignore[attr-defined]
    node.type = out
    return out


def check_inline_value(
    checker: Checker, d: ast.InlineDecl, name: str, t: T.DType, vt: T.DType
) -> None:
    """dt_cook_inline for an inline whose value is a translation: the
    declared type (or what it points to) must be the translator's output."""
    xl_node = xlate_node(d.value)
    assert xl_node is not None
    xl: Xlator = xl_node.xlator  # type: ignore[attr-defined]
    lt = T.resolve(t)
    if lt.kind == "ptr" and lt.ref is not None:
        lt = T.resolve(lt.ref)
    if not T.same(lt, T.resolve(xl.out)):
        raise checker.err(
            d,
            "D_OP_INCOMPAT",
            f'inline {name} definition uses incompatible types: "{lt}" = "{T.resolve(xl.out)}"',
        )


def translated_arg(
    checker: Checker, index: int, native: str, xlate: str, line: int = 0
) -> ast.Expr:
    """args[index] of a probe whose argument is described as (native,
    xlate): the checked expression xlate<xlate>((native)arg<index>).

    For args_ref: `e.subst = translated_arg(...)`, type e as the result's
    .type.  A translated pointer (xlate "psinfo_t *") is a dynamic value
    that only -> accepts, as in DTrace."""
    from pydtrace.lang.parser import parse

    if not 0 <= index < 10:
        raise DError(
            "D_ARGS_XLATOR",
            f"translated argument #{index} is out of range: only arg0 .. arg9 can be translated",
            line,
        )
    src = f"BEGIN {{ xlate<{xlate}>(({native})arg{index}); }}"
    tree = parse(src, checker.env.is_typename)
    clause = tree.items[0]
    assert isinstance(clause, ast.Clause)
    stmt = clause.stmts[0]
    assert isinstance(stmt, ast.Xlate)
    _relines(stmt, line)
    checker.expr(stmt)
    return stmt


def _relines(node: ast.Node, line: int) -> None:
    node.line = line
    for name in getattr(node, "_fields", ()):
        v = getattr(node, name, None)
        for c in v if isinstance(v, list) else [v]:
            if isinstance(c, ast.Node):
                _relines(c, line)
