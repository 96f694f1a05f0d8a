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
from pydtrace.errors import TAGS, DError, ErrorList, library_error
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.sema import destr, stacks
from pydtrace.sema import types as T
from pydtrace.sema import xlate as X
from pydtrace.sema.aggs import AGG_KINDS, AggVar
from pydtrace.sema.decl import Declarer, Inline, TypeEnv
from pydtrace.sema.fold import fold
from pydtrace.sema.macros import Macros
from pydtrace.sema.probeargs import ArgType, clause_args
from pydtrace.sema.spec import SPEC_ACTIONS, check_clause_order
from pydtrace.sema.subrs import CONST_CHARP, PROTOS, SOLARIS_ONLY


@dataclass
class Var:
    """A D variable: scope, id and type."""

    name: str
    scope: str  # "builtin", "global", "local", "thread"
    id: int
    type: T.DType  # associative arrays: the element type
    keys: list[T.DType] | None = None  # associative arrays: the key types


def _builtin(name: str, ident: str, t: T.DType) -> Var:
    return Var(name, "builtin", int(getattr(lib, "DIF_VAR_" + ident)), t)


BUILTINS: dict[str, Var] = {
    v.name: v
    for v in (
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
        _builtin("errno", "ERRNO", T.INT),
        *(_builtin(f"arg{i}", f"ARG{i}", T.TYPEDEFS["int64_t"]) for i in range(10)),
        # stacks (sema/stacks.py, kmod/stack.c)
        _builtin("caller", "CALLER", T.TYPEDEFS["uintptr_t"]),
        _builtin("stackdepth", "STACKDEPTH", T.TYPEDEFS["uint32_t"]),
        _builtin("ucaller", "UCALLER", T.TYPEDEFS["uint64_t"]),
        _builtin("ustackdepth", "USTACKDEPTH", T.TYPEDEFS["uint32_t"]),
    )
}

ACTIONS = (
    "trace",
    "printf",
    "exit",
    "printa",
    "clear",
    "denormalize",
    "normalize",
    "trunc",
    "setopt",
    "tracemem",
)
# Everything else DTrace knows by name: accepted by the grammar, rejected by
# the checker until code generation and the kernel support them.
OTHER_ACTIONS = (
    "jstack",
    "raise",
    "stop",
    "system",
    "breakpoint",
    "panic",
    "chill",
    "speculate",
    "commit",
    "discard",
    "ftruncate",
    "freopen",
    "print",
    "pcap",
)
# Aggregating functions: D prototypes (None = "@", any type) and, for the
# ones that take optional parameters, the varargs index (dt_open.c).
AGG_PROTOS: dict[str, tuple[list[T.DType | None], int]] = {
    "count": ([], -1),
    "sum": ([None], -1),
    "avg": ([None], -1),
    "min": ([None], -1),
    "max": ([None], -1),
    "stddev": ([None], -1),
    "quantize": ([None], 1),
    "lquantize": ([None, T.TYPEDEFS["int32_t"], T.TYPEDEFS["int32_t"]], 3),
    "llquantize": ([None] + [T.TYPEDEFS["int32_t"]] * 4, 5),
}
AGG_FUNCS = ("count", "sum", "avg", "min", "max", "stddev", "quantize", "lquantize", "llquantize")
SUBROUTINES = (
    "alloca",
    "basename",
    "bcopy",
    "cleanpath",
    "copyin",
    "copyinstr",
    "copyinto",
    "dirname",
    "getmajor",
    "getminor",
    "htonl",
    "htonll",
    "htons",
    "index",
    "inet_ntoa",
    "inet_ntoa6",
    "inet_ntop",
    "lltostr",
    "mutex_owned",
    "mutex_owner",
    "mutex_type_adaptive",
    "mutex_type_spin",
    "ntohl",
    "ntohll",
    "ntohs",
    "progenyof",
    "rand",
    "rindex",
    "rw_iswriter",
    "rw_read_held",
    "rw_write_held",
    "speculation",
    "strchr",
    "strjoin",
    "strlen",
    "strrchr",
    "strstr",
    "strtok",
    "substr",
    "tolower",
    "toupper",
    "getf",
    "strtoll",
    "func",
    "mod",
    "sym",
    "ufunc",
    "umod",
    "uaddr",
    "usym",
    "d_path",
    "link_ntop",
    "json",
    "ddi_pathname",
    "msgsize",
    "msgdsize",
    "lltostr",
)
# Names D itself defines: never looked up as kernel typedef names.
D_NAMES = (
    frozenset(BUILTINS)
    | frozenset(ACTIONS + OTHER_ACTIONS + AGG_FUNCS + SUBROUTINES)
    | frozenset(PROTOS)
    | frozenset(SOLARIS_ONLY)
    | {"curthread", "args", "self", "this"}
)
UBASE = int(lib.DIF_VAR_OTHER_UBASE)
ARITH_OPS = ("+", "-", "*", "/")
INT_OPS = ("%", "&", "|", "^", "<<", ">>")
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
LOGIC_OPS = ("&&", "||", "^^")


class Scope:
    """Variables of one consumer (globals, thread-locals, aggregations) and of
    one program (clause-locals)."""

    def __init__(
        self,
        globals_: dict[str, Var] | None = None,
        tlocals: dict[str, Var] | None = None,
        aggs: dict[str, AggVar] | None = None,
    ) -> None:
        self.globals: dict[str, Var] = globals_ if globals_ is not None else {}
        self.tlocals: dict[str, Var] = tlocals if tlocals is not None else {}
        self.aggs: dict[str, AggVar] = aggs if aggs is not None else {}
        self.locals: dict[str, Var] = {}
        # clause-local ids continue from the consumer's earlier programs, so
        # that the kernel, which keeps one slot per id and consumer, never
        # sees one id with two types
        self.local_base = 0

    def table(self, kind: str) -> dict[str, Var]:
        return {"global": self.globals, "local": self.locals, "thread": self.tlocals}[kind]

    def declare(self, kind: str, name: str, t: T.DType, keys: list[T.DType] | None = None) -> Var:
        table = self.table(kind)
        base = self.local_base if kind == "local" else 0
        var = Var(name, kind, UBASE + base + len(table), t, keys)
        table[name] = var
        return var


def _tag(tag: str, fallback: str) -> str:
    """tag when pydtrace.errors knows it, else fallback (tags libdtrace added
    after the errors registry was written)."""
    return tag if tag in TAGS else fallback


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Checker:
    def __init__(
        self, scope: Scope, env: TypeEnv | None = None, macros: Macros | None = None
    ) -> None:
        self.scope = scope
        self.env = env if env is not None else TypeEnv()
        self.macros = macros if macros is not None else Macros(defaultargs=True)
        self.decl = Declarer(self.env, self.const_expr)
        self.region: str | None = None
        self.pdesc = ""
        # declaring a D library item (sema.library): translator members are
        # checked on first use
        self.library_item = False
        self.arg_descs: list[tuple[str, str, str, str]] | None = None
        self.arg_types: list[ArgType] | None = None  # args[] of the clause's probes

    @property
    def strsize(self) -> int:
        return self.decl.strsize

    @strsize.setter
    def strsize(self, n: int) -> None:
        self.decl.strsize = n

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
            raise self.err(d, "D_DECL_CLASS", "only one storage class allowed in a declaration")
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
        if cls == "extern" and rt.kind != "func":
            old = self.env.extern(name)  # the library's, if it declares name
            if old is not None and not T.same(old, t):
                raise self.err(node, "D_DECL_IDRED", f"identifier redeclared: {name}")
            self.env.externs[name] = t  # a kernel symbol's type: `name loads it
            return
        if rt.kind == "func":
            return  # prototypes: types only
        if rt.kind == "void":
            raise self.err(node, "D_DECL_VOIDOBJ", f"cannot declare void object : {name}")
        if rt.sou is not None and rt.sou.members is None:
            raise self.err(node, "D_DECL_INCOMPLETE", f"incomplete struct/union/enum {t}: {name}")
        keys: list[T.DType] | None = None
        if rt.kind == "assoc":
            if cls == "this":
                raise self.err(
                    node,
                    "D_DECL_LOCASSC",
                    f"associative arrays may not be declared as local variables: {name}",
                )
            assert rt.ref is not None
            keys = list(rt.params or [])
            if len(keys) > lib.DIF_DTR_NREGS:
                raise library_error("EDT_NOTUPREG")
            t = rt.ref
            if T.resolve(t).sou is not None and T.resolve(t).sou.members is None:  # type: ignore[union-attr]
                raise self.err(
                    node, "D_DECL_INCOMPLETE", f"incomplete struct/union/enum {t}: {name}"
                )
        kind = {"this": "local", "self": "thread"}.get(cls or "", "global")
        table = self.scope.table(kind)
        if name in BUILTINS or self.env.inline(name) is not None or name in self.env.enum_consts:
            raise self.err(node, "D_DECL_IDRED", f"identifier redeclared: {name}")
        old = table.get(name)
        if old is not None:
            if (
                not T.same(old.type, t)
                or (old.keys is None) != (keys is None)
                or (
                    keys is not None
                    and old.keys is not None
                    and (
                        len(keys) != len(old.keys)
                        or not all(T.same(a, b) for a, b in zip(keys, old.keys, strict=True))
                    )
                )
            ):
                raise self.err(node, "D_DECL_IDRED", f"identifier redeclared: {name}")
            return
        self.scope.declare(kind, name, t, keys)

    def inline_item(self, d: ast.InlineDecl) -> None:
        name, t = self.decl.apply(self.decl.specs_type(d.specs), d.declarator)
        assert name is not None
        if (
            name in BUILTINS
            or self.env.inline(name) is not None
            or name in self.scope.globals
            or name in self.env.enum_consts
        ):
            raise self.err(d, "D_DECL_IDRED", f"identifier redeclared: {name}")
        vt = self.expr(d.value)
        if X.is_dyn(vt):
            X.check_inline_value(self, d, name, t, vt)
        elif not _assignable(t, vt):
            raise self.err(
                d,
                "D_OP_INCOMPAT",
                f'inline {name} definition uses incompatible types: "{t}" = "{vt}"',
            )
        self.env.inlines[name] = Inline(name, t, d.value)

    def translator_item(self, x: ast.Translator) -> None:
        X.define(self, x, lazy=self.library_item)

    def translated_arg(self, index: int, native: str, xlate: str, line: int = 0) -> ast.Expr:
        """args[index] described as (native type, translated type): the
        checked xlate<xlate>((native)arg<index>) (see sema.xlate)."""
        return X.translated_arg(self, index, native, xlate, line)

    def err(self, node: ast.Node, tag: str, msg: str) -> DError:
        return DError(tag, msg, node.line, self.region)

    # -- clauses --------------------------------------------------------------

    def check_clause(self, clause: ast.Clause) -> None:
        # libdtrace cooks the action list before the predicate
        self.region = "action list"
        d = clause.descs[0] if clause.descs else None
        # dtrace_desc2str of the clause's (first) probe description
        self.pdesc = f"{d.provider}:{d.module}:{d.function}:{d.name}" if d else ""
        # args[] types: looked up (BTF for fbt and sdt) when args[] is used
        self.arg_descs = [(x.provider, x.module, x.function, x.name) for x in clause.descs]
        self.arg_types = None
        # each statement, then the predicate, checked even after an error:
        # the first error raised carries the others (errors.ErrorList)
        errors = ErrorList()
        for stmt in clause.stmts:
            errors.run(self.statement, stmt)
        errors.run(check_clause_order, clause.stmts, self.err)
        if clause.predicate is not None:
            self.region = "predicate"
            errors.run(self.predicate, clause.predicate)
        self.region = None
        errors.raise_first()

    def predicate(self, pred: ast.Expr) -> None:
        t = self.expr(pred)
        if not t.is_scalar:
            raise self.err(pred, "D_PRED_SCALAR", "predicate result must be of scalar type")

    def statement(self, stmt: ast.Stmt) -> None:
        if isinstance(stmt, ast.If):
            t = self.expr(stmt.cond)
            if not t.is_scalar:
                raise self.err(stmt.cond, "D_OP_SCALAR", "if-condition must be of scalar type")
            for s in stmt.then + (stmt.other or []):
                self.statement(s)
        elif isinstance(stmt, ast.Call) and stmt.name in ACTIONS:
            getattr(self, "action_" + stmt.name)(stmt)
            stmt.type = T.VOID
        elif isinstance(stmt, ast.Call) and stmt.name in stacks.NAMES:
            stacks.check(stmt, self.expr, self.err)
            stmt.type = T.VOID
        elif isinstance(stmt, ast.Call) and stmt.name in SPEC_ACTIONS:
            self.action_spec(stmt)
            stmt.type = T.VOID
        elif isinstance(stmt, ast.Call) and (
            stmt.name in destr.NAMES or stmt.name in destr.REFUSED
        ):
            destr.check(self, stmt)
            stmt.type = T.VOID
        elif isinstance(stmt, ast.Call) and stmt.name in OTHER_ACTIONS:
            raise self.err(stmt, "D_VAR_UNSUP", f"{stmt.name}( ) is not supported yet")
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.target, ast.Agg):
            self.aggregation(stmt)
        else:
            self.expr(stmt)

    def aggregation(self, stmt: ast.Assign) -> None:
        """@name[keys] = func(args): checks of dt_cook_op2/dt_compile_agg.

        Annotates stmt with .agg (the AggVar) and .incr (the increment
        expression of quantize/lquantize/llquantize, or None)."""
        agg = stmt.target
        assert isinstance(agg, ast.Agg)
        call = stmt.value
        if stmt.op != "=" or not (isinstance(call, ast.Call) and call.name in AGG_FUNCS):
            raise self.err(
                stmt,
                "D_AGG_FUNC",
                f"@{agg.name} must be assigned the result of an aggregating function",
            )
        for a in call.args:
            self.expr(a)
        params, varargs = AGG_PROTOS[call.name]
        self.check_sign(call, f"{call.name}( )", params, call.args, varargs=varargs)
        old = self.scope.aggs.get(agg.name)
        if old is not None and old.func != call.name:
            raise self.err(
                stmt,
                "D_AGG_REDEF",
                f"aggregation redefined: @{agg.name}\n\t "
                f"current: @{agg.name} = {call.name}( )\n\tprevious: "
                f"@{agg.name} = {old.func}( ) : line {old.line}",
            )
        keys = agg.keys or []
        keytypes = [self.key_expr(k) for k in keys]
        for i, (k, kt) in enumerate(zip(keys, keytypes, strict=True)):
            if kt.kind == "void":
                raise self.err(
                    k,
                    "D_KEY_TYPE",
                    f"{kt} expression may not be used as aggregation index: key #{i + 1}",
                )
            _check_key_type(self, k, kt)
        if old is not None:
            self.check_sign(agg, f"@{agg.name}[ ]", list(old.keys), keys, iskey=True)
        if len(keys) + 2 > lib.DIF_DTR_NREGS + 2:
            raise library_error("EDT_NOTUPREG")
        if call.args and not T.resolve(call.args[0].type).is_scalar:
            raise self.err(
                call, "D_AGG_SCALAR", f"{call.name}( ) argument #1 must be of scalar type"
            )
        arg = 0
        incr: ast.Expr | None = None
        argmax = 0
        if call.name == "lquantize":
            arg, incr = self._lquantize(stmt, call, old)
            argmax = 5
        elif call.name == "llquantize":
            arg, incr = self._llquantize(stmt, call, old)
            argmax = 6
        elif call.name == "quantize":
            incr = call.args[1] if len(call.args) > 1 else None
            argmax = 2
        if incr is not None:
            if not T.resolve(incr.type).is_scalar:
                raise self.err(
                    stmt,
                    "D_PROTO_ARG",
                    f"{call.name}( ) increment value (argument #{argmax}) must be of scalar type",
                )
            if len(call.args) > argmax:
                raise self.err(
                    incr,
                    "D_PROTO_LEN",
                    f"{call.name}( ) prototype mismatch: "
                    f"{len(call.args)} args passed, at most {argmax} expected",
                )
        if old is None:
            old = AggVar(
                len(self.scope.aggs) + 1,
                agg.name,
                call.name,
                AGG_KINDS[call.name],
                keytypes,
                arg,
                stmt.line,
            )
            self.scope.aggs[agg.name] = old
        stmt.agg = old  # type: ignore[attr-defined]
        stmt.incr = incr  # type: ignore[attr-defined]
        stmt.type = T.VOID

    def key_expr(self, k: ast.Expr) -> T.DType:
        """An aggregation key: an expression, or a stack/symbol action."""
        if isinstance(k, ast.Call) and stacks.is_stack_call(k):
            k.type = stacks.check(k, self.expr, self.err)
            return k.type
        return self.expr(k)

    def _lquantize(
        self, stmt: ast.Assign, call: ast.Call, old: AggVar | None
    ) -> tuple[int, ast.Expr | None]:
        a = call.args
        base = fold(a[1]) if a[1].type.is_int else None
        if base is None:
            raise self.err(
                a[1], "D_LQUANT_BASETYPE", "lquantize( ) argument #1 must be an integer constant"
            )
        if not -(1 << 31) <= base < (1 << 31):
            raise self.err(
                a[1], "D_LQUANT_BASEVAL", "lquantize( ) argument #1 must be a 32-bit quantity"
            )
        limit = fold(a[2]) if a[2].type.is_int else None
        if limit is None:
            raise self.err(
                a[2], "D_LQUANT_LIMTYPE", "lquantize( ) argument #2 must be an integer constant"
            )
        if not -(1 << 31) <= limit < (1 << 31):
            raise self.err(
                a[2], "D_LQUANT_LIMVAL", "lquantize( ) argument #2 must be a 32-bit quantity"
            )
        if limit < base:
            raise self.err(
                stmt,
                "D_LQUANT_MISMATCH",
                "lquantize( ) base (argument #1) must be less than limit (argument #2)",
            )
        step = 1
        if len(a) > 3:
            v = fold(a[3]) if a[3].type.is_int else None
            if v is None or v <= 0 or (a[3].type.signed is False and v == 0):
                raise self.err(
                    a[3],
                    "D_LQUANT_STEPTYPE",
                    "lquantize( ) argument #3 must be a non-zero positive integer constant",
                )
            if v > 0xFFFF:
                raise self.err(
                    a[3], "D_LQUANT_STEPVAL", "lquantize( ) argument #3 must be a 16-bit quantity"
                )
            step = v
        levels = (limit - base) // step
        if levels == 0:
            raise self.err(
                stmt,
                "D_LQUANT_STEPLARGE",
                "lquantize( ) step (argument #3) "
                "too large: must have at least one quantization level",
            )
        if levels > 0xFFFF:
            raise self.err(
                stmt,
                "D_LQUANT_STEPSMALL",
                "lquantize( ) step (argument #3) "
                "too small: number of quantization levels must be a 16-bit "
                "quantity",
            )
        arg = (step << 48) | (levels << 32) | (base & 0xFFFFFFFF)
        if old is not None and old.arg != arg:
            obase = old.arg & 0xFFFFFFFF
            obase -= (1 << 32) if obase >> 31 else 0
            olevels = (old.arg >> 32) & 0xFFFF
            ostep = old.arg >> 48
            if obase != base:
                raise self.err(
                    stmt,
                    "D_LQUANT_MATCHBASE",
                    "lquantize( ) base (argument "
                    "#1) doesn't match previous declaration: expected "
                    f"{obase}, found {base}",
                )
            if olevels * ostep != levels * step:
                raise self.err(
                    stmt,
                    "D_LQUANT_MATCHLIM",
                    "lquantize( ) limit (argument "
                    "#2) doesn't match previous declaration: expected "
                    f"{obase + olevels * ostep}, found {base + levels * step}",
                )
            raise self.err(
                stmt,
                "D_LQUANT_MATCHSTEP",
                "lquantize( ) step (argument #3) "
                "doesn't match previous declaration: expected "
                f"{ostep}, found {step}",
            )
        return arg, (a[4] if len(a) > 4 else None)

    _LLQ = (
        ("factor", "FACTOR", 48),
        ("low magnitude", "LOW", 32),
        ("high magnitude", "HIGH", 16),
        ("linear steps per magnitude", "NSTEP", 0),
    )

    def _llquantize(
        self, stmt: ast.Assign, call: ast.Call, old: AggVar | None
    ) -> tuple[int, ast.Expr | None]:
        a = call.args
        vals: list[int] = []
        arg = 0
        for i, (what, tag, shift) in enumerate(self._LLQ):
            e = a[i + 1]
            v = fold(e) if e.type.is_int else None
            if v is None:
                raise self.err(
                    e,
                    f"D_LLQUANT_{tag}TYPE",
                    f"llquantize( ) argument #{i + 1} ({what}) must be an integer constant",
                )
            if not 0 <= v <= 0xFFFF:
                raise self.err(
                    e,
                    f"D_LLQUANT_{tag}VAL",
                    f"llquantize( ) argument #{i + 1} ({what}) must be an unsigned 16-bit quantity",
                )
            vals.append(v)
            arg |= v << shift
        factor, low, high, nsteps = vals
        if factor < 2:
            raise self.err(
                stmt,
                "D_LLQUANT_FACTORSMALL",
                "llquantize( ) factor (argument #1) must be two or more",
            )
        if low >= high:
            raise self.err(
                stmt,
                "D_LLQUANT_MAGRANGE",
                "llquantize( ) high magnitude "
                "(argument #3) must be greater than low magnitude (argument #2)",
            )
        if nsteps < factor:
            raise self.err(
                stmt,
                "D_LLQUANT_FACTORNSTEPS",
                "llquantize( ) factor "
                "(argument #1) must be less than or equal to the number of "
                "linear steps per magnitude (argument #4)",
            )
        v = factor
        while v < nsteps:
            v *= factor
        if nsteps % factor or v % nsteps:
            raise self.err(
                stmt,
                "D_LLQUANT_FACTOREVEN",
                "llquantize( ) factor "
                "(argument #1) must evenly divide the number of steps per "
                "magnitude (argument #4), and the number of steps per "
                "magnitude must evenly divide a power of the factor",
            )
        order = 1
        for _ in range(high + 2):
            order *= factor
            if order >= 1 << 64:
                break
        if order >= 1 << 64:
            raise self.err(
                stmt,
                "D_LLQUANT_MAGTOOBIG",
                f"llquantize( ) factor ({factor}) "
                f"raised to power of high magnitude ({high}) plus 1 "
                "overflows 64-bits",
            )
        if old is not None and old.arg != arg:
            for i, (what, tag, shift) in enumerate(self._LLQ):
                expected = (old.arg >> shift) & 0xFFFF
                if expected != vals[i]:
                    raise self.err(
                        stmt,
                        f"D_LLQUANT_{tag}MATCH",
                        f"llquantize( ) {what} "
                        f"(argument #{i + 1}) doesn't match previous "
                        f"declaration: expected {expected}, found {vals[i]}",
                    )
        return arg, (a[5] if len(a) > 5 else None)

    def check_sign(
        self,
        node: ast.Node,
        label: str,
        params: list[T.DType | None],
        args: list[ast.Expr],
        *,
        iskey: bool = False,
        optargs: int = -1,
        varargs: int = -1,
    ) -> None:
        """dt_idcook_sign: the argument (or key) list against a prototype.

        params: None entries match any type ("@"); optargs: the number of
        required arguments when the last ones are optional; varargs: the
        index of "..." (only the ones before it are checked)."""
        argc = len(args)
        if varargs >= 0:
            mismatch, limit = argc < varargs, varargs
        elif optargs >= 0:
            mismatch, limit = argc < optargs or argc > len(params), argc
        else:
            mismatch, limit = argc != len(params), len(params)
        if mismatch:
            what = "key" if iskey else "arg"
            expected = f"at least {optargs}" if optargs >= 0 else str(limit)
            raise self.err(
                node,
                "D_PROTO_LEN",
                f"{label} prototype mismatch: {argc} "
                f"{what}{' ' if argc == 1 else 's '}passed, {expected} expected",
            )
        for i in range(limit):
            p = params[i]
            if p is not None and not _argcompat(p, args[i]):
                what = "key" if iskey else "argument"
                raise self.err(
                    node,
                    "D_PROTO_ARG",
                    f"{label} {what} #{i + 1} is "
                    f"incompatible with prototype:\n\tprototype: {p}\n"
                    f"\t{what:>9}: {args[i].type}",
                )

    def _agg_arg(self, call: ast.Call, i: int, tag: str) -> AggVar:
        """Argument i of clear/trunc/normalize/denormalize/printa: an
        aggregation that has been assigned."""
        a = call.args[i]
        if not isinstance(a, ast.Agg):
            t = self.expr(a)
            raise self.err(
                call,
                f"D_{tag}_AGGARG",
                f"{call.name}( ) argument #{i + 1} is "
                "incompatible with prototype:\n\tprototype: aggregation\n"
                f"\t argument: {t}",
            )
        var = self.scope.aggs.get(a.name)
        if var is None:
            raise self.err(call, f"D_{tag}_AGGBAD", f"undefined aggregation: @{a.name}")
        a.agg = var  # type: ignore[attr-defined]
        a.type = T.VOID
        return var

    def action_clear(self, call: ast.Call) -> None:
        if len(call.args) != 1:
            raise self.err(
                call,
                "D_CLEAR_PROTO",
                f"clear( ) prototype mismatch: {len(call.args)} args passed, 1 expected",
            )
        self._agg_arg(call, 0, "CLEAR")

    def action_normalize(self, call: ast.Call) -> None:
        denormal = call.name == "denormalize"
        want = 1 if denormal else 2
        if len(call.args) != want:
            raise self.err(
                call,
                "D_NORMALIZE_PROTO",
                f"{call.name}( ) prototype mismatch: {len(call.args)} args passed, {want} expected",
            )
        if not isinstance(call.args[0], ast.Agg):
            self._agg_arg(call, 0, "NORMALIZE")
        if not denormal and not T.resolve(self.expr(call.args[1])).is_scalar:
            raise self.err(
                call, "D_NORMALIZE_SCALAR", f"{call.name}( ) argument #2 must be of scalar type"
            )
        self._agg_arg(call, 0, "NORMALIZE")

    action_denormalize = action_normalize

    def action_trunc(self, call: ast.Call) -> None:
        n = len(call.args)
        if not 1 <= n <= 2:
            raise self.err(
                call,
                "D_TRUNC_PROTO",
                f"trunc( ) prototype mismatch: {n} args "
                f"passed, {'at least 1' if n < 1 else 'no more than 2'} expected",
            )
        if not isinstance(call.args[0], ast.Agg):
            self._agg_arg(call, 0, "TRUNC")
        if n == 2 and not T.resolve(self.expr(call.args[1])).is_scalar:
            raise self.err(call, "D_TRUNC_SCALAR", "trunc( ) argument #2 must be of scalar type")
        self._agg_arg(call, 0, "TRUNC")

    def action_setopt(self, call: ast.Call) -> None:
        for a in call.args:
            self.expr(a)
        self.check_sign(call, "setopt( )", [CONST_CHARP, CONST_CHARP], call.args, optargs=1)

    def action_printa(self, call: ast.Call) -> None:
        args = call.args
        if not args:
            raise self.err(
                call, "D_PROTO_LEN", "printa( ) prototype mismatch: 0 args passed, 1 expected"
            )
        fmtnode = args[0] if isinstance(args[0], ast.StrLit) else None
        argr = 2 if fmtnode is not None else 1
        if len(args) < argr:
            raise self.err(
                call,
                "D_PRINTA_PROTO",
                f"printa( ) prototype mismatch: {len(args)} args passed, {argr} expected",
            )
        first: AggVar | None = None
        for i in range(argr - 1, len(args)):
            var = self._agg_arg(call, i, "PRINTA")
            if first is None:
                first = var
                continue
            if len(first.keys) != len(var.keys):
                n1, n2 = len(first.keys), len(var.keys)
                raise self.err(
                    call,
                    "D_PRINTA_AGGKEY",
                    f"printa( ): @{first.name} and "
                    f"@{var.name} do not have matching key signatures: "
                    f"@{first.name} has {n1} key{'' if n1 == 1 else 's'}, "
                    f"@{var.name} has {n2} key{'' if n2 == 1 else 's'}",
                )
            for k, (lt, rt) in enumerate(zip(first.keys, var.keys, strict=True)):
                if not _typecompat(lt, rt):
                    raise self.err(
                        call,
                        "D_PRINTA_AGGPROTO",
                        f"printa( ): @{var.name}[ ] "
                        f"key #{k + 1} is incompatible with @{first.name}:\n"
                        f"{first.name:>9} key #{k + 1}: {lt}\n"
                        f"{var.name:>9} key #{k + 1}: {rt}",
                    )
        if fmtnode is not None:
            fmtnode.type = T.STRING
            assert first is not None
            try:
                form = fmt.parse(fmtnode.value)
            except DError as e:
                raise self.err(call, e.tag, e.message) from None
            call.format = self.validate_format(  # type: ignore[attr-defined]
                call, form, list(first.keys), aggregation=True
            )

    def _proto_len(self, call: ast.Call, expected: int) -> None:
        if len(call.args) != expected:
            raise self.err(
                call,
                "D_PROTO_LEN",
                f"{call.name}( ) prototype mismatch: "
                f"{_plural(len(call.args), 'arg')} passed, {expected} expected",
            )

    def action_trace(self, call: ast.Call) -> None:
        self._proto_len(call, 1)
        if isinstance(call.args[0], ast.Agg):
            raise self.err(call, "D_TRACE_AGG", "trace( ) may not be applied to an aggregation")
        t = self.expr(call.args[0])
        if t.kind == "void":
            raise self.err(call, "D_TRACE_VOID", "trace( ) may not be applied to a void expression")
        if X.is_dyn(t) and t.name.startswith("pointer"):
            raise self.err(
                call, "D_TRACE_DYN", "trace( ) may not be applied to a translated pointer"
            )
        if X.is_dyn(t):
            X.expand(self, call.args[0])

    def action_tracemem(self, call: ast.Call) -> None:
        """dt_action_tracemem, after dt_idcook_func's check of the prototype
        void(@, size_t, ...): an integer or pointer address, a non-zero
        positive integral constant size (the record size, call.size) and an
        optional scalar dynamic size (how many of those bytes to print)."""
        for a in call.args:
            self.expr(a)
        self.check_sign(call, "tracemem( )", [None, T.TYPEDEFS["size_t"]], call.args, varargs=2)
        addr, size = call.args[0], call.args[1]
        at = T.resolve(addr.type)
        if not (at.is_int or at.kind in ("ptr", "array")):
            raise self.err(
                addr,
                "D_TRACEMEM_ADDR",
                "tracemem( ) argument #1 is incompatible with prototype:\n"
                f"\tprototype: pointer or integer\n\t argument: {addr.type}",
            )
        value = fold(size) if T.resolve(size.type).is_int else None
        if value is None or value == 0 or (T.resolve(size.type).signed and value < 0):
            raise self.err(
                size,
                "D_TRACEMEM_SIZE",
                "tracemem( ) argument #2 must be a non-zero positive integral constant expression",
            )
        call.size = value & ((1 << 64) - 1)  # type: ignore[attr-defined]
        if len(call.args) > 2:
            dsize = call.args[2]
            if len(call.args) > 3:
                raise self.err(
                    call.args[3],
                    _tag("D_TRACEMEM_ARGS", "D_PROTO_LEN"),
                    "tracemem ( ) prototype mismatch: expected at most 3 args",
                )
            if not T.resolve(dsize.type).is_scalar:
                raise self.err(
                    dsize,
                    _tag("D_TRACEMEM_DYNSIZE", "D_PROTO_ARG"),
                    "tracemem ( ) dynamic size (argument #3) must be of scalar type",
                )

    def action_spec(self, call: ast.Call) -> None:
        """speculate(), commit(), discard(): void(int)."""
        self._proto_len(call, 1)
        t = self.expr(call.args[0])
        if not t.is_int:
            raise self.err(
                call,
                "D_PROTO_ARG",
                f"{call.name}( ) argument #1 is incompatible with prototype:\n"
                f"\tprototype: int\n\t argument: {t}",
            )

    def action_exit(self, call: ast.Call) -> None:
        self._proto_len(call, 1)
        t = self.expr(call.args[0])
        if not t.is_int:
            raise self.err(
                call,
                "D_PROTO_ARG",
                "exit( ) argument #1 is incompatible with prototype:\n"
                f"\tprototype: int\n\t argument: {t}",
            )

    def action_printf(self, call: ast.Call) -> None:
        if not call.args:
            raise self.err(
                call,
                "D_PROTO_LEN",
                f"{call.name}( ) prototype mismatch: 0 args passed, at least 1 expected",
            )
        first = call.args[0]
        if not isinstance(first, ast.StrLit):
            self.expr(first)
            raise self.err(
                call,
                "D_PRINTF_ARG_FMT",
                f"{call.name}( ) argument #1 is incompatible with prototype:\n"
                f"\tprototype: string constant\n\t argument: {first.type}",
            )
        first.type = T.STRING
        if first.value == "":
            raise self.err(call, "D_PRINTF_FMT_EMPTY", f"{call.name}( ) format string is empty")
        try:
            form = fmt.parse(first.value)
        except DError as e:
            raise self.err(call, e.tag, e.message) from None
        argtypes = [self.expr(a) for a in call.args[1:]]
        call.format = self.validate_format(call, form, argtypes)  # type: ignore[attr-defined]

    def validate_format(
        self,
        call: ast.Call,
        form: fmt.Format,
        argtypes: list[T.DType],
        *,
        aggregation: bool = False,
    ) -> fmt.Format:
        """dt_printf_validate for printf() (argtypes: the arguments) and
        printa() (aggregation: argtypes are the keys, %@ the value)."""
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
                    raise self.err(
                        call,
                        "D_PRINTF_DYN_PROTO",
                        f"{func}( ) prototype mismatch: conversion #{i + 1} "
                        f'(%{name}) is missing a corresponding "{dyn}" argument',
                    )
                if not argtypes[j].is_int:
                    raise self.err(
                        call,
                        "D_PRINTF_DYN_TYPE",
                        f"{func}( ) argument #{j + foff + 1} is incompatible "
                        f"with conversion #{i + 1} prototype:\n"
                        f"\tconversion: % {dyn} {name}\n"
                        f"\t prototype: int\n\t  argument: {argtypes[j]}",
                    )
                j += 1
            if "@" in piece.flags and aggregation:
                signs.append(False)
                continue
            if "@" in piece.flags:
                raise self.err(
                    call,
                    "D_PRINTF_AGG_CONV",
                    f"%@ conversion requires an aggregation and is not for use with {func}( )",
                )
            if j >= len(argtypes):
                raise self.err(
                    call,
                    "D_PRINTF_ARG_PROTO",
                    f"{func}( ) prototype mismatch: conversion #{i + 1} "
                    f"(%{name}) is missing a corresponding value argument",
                )
            at = argtypes[j]
            j += 1
            info = fmt.info(piece)
            if not _conv_ok(info, at):
                raise self.err(
                    call,
                    "D_PRINTF_ARG_TYPE",
                    f"{func}( ) argument #{j + foff} is incompatible with "
                    f"conversion #{i + 1} prototype:\n\tconversion: %{name}\n"
                    f"\t prototype: {info.proto}\n\t  argument: {at}",
                )
            signs.append(at.is_int and at.signed)
        if j < len(argtypes) and not aggregation:
            raise self.err(
                call,
                "D_PRINTF_ARG_EXTRA",
                f"{func}( ) prototype mismatch: only {j} arguments required by this format string",
            )
        return fmt.with_signs(form, signs)

    # -- expressions ------------------------------------------------------------

    def expr(self, e: ast.Expr) -> T.DType:
        t = getattr(self, "e_" + type(e).__name__)(e)
        e.type = t
        return t

    def e_IntLit(self, e: ast.IntLit) -> T.DType:
        t = T.int_constant_type(e.value, getattr(e, "decimal", True), getattr(e, "suffix", ""))
        if t is None:
            raise self.err(
                e,
                "D_INT_OFLOW",
                f"integer constant 0x{e.value:x} cannot "
                "be represented in any built-in integral type",
            )
        return t

    def e_StrLit(self, e: ast.StrLit) -> T.DType:
        return T.STRING

    def e_Ident(self, e: ast.Ident) -> T.DType:
        var = BUILTINS.get(e.name) or self.scope.globals.get(e.name)
        if var is not None:
            if var.keys is not None:
                raise self.err(
                    e,
                    "D_ARR_BADREF",
                    f"{e.name} is an associative array and may only be referenced with [ ]",
                )
            e.var = var  # type: ignore[attr-defined]
            return var.type
        inline = self.env.inline(e.name)
        if inline is not None:
            sub = ast.Cast(
                e.line,
                ast.TypeName(e.line, ast.DeclSpecs(e.line), ast.Declarator(e.line, "name")),
                copy.deepcopy(inline.value),
            )
            vt = self.expr(sub.operand)
            if X.is_dyn(vt):
                # a translation kept in an inline: the members use it
                e.subst = sub.operand  # type: ignore[attr-defined]
                return vt
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
                var = Var("curthread", "builtin", int(lib.DIF_VAR_CURTHREAD), T.pointer(task))
                e.var = var  # type: ignore[attr-defined]
                return var.type
        if e.name == "NULL":
            # the D library's inline long NULL = 0
            e.const = 0  # type: ignore[attr-defined]
            return T.LONG
        if e.name in ACTIONS or e.name in OTHER_ACTIONS:
            raise self.err(
                e,
                "D_CG_EXPR",
                f"{e.name}( ) may not be called from a D expression (D program context required)",
            )
        raise self.err(e, "D_IDENT_UNDEF", f"failed to resolve {e.name}: Unknown variable name")

    def e_ScopedVar(self, e: ast.ScopedVar) -> T.DType:
        table = self.scope.tlocals if e.scope == "self" else self.scope.locals
        var = table.get(e.name)
        if var is None:
            raise self.err(
                e, "D_VAR_UNDEF", f"{e.scope}->{e.name} has not yet been declared or assigned"
            )
        if var.keys is not None:
            raise self.err(
                e,
                "D_ARR_BADREF",
                f"{e.scope}->{e.name} is an associative array and may only be referenced with [ ]",
            )
        e.var = var  # type: ignore[attr-defined]
        return var.type

    def e_Unary(self, e: ast.Unary) -> T.DType:
        t = self.expr(e.operand)
        op = e.op
        if op in ("-", "+") and not t.is_arith:
            raise self.err(e, "D_OP_ARITH", f"operator {op} requires an operand of arithmetic type")
        if op == "~" and not t.is_int:
            raise self.err(e, "D_OP_INT", "operator ~ requires an operand of integral type")
        if op == "!":
            if not t.is_scalar:
                raise self.err(e, "D_OP_SCALAR", "operator ! requires an operand of scalar type")
            return T.INT
        if op == "*":
            xl = X.xlate_node(e.operand) if X.is_dyn(t) else None
            if xl is not None and T.resolve(xl.xlout).kind == "ptr":  # type: ignore[attr-defined]
                return X.deref(e, xl)
            return self.deref(e, t)
        if op == "&":
            return self.addrof(e, t)
        if op == "stringof":
            if not (t.is_scalar or t.is_string):
                raise self.err(
                    e, "D_STRINGOF_TYPE", f"cannot apply stringof to a value of type {t}"
                )
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
        if (
            isinstance(c, ast.Ident | ast.ScopedVar | ast.Agg)
            and getattr(c, "var", None) is not None
        ) or _assoc_elem(c) is not None:
            raise self.err(e, "D_ADDROF_VAR", "cannot take address of dynamic variable")
        if not getattr(c, "lvalue", False):
            raise self.err(e, "D_ADDROF_LVAL", "unacceptable operand for unary & operator")
        if getattr(c, "bitfield", 0):
            raise self.err(e, "D_ADDROF_BITFIELD", "cannot take address of bit-field")
        return T.pointer(t)

    def e_Member(self, e: ast.Member) -> T.DType:
        t = self.expr(e.operand)
        op = e.op
        if X.is_dyn(t):
            xl = X.xlate_node(e.operand)
            if xl is not None:
                return X.check_member(self, e, xl)
        rt = T.resolve(t)
        if op == "->":
            if rt.kind != "ptr":
                raise self.err(e, "D_OP_PTR", "operator -> must be applied to a pointer")
            assert rt.ref is not None
            rt = T.resolve(rt.ref)
        if rt.sou is not None and rt.sou.members is None:
            # a forward declaration: look for the definition by tag
            full = self.env.tag(rt.kind, rt.name.split(" ", 1)[1]) if " " in rt.name else None
            if full is None or full.sou is None or full.sou.members is None:
                raise self.err(
                    e,
                    "D_OP_INCOMPLETE",
                    f"operator {op} cannot be applied "
                    f"to a forward declaration: no {rt.name} definition "
                    "is available",
                )
            rt = full
        if rt.sou is None:
            if op == "->":
                raise self.err(
                    e,
                    "D_OP_SOU",
                    "operator -> cannot be applied to pointer "
                    f'to type "{rt}"; must be applied to a struct or union '
                    "pointer",
                )
            raise self.err(
                e,
                "D_OP_SOU",
                f'operator {op} cannot be applied to type "{rt}"'
                "; must be applied to a struct or union",
            )
        found = T.member_path(rt, e.name)
        if found is None:
            raise self.err(e, "D_TYPE_MEMBER", f"{e.name} is not a member of {rt}")
        m, off = found
        # a D struct or union variable (global, clause-local or
        # thread-local) is by reference: its members are in its storage
        svar = op == "." and (
            _dvar_object(e.operand) is not None or _assoc_elem(e.operand) is not None
        )
        if op == "." and not svar and not getattr(e.operand, "lvalue", False):
            raise self.unsupported(e, "struct-valued expressions")
        e.offset = off  # type: ignore[attr-defined]
        e.bitfield = m.bits  # type: ignore[attr-defined]
        e.lvalue = (  # type: ignore[attr-defined]
            op == "->" or svar or getattr(e.operand, "lvalue", False)
        )
        return m.type

    def assoc_of(self, e: ast.Index) -> tuple[str, str, str] | None:
        """(kind, name, prefix) when e indexes an associative array (global
        a[k] or thread-local self->a[k]), else None."""
        base = e.operand
        if isinstance(base, ast.Ident):
            name = base.name
            if (
                name in BUILTINS
                or name == "args"
                or self.env.inline(name) is not None
                or self.env.enum_constant(name) is not None
            ):
                return None
            var = self.scope.globals.get(name)
            if var is None or var.keys is not None:
                return "global", name, ""
            return None
        if isinstance(base, ast.ScopedVar) and base.scope == "self":
            var = self.scope.tlocals.get(base.name)
            if var is None or var.keys is not None:
                return "thread", base.name, "self->"
        return None

    def assoc_ref(
        self, e: ast.Index, kind: str, name: str, prefix: str, declare: T.DType | None = None
    ) -> Var:
        """Check the keys of an associative array reference; declare the
        array with element type `declare` when it does not exist yet."""
        keytypes = [self.expr(k) for k in e.keys]
        var = self.scope.table(kind).get(name)
        if var is None or var.keys is None:
            for i, (k, kt) in enumerate(zip(e.keys, keytypes, strict=True)):
                if kt.kind == "void":
                    raise self.err(
                        k,
                        "D_KEY_TYPE",
                        f"{kt} expression may not be used as associative array index: key #{i + 1}",
                    )
                _check_key_type(self, k, kt)
            if declare is None:
                raise self.err(
                    e, "D_VAR_UNDEF", f"{prefix}{name} has not yet been declared or assigned"
                )
            if len(e.keys) > lib.DIF_DTR_NREGS:
                raise library_error("EDT_NOTUPREG")
            var = self.scope.declare(kind, name, declare, keytypes)
        else:
            self.check_sign(e, f"{prefix}{name}[ ]", list(var.keys), e.keys, iskey=True)
        e.var = var  # type: ignore[attr-defined]
        e.type = var.type
        e.operand.type = var.type
        return var

    def args_ref(self, e: ast.Index) -> T.DType:
        """args[N]: N an integer constant; untyped (int64_t) until providers
        describe their arguments."""
        n = len(e.keys)
        if n != 1:
            raise self.err(
                e,
                "D_PROTO_LEN",
                f"args[ ] prototype mismatch: {n} arg{' ' if n == 1 else 's '}passed, 1 expected",
            )
        kt = self.expr(e.keys[0])
        v = fold(e.keys[0]) if kt.is_int else None
        if v is None:
            raise self.err(
                e,
                "D_PROTO_ARG",
                "args[ ] argument #1 is incompatible with "
                f"prototype:\n\tprototype: integer constant\n\t argument: {kt}",
            )
        if v < 0 or v > 255:
            raise self.err(
                e, "D_ARGS_IDX", f"index {v} is out of range for probe {self.pdesc} args[ ]"
            )
        e.arg_index = v  # type: ignore[attr-defined]
        if self.arg_descs is not None:
            self.arg_types = clause_args(self.arg_descs)
            self.arg_descs = None
        if self.arg_types is None:
            return T.TYPEDEFS["int64_t"]
        if v >= len(self.arg_types):
            raise self.err(
                e, "D_ARGS_IDX", f"index {v} is out of range for probe {self.pdesc} args[ ]"
            )
        arg = self.arg_types[v]
        sub = self.translated(v, arg, e.line)
        if sub is not None:
            e.subst = sub  # type: ignore[attr-defined]
            assert sub.type is not None
            return sub.type
        return arg.dtype if arg.dtype is not None else self.native_type(arg.native)

    def translated(self, index: int, arg: ArgType, line: int) -> ast.Expr | None:
        """args[index] as its provider translates it (dtrace's argument
        mapping): xlate<T>((native)argN) through the D library's translator,
        stringof() for a string, None when there is no translation (or no
        translator for it: the native type stands)."""
        if arg.xlate is None:
            return None
        if arg.xlate == "string":
            prog = parse(f"BEGIN {{ stringof(({arg.native})arg{index}); }}", self.env.is_typename)
            sub = prog.items[0].stmts[0]  # type: ignore[union-attr]
            sub.line = line
            self.expr(sub)
            return sub  # type: ignore[no-any-return]
        try:
            return self.translated_arg(index, arg.native, arg.xlate, line)
        except DError as err:
            if err.tag.startswith("D_XLATE") or err.tag in ("D_TYPE_ERR", "D_DECL_TYPERED"):
                return None
            raise

    def native_type(self, native: str) -> T.DType:
        """The D type of a probe argument's C type name (int64_t if D cannot
        name it)."""
        try:
            prog = parse(f"BEGIN {{ sizeof({native}); }}", self.env.is_typename)
            tn = prog.items[0].stmts[0].operand  # type: ignore[union-attr]
            return self.decl.typename(tn)
        except (DError, AttributeError, IndexError):
            return T.TYPEDEFS["int64_t"]

    def e_Index(self, e: ast.Index) -> T.DType:
        base = e.operand
        if isinstance(base, ast.Ident) and base.name == "args":
            return self.args_ref(e)
        assoc = self.assoc_of(e)
        if assoc is not None:
            return self.assoc_ref(e, *assoc).type
        t = self.expr(base)
        rt = T.resolve(t)
        if rt.kind not in ("ptr", "array"):
            raise self.err(e, "D_OP_INCOMPAT", f'operands have incompatible types: "{t}" [ ] "int"')
        if len(e.keys) != 1:
            raise self.err(
                e, "D_ARR_BADREF", f"cannot access {_node_name(base)} as an associative array"
            )
        kt = self.expr(e.keys[0])
        if not kt.is_int:
            raise self.err(e, "D_OP_INCOMPAT", f'operands have incompatible types: "{t}" + "{kt}"')
        if rt.kind == "array" and rt.count and (
            _dvar_object(base) is not None or _in_assoc_elem(base)
        ):
            # an element of a D array variable (or of an array in an
            # associative array's element): a constant index
            # must be inside the declared bounds (Oracle's D_ARR_BOUNDS);
            # codegen checks other indexes at run time (an invalid address)
            c = fold(e.keys[0])
            if c is None:
                e.bound = rt.count  # type: ignore[attr-defined]
            elif not 0 <= c < rt.count:
                raise self.err(
                    e, "D_ARR_BOUNDS", f"index outside array bounds: {c}, max is {rt.count}"
                )
        return self.deref(e, t)

    def e_Agg(self, e: ast.Agg) -> T.DType:
        raise self.err(
            e,
            "D_AGG_FUNC",
            f"@{e.name} may only be used as the target of "
            "an aggregating function or as an argument of an aggregation "
            "action",
        )

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
        """A kernel symbol: the object of its `extern` type at its kallsyms
        address, i.e. *(type *)address (an lvalue, not writable).  A vmlinux
        per-CPU variable (its type from BTF's .data..percpu when not
        declared) is this CPU's instance: *(type *)(address +
        `__per_cpu_offset[cpu])."""
        from pydtrace.sema import ksyms

        what = f"{e.module}`{e.name}" if e.module else f"`{e.name}"
        try:
            addr, module = ksyms.lookup(e.name, e.module, what, ksyms.KALLSYMS)
        except DError as err:
            raise self.err(e, err.tag, err.message) from None
        t = self.env.extern(e.name)
        if t is None and module == "vmlinux":
            percpu_var = getattr(self.env.kernel, "percpu_var", None)
            t = percpu_var(e.name) if percpu_var is not None else None
        if t is None:
            raise self.err(
                e, "D_SYM_NOTYPES", f"no symbolic type information is available for {what}"
            )
        offsets = ksyms.percpu_offsets(addr, module, ksyms.KALLSYMS)
        if addr == 0 and offsets is None:
            err = ksyms.hidden(what, ksyms.KALLSYMS)
            raise self.err(e, err.tag, err.message)
        alias = f"__pydtrace_symbol_{e.name}_t"
        self.env.typedefs[alias] = T.pointer(t)
        where = f"{addr:#x}ULL"
        if offsets is not None:
            # this CPU's area: probes fire with preemption off, so cpu is stable
            where += f" + *(unsigned long *)({offsets:#x}ULL + (unsigned long)cpu * 8)"
        prog = parse(f"BEGIN {{ *(({alias})({where})); }}", self.env.is_typename)
        sub = prog.items[0].stmts[0]  # type: ignore[union-attr]
        for n in ast.walk(sub):
            n.line = e.line
        e.subst = sub  # type: ignore[attr-defined]
        t = self.expr(sub)
        e.lvalue = True  # type: ignore[attr-defined]
        return t

    def e_Sizeof(self, e: ast.Sizeof) -> T.DType:
        if isinstance(e.operand, ast.TypeName):
            t = self.decl.typename(e.operand)
        else:
            t = self.expr(e.operand)
            if getattr(e.operand, "bitfield", 0):
                raise self.err(e, "D_SIZEOF_BITFIELD", "cannot apply sizeof to a bit-field")
        size = self.strsize if T.resolve(t).is_string else T.resolve(t).size
        if size == 0:
            raise self.err(e, "D_SIZEOF_TYPE", "cannot apply sizeof to an operand of unknown size")
        e.const = size  # type: ignore[attr-defined]
        return T.TYPEDEFS["size_t"]

    def e_Offsetof(self, e: ast.Offsetof) -> T.DType:
        t = T.resolve(self.decl.typename(e.typename))
        if t.sou is None:
            raise self.err(e, "D_OFFSETOF_TYPE", "offsetof operand must be a struct or union type")
        found = T.member_path(t, e.member)
        if found is None:
            raise self.err(
                e, "D_UNKNOWN", f"failed to determine offset of {e.member}: Member name not found"
            )
        m, off = found
        if m.bits:
            raise self.err(
                e, "D_OFFSETOF_BITFIELD", f"cannot take offset of a bit-field: {e.member}"
            )
        e.const = off // 8  # type: ignore[attr-defined]
        return T.TYPEDEFS["size_t"]

    def e_Xlate(self, e: ast.Xlate) -> T.DType:
        return X.check_xlate(self, e)

    def e_Binary(self, e: ast.Binary) -> T.DType:
        lt = self.expr(e.left)
        rt = self.expr(e.right)
        op = e.op
        if op == ",":
            if X.is_dyn(lt) or X.is_dyn(rt):
                raise self.err(e, "D_OP_DYN", "operator , operands cannot be of dynamic type")
            return rt
        if op in ("+", "-") and (_ptrish(lt) or _ptrish(rt)):
            return self.pointer_arith(e, lt, rt)
        if op in ARITH_OPS or op in INT_OPS:
            if not (lt.is_int and rt.is_int):
                if op in ARITH_OPS:
                    raise self.err(
                        e, "D_OP_ARITH", f"operator {op} requires operands of arithmetic type"
                    )
                raise self.err(e, "D_OP_INT", f"operator {op} requires operands of integral type")
            if op in ("/", "%") and fold(e.right) == 0 and fold(e.left) is not None:
                raise self.err(e, "D_DIV_ZERO", "expression contains division by zero")
            return lt if op in ("<<", ">>") else T.promote(lt, rt)
        if op in CMP_OPS:
            # a string compares with NULL (`json(s, k) != NULL`): the DIF
            # string compare reads a NULL string as ""
            null_str = (lt.is_string and fold(e.right) == 0) or (rt.is_string and fold(e.left) == 0)
            if not (
                T.same(lt, rt)
                or (lt.is_int and rt.is_int)
                or null_str
                or (lt.is_string and rt.is_string)
                or _ptrcompat(lt, rt)
            ):
                raise self.err(
                    e, "D_OP_INCOMPAT", f'operands have incompatible types: "{lt}" {op} "{rt}"'
                )
            return T.INT
        if not (lt.is_scalar and rt.is_scalar):
            raise self.err(e, "D_OP_SCALAR", f"operator {op} requires operands of scalar type")
        return T.INT

    def pointer_arith(self, e: ast.Binary, lt: T.DType, rt: T.DType) -> T.DType:
        op = e.op
        if _ptrish(lt) and rt.is_int:
            return _decay(lt)
        if lt.is_int and _ptrish(rt) and op == "+":
            return _decay(rt)
        if _ptrish(lt) and _ptrish(rt) and op == "-" and _ptrcompat(lt, rt):
            return T.TYPEDEFS["ptrdiff_t"]
        raise self.err(e, "D_OP_INCOMPAT", f'operands have incompatible types: "{lt}" {op} "{rt}"')

    def e_Ternary(self, e: ast.Ternary) -> T.DType:
        ct = self.expr(e.cond)
        if not ct.is_scalar:
            raise self.err(e, "D_OP_SCALAR", "operator ?: expression must be of scalar type")
        a = self.expr(e.then)
        b = self.expr(e.other)
        if X.is_dyn(a) or X.is_dyn(b):
            raise self.err(e, "D_OP_DYN", "operator ?: operands cannot be of dynamic type")
        if a.is_int and b.is_int:
            return T.promote(a, b)
        if a.is_string and b.is_string:
            return T.STRING
        if T.same(a, b) or _ptrcompat(a, b):
            return a
        raise self.err(e, "D_OP_INCOMPAT", "operator ?: operands must have compatible types")

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
            raise self.err(e, "D_CAST_INVAL", f'invalid cast expression: "{src}" to "{target}"')
        if lt.kind == "ptr":
            e.writable = True  # type: ignore[attr-defined]
        return target

    def e_Call(self, e: ast.Call) -> T.DType:
        if e.name in ACTIONS or e.name in OTHER_ACTIONS or e.name in stacks.NAMES:
            raise self.err(
                e,
                "D_CG_EXPR",
                f"{e.name}( ) may not be called from a D expression (D program context required)",
            )
        if e.name in AGG_FUNCS:
            raise self.err(
                e,
                "D_CG_EXPR",
                f"{e.name}( ) may not be called from a D expression (D program context required)",
            )
        proto = PROTOS.get(e.name)
        if proto is not None:
            for a in e.args:
                self.expr(a)
            optargs = len(proto.params) - proto.optional if proto.optional else -1
            self.check_sign(e, f"{e.name}( )", list(proto.params), e.args, optargs=optargs)
            e.subr = proto  # type: ignore[attr-defined]
            return proto.ret
        if e.name in SOLARIS_ONLY:
            raise self.err(e, "D_VAR_UNSUP", f"{e.name}( ) has no meaning on Linux")
        if e.name in SUBROUTINES:
            raise self.err(e, "D_VAR_UNSUP", f"{e.name}( ) is not supported yet")
        if e.name in BUILTINS or e.name in self.scope.globals:
            kind = "variable" if e.name in BUILTINS else "scalar"
            raise self.err(
                e, "D_FUNC_IDKIND", f"{kind} '{e.name}' may not be referenced as a function"
            )
        raise self.err(e, "D_FUNC_UNDEF", f"undefined function name: {e.name}")

    def e_Assign(self, e: ast.Assign) -> T.DType:
        target = e.target
        op = e.op
        if isinstance(target, ast.Agg):
            raise self.err(
                e,
                "D_AGG_FUNC",
                f"@{target.name} must be assigned the result of an aggregating function",
            )
        if isinstance(target, ast.Ident) and target.name in BUILTINS:
            raise self.err(
                e, "D_OP_WRITE", f"operator {op} can only be applied to a writable variable"
            )
        assoc = self.assoc_of(target) if isinstance(target, ast.Index) else None
        if isinstance(target, ast.Index) and assoc is None:
            self.expr(target)
        if isinstance(target, ast.Ident) and (
            self.env.inline(target.name) is not None or target.name in self.env.enum_consts
        ):
            raise self.err(
                e, "D_OP_WRITE", f"operator {op} can only be applied to a writable variable"
            )
        if assoc is not None and op != "=":
            assert isinstance(target, ast.Index)
            self.assoc_ref(target, *assoc)
        if not isinstance(target, ast.Ident | ast.ScopedVar) and assoc is None:
            t = self.expr(target)
            if getattr(target, "lvalue", False):
                return self._memory_assign(e, t)
            raise self.err(
                e, "D_OP_LVAL", f"operator {op} requires modifiable lvalue as an operand"
            )
        if op != "=" and assoc is None and self._lookup_target(target) is None:
            # as dt_cook_op1/op2: ++, -- and op= instantiate a new int64_t
            # scalar (they cook their operand with DT_IDFLG_MOD)
            self._declare_implicit(target, T.TYPEDEFS["int64_t"])
        if op in ("++", "--"):
            t = target.type if assoc is not None else self.expr(target)
            if not t.is_scalar or t.kind == "array":
                raise self.err(e, "D_OP_SCALAR", f"operator {op} requires operand of scalar type")
            if t.is_ptr and _vfptr(t):
                raise self.err(e, "D_OP_VFPTR", f"operator {op} requires an operand of known size")
            return t
        assert e.value is not None
        vt = self._rvalue(e.value) if op == "=" else self.expr(e.value)
        if op != "=":
            t = target.type if assoc is not None else self.expr(target)
            binop = op[:-1]
            if binop in ("+", "-") and (t.is_ptr or vt.is_ptr):
                if not t.is_ptr or _vfptr(t):
                    raise self.err(
                        e,
                        "D_OP_VFPTR",
                        f"operator {op} requires left-hand scalar operand of known size",
                    )
                if not vt.is_int:
                    raise self.err(
                        e, "D_OP_INCOMPAT", f'operands have incompatible types: "{t}" {op} "{vt}"'
                    )
                return t
            if not (t.is_int and vt.is_int):
                tag, what = (
                    ("D_OP_ARITH", "arithmetic") if binop in ARITH_OPS else ("D_OP_INT", "integral")
                )
                raise self.err(e, tag, f"operator {op} requires operands of {what} type")
            return t
        if vt.kind == "void":
            raise self.err(
                e, "D_OP_VFPTR", "operator = requires operands of compatible types: void value"
            )
        if assoc is not None:
            assert isinstance(target, ast.Index)
            known = self.scope.table(assoc[0]).get(assoc[1])
            if known is None or known.keys is None:
                self._check_new_var_type(e, vt)
            var = self.assoc_ref(target, *assoc, declare=vt)
            if known is None or known.keys is None:
                target.type = var.type
                return var.type
        else:
            var = self._lookup_target(target)
        if var is None:
            self._check_new_var_type(e, vt)
            var = self._declare_implicit(target, vt)
        elif T.resolve(var.type).kind in ("array", "func"):
            raise self.err(
                e,
                "D_OP_ARRFUN",
                f'operator {op} may not be applied to operand of type "{var.type}"',
            )
        elif not _assignable(var.type, vt) and not (
            var.type.is_string and vt.is_int and fold(e.value) == 0
        ):
            # a string takes NULL: assigning 0 deletes a dynamic variable
            raise self.err(
                e, "D_OP_INCOMPAT", f'operands have incompatible types: "{var.type}" = "{vt}"'
            )
        target.var = var  # type: ignore[attr-defined]
        target.type = var.type
        return var.type

    def _memory_assign(self, e: ast.Assign, t: T.DType) -> T.DType:
        """A store through a pointer (`*p = v`, `p[i] = v`, `p->m = v`) or
        into an element of a D scalar array variable (`a[i] = v`, global,
        clause-local or thread-local), as D allows: the DIF store is checked at run time
        (only scratch, e.g. alloca()'d memory, the storage of the
        consumer's by-reference static variables and the data of its
        dynamic variables are writable; anything
        else is an invalid address).  Integer and pointer objects only."""
        target, op = e.target, e.op
        rt = T.resolve(t)
        if isinstance(target, ast.Index | ast.Member):
            var = _dvar_object(target)
            if var is not None and not (
                var.scope in ("global", "local", "thread")
                and (T.resolve(var.type).kind == "array" or T.resolve(var.type).sou is not None)
                and not var.type.is_string
            ):
                # a string: not memory
                raise self.err(
                    e, "D_OP_WRITE", f"operator {op} can only be applied to a writable variable"
                )
            if var is not None and op in ("++", "--") and not (rt.is_int or rt.kind == "ptr"):
                raise self.err(e, "D_OP_SCALAR", f"operator {op} requires operand of scalar type")
            if var is not None and not rt.is_string and rt.kind == "array":
                raise self.err(
                    e, "D_OP_ARRFUN", f'operator {op} may not be applied to operand of type "{t}"'
                )
            if (var is not None or _in_assoc_elem(target)) and (
                rt.is_string or rt.sou is not None
            ):
                return self._copy_assign(e, t)
        base = target
        while isinstance(base, ast.Index | ast.Member) and not (
            isinstance(base, ast.Member) and base.op == "->"
        ):
            base = base.operand
        if isinstance(base, ast.Symbol):  # a kernel variable: read-only, as in D
            raise self.err(
                e, "D_OP_WRITE", f"operator {op} can only be applied to a writable variable"
            )
        if (
            getattr(target, "bitfield", 0)
            or rt.is_string
            or not (rt.is_int or rt.kind == "ptr")
            or rt.size not in (1, 2, 4, 8)
        ):
            raise self.err(
                e, "D_OP_WRITE", f"operator {op} can only be applied to a writable variable"
            )
        if op in ("++", "--"):
            if rt.kind == "ptr" and _vfptr(rt):
                raise self.err(e, "D_OP_VFPTR", f"operator {op} requires an operand of known size")
        else:
            assert e.value is not None
            vt = self.expr(e.value)
            if op == "=":
                if not _assignable(t, vt):
                    raise self.err(
                        e, "D_OP_INCOMPAT", f'operands have incompatible types: "{t}" = "{vt}"'
                    )
            elif op[:-1] in ("+", "-") and rt.kind == "ptr":
                if _vfptr(rt) or not vt.is_int:
                    raise self.err(
                        e,
                        "D_OP_VFPTR",
                        f"operator {op} requires left-hand scalar operand of known size",
                    )
            elif not (rt.is_int and vt.is_int):
                tag, what = (
                    ("D_OP_ARITH", "arithmetic")
                    if op[:-1] in ARITH_OPS
                    else ("D_OP_INT", "integral")
                )
                raise self.err(e, tag, f"operator {op} requires operands of {what} type")
        self._faultin(target)
        e.memory = True  # type: ignore[attr-defined]
        return t

    def _copy_assign(self, e: ast.Assign, t: T.DType) -> T.DType:
        """A string or struct stored into an element or member of a D
        variable (`s[1] = "x"`, `p[1] = *q`, `self->st.in = v.in`): copied
        into the variable's storage, as DTrace does (dt_cg_store's copys).
        Only `=`: D has no arithmetic on strings or structs."""
        op = e.op
        if op != "=":
            tag, what = (
                ("D_OP_ARITH", "arithmetic") if op[:-1] in ARITH_OPS else ("D_OP_INT", "integral")
            )
            raise self.err(e, tag, f"operator {op} requires operands of {what} type")
        assert e.value is not None
        vt = self._rvalue(e.value)
        if not _assignable(t, vt):
            raise self.err(e, "D_OP_INCOMPAT", f'operands have incompatible types: "{t}" = "{vt}"')
        self._faultin(e.target)
        e.memory = True  # type: ignore[attr-defined]
        e.copy = True  # type: ignore[attr-defined]
        return t

    def _rvalue(self, value: ast.Expr) -> T.DType:
        """The type of the right side of `=`: a translated struct
        (`xlate<T>(x)`, `*xlate<T *>(x)`, `*curpsinfo`) is assigned as its
        translator's output type T, as dt_cook_op2 types it (codegen
        builds the snapshot of every member in scratch, which the store
        then copies into the variable, dt_cg_asgn_op)."""
        vt = self.expr(value)
        if X.is_dyn(vt):
            out = X.expand(self, value)
            if out is not None:
                return out
        return vt

    def _faultin(self, target: ast.Expr) -> None:
        root = _dvar_root(target)
        if root is not None and getattr(root, "var", None) is not None and \
                root.var.scope == "thread":  # type: ignore[attr-defined]
            # the store needs the variable's storage: codegen creates it
            # (zeroed) when the thread has none yet, as DTrace does for
            # by-reference associative array elements
            root.faultin = True  # type: ignore[attr-defined]

    def _declare_implicit(self, target: ast.Expr, vt: T.DType) -> Var:
        kind = (
            "global"
            if isinstance(target, ast.Ident)
            else "thread"
            if getattr(target, "scope", "") == "self"
            else "local"
        )
        return self.scope.declare(kind, target.name, vt)  # type: ignore[attr-defined]

    def _check_new_var_type(self, e: ast.Assign, vt: T.DType) -> None:
        """The type of the value that implicitly declares a variable."""
        rvt = T.resolve(vt)
        if rvt.kind in ("array", "func") and not vt.is_string:
            raise self.err(
                e, "D_OP_ARRFUN", f'operator {e.op} may not be applied to operand of type "{vt}"'
            )
        if rvt.sou is not None and (rvt.sou.members is None or not rvt.size):
            raise self.err(e, "D_DECL_INCOMPLETE", f"incomplete struct/union/enum {vt}")

    def _lookup_target(self, target: ast.Expr) -> Var | None:
        if isinstance(target, ast.Ident):
            var = self.scope.globals.get(target.name)
        else:
            assert isinstance(target, ast.ScopedVar)
            table = self.scope.tlocals if target.scope == "self" else self.scope.locals
            var = table.get(target.name)
        if var is not None and var.keys is not None:
            raise self.err(
                target,
                "D_ARR_BADREF",
                f"{_node_name(target)} is an associative array and may only be referenced with [ ]",
            )
        return var


def _assoc_elem(e: ast.Expr) -> Var | None:
    """The associative array when e is one of its elements (`a[k]`,
    `self->a[k]`): by-reference elements (structs, unions) are memory in
    their dynamic variable, faulted in (zeroed) when first used."""
    if isinstance(e, ast.Index):
        var: Var | None = getattr(e, "var", None)
        if var is not None and var.keys is not None:
            return var
    return None


def _in_assoc_elem(e: ast.Expr) -> bool:
    """e is an element of an associative array or inside one (a member,
    an element of an array member), not reached through a pointer."""
    while isinstance(e, ast.Index | ast.Member) and not (
        isinstance(e, ast.Member) and e.op == "->"
    ):
        if _assoc_elem(e) is not None:
            return True
        e = e.operand
    return False


def _dvar_root(e: ast.Expr) -> ast.Expr | None:
    """The variable node whose storage holds e (`self->a` in
    `self->a[i].m`), as _dvar_object finds it; None otherwise."""
    if _dvar_object(e) is None:
        return None
    while isinstance(e, ast.Index | ast.Member):
        e = e.operand
    return e


def _dvar_object(e: ast.Expr) -> Var | None:
    """The D variable whose storage holds the object e when e is such a
    variable or an element or member of one (`a`, `a[i]`, `a[i].m`,
    `this->a[i][j]`); None when e is reached through a pointer (or is no
    variable at all)."""
    while isinstance(e, ast.Index | ast.Member) and not (
        isinstance(e, ast.Member) and e.op == "->"
    ):
        if isinstance(e, ast.Index) and getattr(e, "var", None) is not None:
            return None  # an associative array element: not static storage
        e = e.operand
    if not isinstance(e, ast.Ident | ast.ScopedVar):
        return None
    var: Var | None = getattr(e, "var", None)
    if var is None or var.keys is not None or T.resolve(var.type).kind == "ptr":
        return None
    return var


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
    return (
        _vfptr(ra)
        or _vfptr(rb)
        or (ra.ref is not None and rb.ref is not None and T.same(ra.ref, rb.ref))
    )


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
    if a.is_string and (
        b.is_string
        or (
            b.kind in ("ptr", "array")
            and b.ref is not None
            and T.resolve(b.ref).name in ("char", "signed char", "unsigned char")
        )
    ):
        return True
    if a.kind == "ptr" and b.kind in ("ptr", "array"):
        return (
            _vfptr(a)
            or _vfptr(b)
            or (a.ref is not None and b.ref is not None and T.same(a.ref, b.ref))
        )
    if a.kind == "ptr" and b.is_int:
        return False
    return False


def _check_key_type(checker: Checker, k: ast.Expr, t: T.DType) -> None:
    """Keys are values or by-reference objects of known size."""
    rt = T.resolve(t)
    if rt.kind == "func" or (rt.kind in ("array", "struct", "union") and not rt.size):
        raise checker.unsupported(k, f"keys of type {t}")


def _strcompat(t: T.DType) -> bool:
    """dt_node_is_strcompat: a string, or a char pointer or array."""
    if t.is_string:
        return True
    return (
        t.kind in ("ptr", "array")
        and t.ref is not None
        and T.resolve(t.ref).name in ("char", "signed char", "unsigned char")
    )


def _typecompat(lt: T.DType, rt: T.DType) -> bool:
    """dt_node_is_argcompat on two types (no constant-zero rule)."""
    a, b = T.resolve(lt), T.resolve(rt)
    if a.is_int and b.is_int or _strcompat(a) and _strcompat(b):
        return True
    if a.sou is not None or b.sou is not None or a.kind == "func":
        return T.same(a, b)
    if a.kind in ("ptr", "array") and b.kind in ("ptr", "array"):
        return (
            _vfptr(a)
            or _vfptr(b)
            or (a.ref is not None and b.ref is not None and T.same(a.ref, b.ref))
        )
    return T.same(a, b)


def _argcompat(p: T.DType, arg: ast.Expr) -> bool:
    """dt_node_is_argcompat: may arg be passed for a parameter of type p?
    A pointer parameter also takes the integer constant 0 (NULL)."""
    if (T.resolve(p).kind == "ptr" or p.is_string) and arg.type.is_int and fold(arg) == 0:
        return True
    return _typecompat(p, arg.type)


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
    if info.check == "stack":
        return T.resolve(t) is stacks.STACK
    if info.check == "type":
        return t.is_int and t.size == info.size and t.signed != info.unsigned
    if info.check == "xsize":
        return t.is_int and t.size == info.size
    if info.check == "fp":  # pfcheck_fp: float, double or long double
        return T.resolve(t).kind == "float"
    if info.check == "ldouble":  # pfcheck_type against long double
        r = T.resolve(t)
        return r.kind == "float" and r.size == T.LONGDOUBLE.size
    return False
