"""The checker: resolves identifiers, types every expression, validates actions.

It annotates the AST in place: every Expr gets .type (a types.DType),
identifiers and this-> references get .var (a Var), printf calls get
.format (fmt.Format with the signed flags filled in).  Errors are DErrors
with libdtrace's tags and wording; the region is "action list" or
"predicate" as dtrace prints it for probe specifiers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T
from pydtrace.sema.decl import Declarer, Inline, TypeEnv
from pydtrace.sema.fold import fold
from pydtrace.sema.macros import Macros


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
# Everything else DTrace knows by name: accepted by the grammar, rejected by
# the checker until code generation and the kernel support them.
OTHER_ACTIONS = ("printa", "tracemem", "stack", "ustack", "jstack", "raise",
                 "stop", "system", "breakpoint", "panic", "chill", "copyout",
                 "copyoutstr", "speculate", "commit", "discard", "clear",
                 "denormalize", "normalize", "trunc", "setopt", "ftruncate",
                 "freopen", "print", "pcap")
AGG_FUNCS = ("count", "sum", "avg", "min", "max", "stddev", "quantize",
             "lquantize", "llquantize")
SUBROUTINES = ("alloca", "basename", "bcopy", "cleanpath", "copyin",
               "copyinstr", "copyinto", "dirname", "getmajor", "getminor",
               "htonl", "htonll", "htons", "index", "inet_ntoa", "inet_ntoa6",
               "inet_ntop", "lltostr", "mutex_owned", "mutex_owner",
               "mutex_type_adaptive", "mutex_type_spin", "ntohl", "ntohll",
               "ntohs", "progenyof", "rand", "rindex", "rw_iswriter",
               "rw_read_held", "rw_write_held", "speculation", "strchr",
               "strjoin", "strlen", "strrchr", "strstr", "strtok", "substr",
               "tolower", "toupper", "getf", "strtoll", "func", "mod", "sym",
               "ufunc", "umod", "uaddr", "usym", "d_path", "link_ntop",
               "json", "ddi_pathname", "msgsize", "msgdsize", "lltostr")
# Names D itself defines: never looked up as kernel typedef names.
D_NAMES = frozenset(BUILTINS) | frozenset(ACTIONS + OTHER_ACTIONS + AGG_FUNCS + SUBROUTINES) \
    | {"curthread", "args", "self", "this"}
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
    def __init__(self, scope: Scope, env: TypeEnv | None = None,
                 macros: Macros | None = None) -> None:
        self.scope = scope
        self.env = env if env is not None else TypeEnv()
        self.macros = macros if macros is not None else Macros(defaultargs=True)
        self.decl = Declarer(self.env, self.const_expr)
        self.region: str | None = None
        self.strsize = 256

    def const_expr(self, e: ast.Expr) -> int | None:
        """The value of an integral constant expression, else None."""
        t = self.expr(e)
        if not t.is_int:
            return None
        return fold(e)

    def unsupported(self, node: ast.Node, what: str) -> DError:
        return self.err(node, "D_VAR_UNSUP", f"{what} are not supported yet")

    # -- declarations -------------------------------------------------------------

    def declare(self, item: ast.Node) -> None:
        self.region = None
        if isinstance(item, ast.Decl):
            self.decl_item(item)
        elif isinstance(item, ast.InlineDecl):
            self.inline_item(item)
        elif isinstance(item, ast.Translator):
            self.translator_item(item)

    def decl_item(self, d: ast.Decl) -> None:
        storage = d.specs.storage
        if len(storage) > 1:
            raise self.err(d, "D_DECL_CLASS",
                           "only one storage class allowed in a declaration")
        cls = storage[0] if storage else None
        base = self.decl.specs_type(d.specs)
        if not d.declarators:
            if d.specs.sou is None:
                raise self.err(d, "D_DECL_USELESS", "useless declaration")
            return
        for dd in d.declarators:
            name, t = self.decl.apply(base, dd)
            assert name is not None
            if cls == "typedef":
                old = self.env.typedefs.get(name)
                if old is not None and not T.same(old, t):
                    raise self.err(dd, "D_DECL_IDRED", f"identifier redeclared: {name}")
                self.env.typedefs[name] = T.alias(t, name)
                continue
            self.declare_var(dd, cls, name, t)

    def declare_var(self, node: ast.Node, cls: str | None, name: str, t: T.DType) -> None:
        rt = T.resolve(t)
        if rt.kind == "func" or cls == "extern":
            return                  # prototypes and kernel symbols: types only
        if rt.kind == "void":
            raise self.err(node, "D_DECL_VOIDOBJ", f"cannot declare void object : {name}")
        if rt.sou is not None and rt.sou.members is None:
            raise self.err(node, "D_DECL_INCOMPLETE",
                           f"incomplete struct/union/enum {t}: {name}")
        if cls == "self":
            raise self.unsupported(node, "thread-local variables")
        if rt.kind == "assoc":
            raise self.unsupported(node, "associative arrays")
        if cls == "this":
            table = self.scope.locals
            kind = "local"
        else:
            table = self.scope.globals
            kind = "global"
        if name in BUILTINS or name in self.env.inlines or \
                name in self.env.enum_consts:
            raise self.err(node, "D_DECL_IDRED", f"identifier redeclared: {name}")
        old = table.get(name)
        if old is not None:
            if not T.same(old.type, t):
                raise self.err(node, "D_DECL_IDRED", f"identifier redeclared: {name}")
            return
        self.scope.declare(kind, name, t)

    def inline_item(self, d: ast.InlineDecl) -> None:
        name, t = self.decl.apply(self.decl.specs_type(d.specs), d.declarator)
        assert name is not None
        if name in BUILTINS or name in self.env.inlines or name in self.scope.globals \
                or name in self.env.enum_consts:
            raise self.err(d, "D_DECL_IDRED", f"identifier redeclared: {name}")
        vt = self.expr(d.value)
        if not _assignable(t, vt):
            raise self.err(d, "D_OP_INCOMPAT", f"inline {name} definition uses "
                           f'incompatible types: "{t}" = "{vt}"')
        self.env.inlines[name] = Inline(name, t, d.value)

    def translator_item(self, x: ast.Translator) -> None:
        out = self.decl.typename(x.output)
        src = self.decl.typename(x.input)
        ro = T.resolve(out)
        if ro.sou is None:
            raise self.err(x, "D_XLATE_SOU", "translator output type must be a "
                           f"struct or union: {out}")
        saved = self.scope.globals.get(x.param)
        self.scope.globals[x.param] = Var(x.param, "xlarg", 0, src)
        try:
            for name, e, line in x.members:
                found = T.member_path(ro, name)
                if found is None:
                    raise DError("D_XLATE_MEMB", f"translator member {name} is not "
                                 f"a member of {out}", line)
                vt = self.expr(e)
                if not _assignable(found[0].type, vt):
                    raise DError("D_XLATE_INCOMPAT", f"translator member {name} "
                                 "definition uses incompatible types: "
                                 f'"{found[0].type}" = "{vt}"', line)
        finally:
            if saved is None:
                del self.scope.globals[x.param]
            else:
                self.scope.globals[x.param] = saved
        self.env.translators.append((out, src, x))

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

    def statement(self, stmt: ast.Stmt) -> None:
        if isinstance(stmt, ast.If):
            t = self.expr(stmt.cond)
            if not t.is_scalar:
                raise self.err(stmt.cond, "D_OP_SCALAR",
                               "if-condition must be of scalar type")
            for s in stmt.then + (stmt.other or []):
                self.statement(s)
        elif isinstance(stmt, ast.Call) and stmt.name in ACTIONS:
            getattr(self, "action_" + stmt.name)(stmt)
            stmt.type = T.VOID
        elif isinstance(stmt, ast.Call) and stmt.name in OTHER_ACTIONS:
            raise self.err(stmt, "D_VAR_UNSUP",
                           f"{stmt.name}( ) is not supported yet")
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.target, ast.Agg):
            self.aggregation(stmt)
        else:
            self.expr(stmt)

    def aggregation(self, stmt: ast.Assign) -> None:
        agg = stmt.target
        assert isinstance(agg, ast.Agg)
        if stmt.op != "=" or not (isinstance(stmt.value, ast.Call) and
                                  stmt.value.name in AGG_FUNCS):
            raise self.err(stmt, "D_AGG_FUNC", f"@{agg.name} must be assigned the "
                           "result of an aggregating function")
        for k in agg.keys or []:
            self.expr(k)
        for a in stmt.value.args:
            self.expr(a)
        raise self.unsupported(stmt, "aggregations")

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
        if var is not None:
            e.var = var  # type: ignore[attr-defined]
            return var.type
        inline = self.env.inlines.get(e.name)
        if inline is not None:
            sub = ast.Cast(e.line, ast.TypeName(e.line, ast.DeclSpecs(e.line),
                                                ast.Declarator(e.line, "name")),
                           copy.deepcopy(inline.value))
            self.expr(sub.operand)
            sub.type = inline.type
            e.subst = sub  # type: ignore[attr-defined]
            c = fold(sub) if inline.type.is_int else None
            if c is not None:
                e.const = c  # type: ignore[attr-defined]
            return inline.type
        const = self.env.enum_constant(e.name)
        if const is not None:
            e.const = const[0]  # type: ignore[attr-defined]
            return const[1]
        if e.name == "curthread":
            task = self.env.tag("struct", "task_struct")
            if task is not None:
                var = Var("curthread", "builtin", int(lib.DIF_VAR_CURTHREAD),
                          T.pointer(task))
                e.var = var  # type: ignore[attr-defined]
                return var.type
        if e.name in ACTIONS or e.name in OTHER_ACTIONS:
            raise self.err(e, "D_CG_EXPR", f"{e.name}( ) may not be called from "
                           "a D expression (D program context required)")
        raise self.err(e, "D_IDENT_UNDEF",
                       f"failed to resolve {e.name}: Unknown variable name")

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
        op = e.op
        if op in ("-", "+") and not t.is_arith:
            raise self.err(e, "D_OP_ARITH",
                           f"operator {op} requires an operand of arithmetic type")
        if op == "~" and not t.is_int:
            raise self.err(e, "D_OP_INT",
                           "operator ~ requires an operand of integral type")
        if op == "!":
            if not t.is_scalar:
                raise self.err(e, "D_OP_SCALAR",
                               "operator ! requires an operand of scalar type")
            return T.INT
        if op == "*":
            return self.deref(e, t)
        if op == "&":
            return self.addrof(e, t)
        if op == "stringof":
            if not (t.is_scalar or t.is_string):
                raise self.err(e, "D_STRINGOF_TYPE",
                               f"cannot apply stringof to a value of type {t}")
            return T.STRING
        return t

    def deref(self, e: ast.Expr, t: T.DType) -> T.DType:
        rt = T.resolve(t)
        if rt.kind not in ("ptr", "array"):
            raise self.err(e, "D_DEREF_NONPTR", "cannot dereference non-pointer type")
        assert rt.ref is not None
        ref = T.resolve(rt.ref)
        if ref.kind == "void":
            raise self.err(e, "D_DEREF_VOID", "cannot dereference pointer to void")
        if ref.kind == "func":
            raise self.err(e, "D_DEREF_FUNC", "cannot dereference pointer to function")
        e.lvalue = True  # type: ignore[attr-defined]
        return rt.ref

    def addrof(self, e: ast.Unary, t: T.DType) -> T.DType:
        c = e.operand
        if isinstance(c, ast.Ident | ast.ScopedVar | ast.Agg) and \
                getattr(c, "var", None) is not None:
            raise self.err(e, "D_ADDROF_VAR", "cannot take address of dynamic variable")
        if not getattr(c, "lvalue", False):
            raise self.err(e, "D_ADDROF_LVAL", "unacceptable operand for unary & operator")
        if getattr(c, "bitfield", 0):
            raise self.err(e, "D_ADDROF_BITFIELD", "cannot take address of bit-field")
        return T.pointer(t)

    def e_Member(self, e: ast.Member) -> T.DType:
        t = self.expr(e.operand)
        op = e.op
        rt = T.resolve(t)
        if op == "->":
            if rt.kind != "ptr":
                raise self.err(e, "D_OP_PTR", "operator -> must be applied to a pointer")
            assert rt.ref is not None
            rt = T.resolve(rt.ref)
        if rt.sou is not None and rt.sou.members is None:
            # a forward declaration: look for the definition by tag
            full = self.env.tag(rt.kind, rt.name.split(" ", 1)[1]) \
                if " " in rt.name else None
            if full is None or full.sou is None or full.sou.members is None:
                raise self.err(e, "D_OP_INCOMPLETE", f"operator {op} cannot be applied "
                               f"to a forward declaration: no {rt.name} definition "
                               "is available")
            rt = full
        if rt.sou is None:
            if op == "->":
                raise self.err(e, "D_OP_SOU", "operator -> cannot be applied to pointer "
                               f'to type "{rt}"; must be applied to a struct or union '
                               "pointer")
            raise self.err(e, "D_OP_SOU", f'operator {op} cannot be applied to type "{rt}"'
                           "; must be applied to a struct or union")
        found = T.member_path(rt, e.name)
        if found is None:
            raise self.err(e, "D_TYPE_MEMBER", f"{e.name} is not a member of {rt}")
        m, off = found
        if op == "." and not getattr(e.operand, "lvalue", False):
            raise self.unsupported(e, "struct-valued expressions")
        e.offset = off  # type: ignore[attr-defined]
        e.bitfield = m.bits  # type: ignore[attr-defined]
        e.lvalue = op == "->" or getattr(e.operand, "lvalue", False)  # type: ignore[attr-defined]
        return m.type

    def e_Index(self, e: ast.Index) -> T.DType:
        base = e.operand
        if isinstance(base, ast.Ident) and base.name not in BUILTINS and \
                base.name not in self.scope.globals and base.name != "args":
            for k in e.keys:
                self.expr(k)
            raise self.unsupported(e, "associative arrays")
        if isinstance(base, ast.Ident) and base.name == "args":
            raise self.unsupported(e, "typed probe arguments (args[])")
        if isinstance(base, ast.ScopedVar) and base.scope == "self":
            raise self.unsupported(e, "thread-local variables")
        t = self.expr(base)
        rt = T.resolve(t)
        if rt.kind not in ("ptr", "array"):
            raise self.err(e, "D_OP_INCOMPAT" if rt.kind != "assoc" else "D_VAR_UNSUP",
                           f'operands have incompatible types: "{t}" [ ] "int"')
        if len(e.keys) != 1:
            raise self.err(e, "D_ARR_BADREF",
                           f"cannot access {_node_name(base)} as an associative array")
        kt = self.expr(e.keys[0])
        if not kt.is_int:
            raise self.err(e, "D_OP_INCOMPAT",
                           f'operands have incompatible types: "{t}" + "{kt}"')
        return self.deref(e, t)

    def e_Agg(self, e: ast.Agg) -> T.DType:
        raise self.unsupported(e, "aggregations")

    def e_Macro(self, e: ast.Macro) -> T.DType:
        v = self.macros.lookup(e.name, e.line)
        if isinstance(v, tuple):
            sub: ast.Expr = ast.Ident(e.line, v[0])
        elif isinstance(v, str):
            sub = ast.StrLit(e.line, v)
        else:
            sub = ast.IntLit(e.line, v & ((1 << 64) - 1) if v >= 0 else -v, str(v))
            if v < 0:
                sub = ast.Unary(e.line, "-", sub)
        e.subst = sub  # type: ignore[attr-defined]
        t = self.expr(sub)
        c = fold(sub) if t.is_int else None
        if c is not None:
            e.const = c  # type: ignore[attr-defined]
        return t

    def e_Symbol(self, e: ast.Symbol) -> T.DType:
        what = f"{e.module}`{e.name}" if e.module else f"`{e.name}"
        raise self.err(e, "D_SYM_NOTYPES", "no symbolic type information is "
                       f"available for {what}")

    def e_Sizeof(self, e: ast.Sizeof) -> T.DType:
        if isinstance(e.operand, ast.TypeName):
            t = self.decl.typename(e.operand)
        else:
            t = self.expr(e.operand)
            if getattr(e.operand, "bitfield", 0):
                raise self.err(e, "D_SIZEOF_BITFIELD", "cannot apply sizeof to a bit-field")
        size = self.strsize if T.resolve(t).is_string else T.resolve(t).size
        if size == 0:
            raise self.err(e, "D_SIZEOF_TYPE",
                           "cannot apply sizeof to an operand of unknown size")
        e.const = size  # type: ignore[attr-defined]
        return T.TYPEDEFS["size_t"]

    def e_Offsetof(self, e: ast.Offsetof) -> T.DType:
        t = T.resolve(self.decl.typename(e.typename))
        if t.sou is None:
            raise self.err(e, "D_OFFSETOF_TYPE",
                           "offsetof operand must be a struct or union type")
        found = T.member_path(t, e.member)
        if found is None:
            raise self.err(e, "D_UNKNOWN", f"failed to determine offset of {e.member}: "
                           "Member name not found")
        m, off = found
        if m.bits:
            raise self.err(e, "D_OFFSETOF_BITFIELD",
                           f"cannot take offset of a bit-field: {e.member}")
        e.const = off // 8  # type: ignore[attr-defined]
        return T.TYPEDEFS["size_t"]

    def e_Xlate(self, e: ast.Xlate) -> T.DType:
        out = self.decl.typename(e.typename)
        src = self.expr(e.operand)
        for o, s, _ in self.env.translators:
            if T.same(o, out) and (T.same(s, src) or _assignable(s, src)):
                raise self.unsupported(e, "translators")
        raise self.err(e, "D_XLATE_NONE",
                       f'cannot translate from "{src}" to "{out}"')

    def e_Binary(self, e: ast.Binary) -> T.DType:
        lt = self.expr(e.left)
        rt = self.expr(e.right)
        op = e.op
        if op == ",":
            return rt
        if op in ("+", "-") and (_ptrish(lt) or _ptrish(rt)):
            return self.pointer_arith(e, lt, rt)
        if op in ARITH_OPS or op in INT_OPS:
            if not (lt.is_int and rt.is_int):
                if op in ARITH_OPS:
                    raise self.err(e, "D_OP_ARITH",
                                   f"operator {op} requires operands of arithmetic type")
                raise self.err(e, "D_OP_INT",
                               f"operator {op} requires operands of integral type")
            if op in ("/", "%") and fold(e.right) == 0 and fold(e.left) is not None:
                raise self.err(e, "D_DIV_ZERO", "expression contains division by zero")
            return lt if op in ("<<", ">>") else T.promote(lt, rt)
        if op in CMP_OPS:
            if not (T.same(lt, rt) or (lt.is_int and rt.is_int) or
                    (lt.is_string and rt.is_string) or _ptrcompat(lt, rt)):
                raise self.err(e, "D_OP_INCOMPAT", "operands have incompatible types: "
                               f'"{lt}" {op} "{rt}"')
            return T.INT
        if not (lt.is_scalar and rt.is_scalar):
            raise self.err(e, "D_OP_SCALAR",
                           f"operator {op} requires operands of scalar type")
        return T.INT

    def pointer_arith(self, e: ast.Binary, lt: T.DType, rt: T.DType) -> T.DType:
        op = e.op
        if _ptrish(lt) and rt.is_int:
            return _decay(lt)
        if lt.is_int and _ptrish(rt) and op == "+":
            return _decay(rt)
        if _ptrish(lt) and _ptrish(rt) and op == "-" and _ptrcompat(lt, rt):
            return T.TYPEDEFS["ptrdiff_t"]
        raise self.err(e, "D_OP_INCOMPAT", "operands have incompatible types: "
                       f'"{lt}" {op} "{rt}"')

    def e_Ternary(self, e: ast.Ternary) -> T.DType:
        ct = self.expr(e.cond)
        if not ct.is_scalar:
            raise self.err(e, "D_OP_SCALAR",
                           "operator ?: expression must be of scalar type")
        a = self.expr(e.then)
        b = self.expr(e.other)
        if a.is_int and b.is_int:
            return T.promote(a, b)
        if a.is_string and b.is_string:
            return T.STRING
        if T.same(a, b) or _ptrcompat(a, b):
            return a
        raise self.err(e, "D_OP_INCOMPAT",
                       "operator ?: operands must have compatible types")

    def e_Cast(self, e: ast.Cast) -> T.DType:
        target = self.decl.typename(e.typename)
        src = self.expr(e.operand)
        lt, rt = T.resolve(target), T.resolve(src)
        if T.same(lt, rt) or lt.kind == "void":
            pass
        elif lt.is_scalar and lt.kind != "array" and (rt.is_scalar or rt.kind == "func"):
            pass
        elif lt.is_string and (rt.is_scalar or rt.is_string):
            pass
        else:
            raise self.err(e, "D_CAST_INVAL",
                           f'invalid cast expression: "{src}" to "{target}"')
        if lt.kind == "ptr":
            e.writable = True  # type: ignore[attr-defined]
        return target

    def e_Call(self, e: ast.Call) -> T.DType:
        if e.name in ACTIONS or e.name in OTHER_ACTIONS:
            raise self.err(e, "D_CG_EXPR", f"{e.name}( ) may not be called from a "
                           "D expression (D program context required)")
        if e.name in AGG_FUNCS:
            raise self.err(e, "D_CG_EXPR", f"{e.name}( ) may not be called from a "
                           "D expression (D program context required)")
        if e.name in SUBROUTINES:
            raise self.err(e, "D_VAR_UNSUP", f"{e.name}( ) is not supported yet")
        if e.name in BUILTINS or e.name in self.scope.globals:
            kind = "variable" if e.name in BUILTINS else "scalar"
            raise self.err(e, "D_FUNC_IDKIND", f"{kind} '{e.name}' may not be "
                           "referenced as a function")
        raise self.err(e, "D_FUNC_UNDEF", f"undefined function name: {e.name}")

    def e_Assign(self, e: ast.Assign) -> T.DType:
        target = e.target
        op = e.op
        if isinstance(target, ast.Agg):
            raise self.err(e, "D_AGG_FUNC", f"@{target.name} must be assigned the "
                           "result of an aggregating function")
        if isinstance(target, ast.Ident) and target.name in BUILTINS:
            raise self.err(e, "D_OP_WRITE",
                           f"operator {op} can only be applied to a writable variable")
        if isinstance(target, ast.ScopedVar) and target.scope == "self":
            raise self.unsupported(e, "thread-local variables")
        if isinstance(target, ast.Index):
            self.expr(target)
        if isinstance(target, ast.Ident) and (target.name in self.env.inlines or
                                               target.name in self.env.enum_consts):
            raise self.err(e, "D_OP_WRITE",
                           f"operator {op} can only be applied to a writable variable")
        if not isinstance(target, ast.Ident | ast.ScopedVar):
            t = self.expr(target)
            if getattr(target, "lvalue", False):
                raise self.err(e, "D_OP_WRITE",
                               f"operator {op} can only be applied to a writable variable")
            raise self.err(e, "D_OP_LVAL",
                           f"operator {op} requires modifiable lvalue as an operand")
        if op in ("++", "--"):
            t = self.expr(target)
            if not t.is_scalar or t.kind == "array":
                raise self.err(e, "D_OP_SCALAR",
                               f"operator {op} requires operand of scalar type")
            if t.is_ptr and _vfptr(t):
                raise self.err(e, "D_OP_VFPTR",
                               f"operator {op} requires an operand of known size")
            return t
        assert e.value is not None
        vt = self.expr(e.value)
        if op != "=":
            t = self.expr(target)
            binop = op[:-1]
            if binop in ("+", "-") and (t.is_ptr or vt.is_ptr):
                if not t.is_ptr or _vfptr(t):
                    raise self.err(e, "D_OP_VFPTR", f"operator {op} requires left-hand "
                                   "scalar operand of known size")
                if not vt.is_int:
                    raise self.err(e, "D_OP_INCOMPAT", "operands have incompatible "
                                   f'types: "{t}" {op} "{vt}"')
                return t
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
            rvt = T.resolve(vt)
            if rvt.kind in ("array", "func") and not vt.is_string:
                raise self.err(e, "D_OP_ARRFUN", f'operator {op} may not be applied to '
                               f'operand of type "{vt}"')
            if rvt.sou is not None:
                raise self.unsupported(e, "struct-valued variables")
            kind = "global" if isinstance(target, ast.Ident) else "local"
            name = target.name
            var = self.scope.declare(kind, name, vt)
        elif T.resolve(var.type).kind in ("array", "func"):
            raise self.err(e, "D_OP_ARRFUN", f'operator {op} may not be applied to '
                           f'operand of type "{var.type}"')
        elif not _assignable(var.type, vt):
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


def _ptrish(t: T.DType) -> bool:
    """A pointer or array usable in pointer arithmetic (not void/function)."""
    rt = T.resolve(t)
    return rt.kind in ("ptr", "array") and not _vfptr(rt)


def _decay(t: T.DType) -> T.DType:
    rt = T.resolve(t)
    if rt.kind == "array":
        assert rt.ref is not None
        return T.pointer(rt.ref)
    return t


def _ptrcompat(a: T.DType, b: T.DType) -> bool:
    """dt_node_is_ptrcompat: pointers to the same type, void *, or NULL (0)."""
    ra, rb = T.resolve(a), T.resolve(b)
    pa, pb = ra.kind in ("ptr", "array"), rb.kind in ("ptr", "array")
    if pa and rb.is_int or pb and ra.is_int:
        return True
    if not (pa and pb):
        return False
    return _vfptr(ra) or _vfptr(rb) or (ra.ref is not None and rb.ref is not None and
                                        T.same(ra.ref, rb.ref))


def _vfptr(t: T.DType) -> bool:
    """A pointer to void or to a function (no size to scale by)."""
    rt = T.resolve(t)
    return rt.ref is None or T.resolve(rt.ref).kind in ("void", "func")


def _assignable(lt: T.DType, rt: T.DType) -> bool:
    """dt_node_is_argcompat: may a value of type rt be stored as lt?"""
    a, b = T.resolve(lt), T.resolve(rt)
    if T.same(a, b):
        return True
    if a.is_int and b.is_int:
        return True
    if a.is_string and (b.is_string or (b.kind in ("ptr", "array") and b.ref is not None
                                        and T.resolve(b.ref).name in ("char",
                                                                      "signed char",
                                                                      "unsigned char"))):
        return True
    if a.kind == "ptr" and b.kind in ("ptr", "array"):
        return _vfptr(a) or _vfptr(b) or (a.ref is not None and b.ref is not None and
                                           T.same(a.ref, b.ref))
    if a.kind == "ptr" and b.is_int:
        return False
    return False


def _node_name(e: ast.Expr) -> str:
    if isinstance(e, ast.Ident):
        return e.name
    if isinstance(e, ast.ScopedVar):
        return f"{e.scope}->{e.name}"
    return "expression"



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
