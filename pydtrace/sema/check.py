"""The checker: resolves identifiers, types every expression, validates actions.

It annotates the AST in place: every Expr gets .type (a types.DType),
identifiers and this-> references get .var (a Var), printf calls get
.format (fmt.Format with the signed flags filled in).  Errors are DErrors
with libdtrace's tags and wording; the region is "action list" or
"predicate" as dtrace prints it for probe specifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T


@dataclass
class Var:
    name: str
    scope: str          # "builtin", "global", "local"
    id: int
    type: T.DType


def _builtin(name: str, ident: str, t: T.DType) -> Var:
    return Var(name, "builtin", int(getattr(lib, "DIF_VAR_" + ident)), t)


BUILTINS: dict[str, Var] = {v.name: v for v in (
    _builtin("pid", "PID", T.TYPEDEFS["pid_t"]),
    _builtin("tid", "TID", T.TYPEDEFS["id_t"]),
    _builtin("ppid", "PPID", T.TYPEDEFS["pid_t"]),
    _builtin("uid", "UID", T.TYPEDEFS["uid_t"]),
    _builtin("gid", "GID", T.TYPEDEFS["gid_t"]),
    _builtin("execname", "EXECNAME", T.STRING),
    _builtin("timestamp", "TIMESTAMP", T.TYPEDEFS["uint64_t"]),
    _builtin("walltimestamp", "WALLTIMESTAMP", T.TYPEDEFS["int64_t"]),
    _builtin("epid", "EPID", T.TYPEDEFS["uint_t"]),
    _builtin("id", "ID", T.TYPEDEFS["uint_t"]),
    _builtin("probeprov", "PROBEPROV", T.STRING),
    _builtin("probemod", "PROBEMOD", T.STRING),
    _builtin("probefunc", "PROBEFUNC", T.STRING),
    _builtin("probename", "PROBENAME", T.STRING),
    _builtin("cpu", "CPU", T.TYPEDEFS["processorid_t"]),
    *(_builtin(f"arg{i}", f"ARG{i}", T.TYPEDEFS["int64_t"]) for i in range(10)),
)}

ACTIONS = ("trace", "printf", "exit")
UBASE = int(lib.DIF_VAR_OTHER_UBASE)
ARITH_OPS = ("+", "-", "*", "/")
INT_OPS = ("%", "&", "|", "^", "<<", ">>")
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
LOGIC_OPS = ("&&", "||", "^^")


class Scope:
    """Variables of one consumer (globals) and of one program (clause-locals)."""

    def __init__(self, globals_: dict[str, Var] | None = None) -> None:
        self.globals: dict[str, Var] = globals_ if globals_ is not None else {}
        self.locals: dict[str, Var] = {}

    def declare(self, kind: str, name: str, t: T.DType) -> Var:
        table = self.globals if kind == "global" else self.locals
        var = Var(name, kind, UBASE + len(table), t)
        table[name] = var
        return var


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.region: str | None = None

    def err(self, node: ast.Node, tag: str, msg: str) -> DError:
        return DError(tag, msg, node.line, self.region)

    # -- clauses --------------------------------------------------------------

    def check_clause(self, clause: ast.Clause) -> None:
        # libdtrace cooks the action list before the predicate
        self.region = "action list"
        for stmt in clause.stmts:
            self.statement(stmt)
        if clause.predicate is not None:
            self.region = "predicate"
            t = self.expr(clause.predicate)
            if not t.is_scalar:
                raise self.err(clause.predicate, "D_PRED_SCALAR",
                               "predicate result must be of scalar type")
        self.region = None

    def statement(self, stmt: ast.Expr) -> None:
        if isinstance(stmt, ast.Call) and stmt.name in ACTIONS:
            getattr(self, "action_" + stmt.name)(stmt)
            stmt.type = T.VOID
        else:
            self.expr(stmt)

    def _proto_len(self, call: ast.Call, expected: int) -> None:
        if len(call.args) != expected:
            raise self.err(call, "D_PROTO_LEN",
                           f"{call.name}( ) prototype mismatch: "
                           f"{_plural(len(call.args), 'arg')} passed, {expected} expected")

    def action_trace(self, call: ast.Call) -> None:
        self._proto_len(call, 1)
        t = self.expr(call.args[0])
        if t.kind == "void":
            raise self.err(call, "D_TRACE_VOID",
                           "trace( ) may not be applied to a void expression")

    def action_exit(self, call: ast.Call) -> None:
        self._proto_len(call, 1)
        t = self.expr(call.args[0])
        if not t.is_int:
            raise self.err(call, "D_PROTO_ARG",
                           "exit( ) argument #1 is incompatible with prototype:\n"
                           f"\tprototype: int\n\t argument: {t}")

    def action_printf(self, call: ast.Call) -> None:
        if not call.args:
            raise self.err(call, "D_PROTO_LEN",
                           "printf( ) prototype mismatch: 0 args passed, at least 1 expected")
        first = call.args[0]
        if not isinstance(first, ast.StrLit):
            self.expr(first)
            raise self.err(call, "D_PRINTF_ARG_FMT",
                           "printf( ) argument #1 is incompatible with prototype:\n"
                           f"\tprototype: string constant\n\t argument: {first.type}")
        first.type = T.STRING
        if first.value == "":
            raise self.err(call, "D_PRINTF_FMT_EMPTY", "printf( ) format string is empty")
        try:
            form = fmt.parse(first.value)
        except DError as e:
            raise self.err(call, e.tag, e.message) from None
        argtypes = [self.expr(a) for a in call.args[1:]]
        call.format = self.validate_format(call, form, argtypes)  # type: ignore[attr-defined]

    def validate_format(self, call: ast.Call, form: fmt.Format,
                        argtypes: list[T.DType]) -> fmt.Format:
        """dt_printf_validate for printf(): checks and the signed flags."""
        func = call.name
        foff = 1
        j = 0
        signs: list[bool] = []
        for i, piece in enumerate(_numbered(form)):
            if piece is None:
                continue
            dyns = []
            if piece.precision == -1:
                dyns.append(".*")
            if piece.width == -1:
                dyns.append("*")
            name = fmt.conv_name(piece)
            for dyn in reversed(dyns):
                if j >= len(argtypes):
                    raise self.err(call, "D_PRINTF_DYN_PROTO",
                                   f"{func}( ) prototype mismatch: conversion #{i + 1} "
                                   f'(%{name}) is missing a corresponding "{dyn}" argument')
                if not argtypes[j].is_int:
                    raise self.err(call, "D_PRINTF_DYN_TYPE",
                                   f"{func}( ) argument #{j + foff + 1} is incompatible "
                                   f"with conversion #{i + 1} prototype:\n"
                                   f"\tconversion: % {dyn} {name}\n"
                                   f"\t prototype: int\n\t  argument: {argtypes[j]}")
                j += 1
            if "@" in piece.flags:
                raise self.err(call, "D_PRINTF_AGG_CONV",
                               "%@ conversion requires an aggregation and is not for "
                               f"use with {func}( )")
            if j >= len(argtypes):
                raise self.err(call, "D_PRINTF_ARG_PROTO",
                               f"{func}( ) prototype mismatch: conversion #{i + 1} "
                               f"(%{name}) is missing a corresponding value argument")
            at = argtypes[j]
            j += 1
            info = fmt.info(piece)
            if not _conv_ok(info, at):
                raise self.err(call, "D_PRINTF_ARG_TYPE",
                               f"{func}( ) argument #{j + foff} is incompatible with "
                               f"conversion #{i + 1} prototype:\n\tconversion: %{name}\n"
                               f"\t prototype: {info.proto}\n\t  argument: {at}")
            signs.append(at.is_int and at.signed)
        if j < len(argtypes):
            raise self.err(call, "D_PRINTF_ARG_EXTRA",
                           f"{func}( ) prototype mismatch: only {j} arguments "
                           "required by this format string")
        return fmt.with_signs(form, signs)

    # -- expressions ------------------------------------------------------------

    def expr(self, e: ast.Expr) -> T.DType:
        t = getattr(self, "e_" + type(e).__name__)(e)
        e.type = t
        return t

    def e_IntLit(self, e: ast.IntLit) -> T.DType:
        t = T.int_constant_type(e.value, getattr(e, "decimal", True), getattr(e, "suffix", ""))
        if t is None:
            raise self.err(e, "D_INT_OFLOW", f"integer constant 0x{e.value:x} cannot "
                           "be represented in any built-in integral type")
        return t

    def e_StrLit(self, e: ast.StrLit) -> T.DType:
        return T.STRING

    def e_Ident(self, e: ast.Ident) -> T.DType:
        var = BUILTINS.get(e.name) or self.scope.globals.get(e.name)
        if var is None:
            if e.name in ACTIONS:
                raise self.err(e, "D_CG_EXPR", f"{e.name}( ) may not be called from "
                               "a D expression (D program context required)")
            raise self.err(e, "D_IDENT_UNDEF",
                           f"failed to resolve {e.name}: Unknown variable name")
        e.var = var  # type: ignore[attr-defined]
        return var.type

    def e_ScopedVar(self, e: ast.ScopedVar) -> T.DType:
        if e.scope == "self":
            raise self.err(e, "D_VAR_UNSUP",
                           "thread-local variables are not supported yet")
        var = self.scope.locals.get(e.name)
        if var is None:
            raise self.err(e, "D_VAR_UNDEF",
                           f"this->{e.name} has not yet been declared or assigned")
        e.var = var  # type: ignore[attr-defined]
        return var.type

    def e_Unary(self, e: ast.Unary) -> T.DType:
        t = self.expr(e.operand)
        if e.op in ("-", "+") and not t.is_int:
            raise self.err(e, "D_OP_ARITH",
                           f"operator {e.op} requires an operand of arithmetic type")
        if e.op == "~" and not t.is_int:
            raise self.err(e, "D_OP_INT",
                           "operator ~ requires an operand of integral type")
        if e.op == "!":
            if not t.is_scalar:
                raise self.err(e, "D_OP_SCALAR",
                               "operator ! requires an operand of scalar type")
            return T.INT
        return t

    def e_Binary(self, e: ast.Binary) -> T.DType:
        lt = self.expr(e.left)
        rt = self.expr(e.right)
        op = e.op
        if op in ARITH_OPS or op in INT_OPS:
            if not (lt.is_int and rt.is_int):
                if op in ARITH_OPS:
                    raise self.err(e, "D_OP_ARITH",
                                   f"operator {op} requires operands of arithmetic type")
                raise self.err(e, "D_OP_INT",
                               f"operator {op} requires operands of integral type")
            if op in ("/", "%") and isinstance(e.right, ast.IntLit) and \
                    e.right.value == 0 and isinstance(e.left, ast.IntLit):
                raise self.err(e, "D_DIV_ZERO", "expression contains division by zero")
            return lt if op in ("<<", ">>") else T.promote(lt, rt)
        if op in CMP_OPS:
            if not ((lt.is_int and rt.is_int) or (lt.is_string and rt.is_string)):
                raise self.err(e, "D_OP_INCOMPAT", "operands have incompatible types: "
                               f'"{lt}" {op} "{rt}"')
            return T.INT
        if not (lt.is_scalar and rt.is_scalar):
            raise self.err(e, "D_OP_SCALAR",
                           f"operator {op} requires operands of scalar type")
        return T.INT

    def e_Ternary(self, e: ast.Ternary) -> T.DType:
        ct = self.expr(e.cond)
        if not ct.is_scalar:
            raise self.err(e, "D_OP_SCALAR",
                           "operator ?: requires a scalar first operand")
        a = self.expr(e.then)
        b = self.expr(e.other)
        if a.is_int and b.is_int:
            return T.promote(a, b)
        if a.is_string and b.is_string:
            return T.STRING
        raise self.err(e, "D_OP_INCOMPAT", "operator ?: operands must have compatible "
                       f'types: "{a}" and "{b}"')

    def e_Cast(self, e: ast.Cast) -> T.DType:
        target = T.from_specifiers(e.typename)
        if target is None:
            raise self.err(e, "D_DECL_COMBO", "invalid type combination")
        src = self.expr(e.operand)
        if target.kind == "void":
            return target
        if target.is_int and src.is_int or target.is_string and src.is_string:
            return target
        raise self.err(e, "D_CAST_INVAL",
                       f'invalid cast expression: "{src}" to "{target}"')

    def e_Call(self, e: ast.Call) -> T.DType:
        if e.name in ACTIONS:
            raise self.err(e, "D_CG_EXPR", f"{e.name}( ) may not be called from a "
                           "D expression (D program context required)")
        raise self.err(e, "D_FUNC_UNDEF", f"undefined function name: {e.name}")

    def e_Assign(self, e: ast.Assign) -> T.DType:
        target = e.target
        op = e.op
        if isinstance(target, ast.Ident) and target.name in BUILTINS or \
                isinstance(target, ast.ScopedVar) and target.scope == "self":
            if isinstance(target, ast.Ident):
                raise self.err(e, "D_OP_WRITE",
                               f"operator {op} can only be applied to a writable variable")
        if not isinstance(target, ast.Ident | ast.ScopedVar):
            raise self.err(e, "D_OP_LVAL",
                           f"operator {op} requires modifiable lvalue as an operand")
        if op in ("++", "--"):
            t = self.expr(target)
            if not t.is_int:
                raise self.err(e, "D_OP_ARITH",
                               f"operator {op} requires an operand of arithmetic type")
            return t
        assert e.value is not None
        vt = self.expr(e.value)
        if op != "=":
            t = self.expr(target)
            binop = op[:-1]
            if not (t.is_int and vt.is_int):
                tag, what = (("D_OP_ARITH", "arithmetic") if binop in ARITH_OPS
                             else ("D_OP_INT", "integral"))
                raise self.err(e, tag, f"operator {op} requires operands of {what} type")
            return t
        if vt.kind == "void":
            raise self.err(e, "D_OP_VFPTR", "operator = requires operands of "
                           "compatible types: void value")
        var = self._lookup_target(target)
        if var is None:
            kind = "global" if isinstance(target, ast.Ident) else "local"
            name = target.name
            var = self.scope.declare(kind, name, vt)
        elif not (var.type.is_int and vt.is_int or var.type.is_string and vt.is_string):
            raise self.err(e, "D_OP_INCOMPAT", "operands have incompatible types: "
                           f'"{var.type}" = "{vt}"')
        target.var = var  # type: ignore[attr-defined]
        target.type = var.type
        return var.type

    def _lookup_target(self, target: ast.Expr) -> Var | None:
        if isinstance(target, ast.Ident):
            return self.scope.globals.get(target.name)
        assert isinstance(target, ast.ScopedVar)
        return self.scope.locals.get(target.name)


def _numbered(form: fmt.Format) -> list[fmt.Conversion | None]:
    """Conversions numbered as libdtrace counts them (every '%', %% included)."""
    out: list[fmt.Conversion | None] = []
    for piece in form.pieces:
        if isinstance(piece, fmt.Conversion):
            out.append(piece)
        else:
            out.extend([None] * _count_pct(piece))
    return out


def _count_pct(literal: str) -> int:
    return literal.count("%")


def _conv_ok(info: fmt.ConvInfo, t: T.DType) -> bool:
    if info.check in ("xint", "addr", "uaddr", "time"):
        return t.is_int
    if info.check == "csi":
        return t.is_int and t.size <= 4
    if info.check == "str":
        return t.is_string
    if info.check == "type":
        return t.is_int and t.size == info.size and t.signed != info.unsigned
    if info.check == "xsize":
        return t.is_int and t.size == info.size
    return False
