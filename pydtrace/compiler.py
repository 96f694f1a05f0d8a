"""The D compiler: the pass list, in order.

parse (lang) -> pragmas -> check (sema) -> codegen + assemble (dif) ->
serialize (program).  One Compiler per consumer, like libdtrace's handle:
it owns the options, the printf formats of every program it compiled and the
global variables (whose ids must agree across programs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from pydtrace import fmt
from pydtrace.abi import DTRACE_UARG_STRING, lib
from pydtrace.dif.assemble import assemble
from pydtrace.dif.codegen import (
    VOID_RTYPE,
    DifType,
    const_difo,
    expr_difo,
    tracemem_difos,
    zero_difo,
)
from pydtrace.dif.ir import Difo, DifoIR
from pydtrace.errors import DError, ErrorList
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.options import OptionError, Options
from pydtrace.program import ActDesc, EcbDesc
from pydtrace.program.serialize import serialize
from pydtrace.sema import stacks
from pydtrace.sema import types as T
from pydtrace.sema.aggs import AggVar
from pydtrace.sema.check import D_NAMES, Checker, Scope, Var
from pydtrace.sema.decl import TypeEnv, TypeSource
from pydtrace.sema.lower import lower_clause
from pydtrace.sema.macros import Macros

CTF_K_INTEGER = 1
EXIT_RTYPE = DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_INTEGER, 0, 4)
# speculate(id), commit(id), discard(id): the id's DIFO (3.2)
SPEC_KINDS = {
    "speculate": lib.DTRACEACT_SPECULATE,
    "commit": lib.DTRACEACT_COMMIT,
    "discard": lib.DTRACEACT_DISCARD,
}
# printf() and the printf-like destructive actions (3.2, 7.10)
PRINTF_KINDS = {
    "printf": lib.DTRACEACT_PRINTF,
    "system": lib.DTRACEACT_SYSTEM,
    "freopen": lib.DTRACEACT_FREOPEN,
}


@dataclass
class Program:
    """A compiled program: the enabling blob the module takes, and what it holds."""

    data: bytes  # the struct dtrace_prog blob for DTRACEIOC_ENABLE
    kind: str  # "probe" or "script"
    label: str
    necbs: int


def is_typename(name: str) -> bool:
    return name in T.TYPEDEFS and name != "string"


class _KernelTypes:
    """The running kernel's types (sema.btf.kernel_types), looked up on first
    use: a program that names no kernel type neither imports sema.btf nor
    reads /sys/kernel/btf/vmlinux.  Without BTF every lookup finds nothing,
    as with no TypeSource at all."""

    def __init__(self) -> None:
        self._source: TypeSource | None = None
        self._loaded = False

    def _get(self) -> TypeSource | None:
        if not self._loaded:
            from pydtrace.sema.btf import kernel_types

            self._source = kernel_types()
            self._loaded = True
        return self._source

    def has_typedef(self, name: str) -> bool:
        k = self._get()
        return k is not None and k.has_typedef(name)

    def typedef(self, name: str) -> T.DType | None:
        k = self._get()
        return k.typedef(name) if k is not None else None

    def tag(self, kind: str, name: str) -> T.DType | None:
        k = self._get()
        return k.tag(kind, name) if k is not None else None

    def function(self, name: str) -> T.DType | None:
        k = self._get()
        return k.function(name) if k is not None else None

    def enum_constant(self, name: str) -> tuple[int, T.DType] | None:
        k = self._get()
        return k.enum_constant(name) if k is not None else None

    def __getattr__(self, name: str) -> object:
        # anything else a TypeSource offers (e.g. BtfTypes.param_names)
        return getattr(self._get(), name)


_KERNEL_TYPES = _KernelTypes()


def _kernel_types() -> TypeSource:
    return _KERNEL_TYPES


class Compiler:
    """kernel: where kernel types come from; "auto" (the default) loads
    /sys/kernel/btf/vmlinux lazily when present, None disables them.
    macro_args: $0 (the script or program label) then $1..$n.
    macro_values: overrides for $pid $ppid $uid $gid $target ... (else the
    current process's values; $target is 0 unless given)."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        macro_args: list[str] | None = None,
        macro_values: dict[str, int] | None = None,
        kernel: TypeSource | None | str = "auto",
    ) -> None:
        self.options: Options = options if options is not None else Options()
        self.formats: list[fmt.Format] = []
        self.globals: dict[str, Var] = {}
        self.tlocals: dict[str, Var] = {}
        # aggregation variables by name; Compiler.aggregations lists them by id
        self.aggvars: dict[str, AggVar] = {}
        self._stmt_ids = itertools.count(1)
        self._nlocals = 0  # clause-local ids used by earlier programs
        self.macro_args: list[str] = list(macro_args or [])
        self.macro_values: dict[str, int] = dict(macro_values or {})
        self.types = TypeEnv(kernel=_kernel_types() if kernel == "auto" else kernel)  # type: ignore[arg-type]
        self._library_attached = False
        # called as dump(pass_name, state) after each pass when set
        self.dump: Callable[[str, object], None] | None = None

    @property
    def aggregations(self) -> list[AggVar]:
        """Every aggregation variable compiled so far, in id order (id i at
        index i - 1); see pydtrace.sema.aggs.AggVar."""
        return sorted(self.aggvars.values(), key=lambda a: a.id)

    def _dump(self, name: str, state: object) -> None:
        if self.dump is not None:
            self.dump(name, state)

    def is_typename(self, name: str) -> bool:
        """The lexer's callback: D variables shadow kernel typedef names."""
        if name in D_NAMES or name in self.globals:
            return False
        return self.types.is_typename(name)

    def compile(self, source: str, *, kind: str, label: str, uarg: int = 0) -> Program:
        """Compile one program; uarg goes into every ECB description (the
        module hands it back as dtepd_uarg)."""
        try:
            return self._compile(source, kind=kind, label=label, uarg=uarg)
        except RecursionError:
            # the checker and code generator recurse over the tree
            raise DError("D_SYNTAX", "expression is nested too deeply") from None

    def _attach_library(self) -> None:
        """Index the D library (sema.library) for this consumer, once: the
        system directory, then every -L directory; -x nolibs skips it."""
        if self._library_attached:
            return
        self._library_attached = True
        if self.options.is_set("nolibs"):
            return
        from pydtrace.sema.library import SYSTEM_DIR, library

        self.types.library = library([SYSTEM_DIR, *self.options.libdirs])

    def _compile(self, source: str, *, kind: str, label: str, uarg: int) -> Program:
        self._attach_library()
        env = self.types.copy()
        scope = Scope(dict(self.globals), dict(self.tlocals), dict(self.aggvars))
        scope.local_base = self._nlocals

        def typename(name: str) -> bool:
            if name in D_NAMES or name in scope.globals:
                return False
            return env.is_typename(name)

        tree = parse(source, typename)
        self._dump("parse", tree)
        for item in tree.items:
            if isinstance(item, ast.Pragma):
                self._pragma(item)
        macros = Macros(
            [self.macro_args[0] if self.macro_args else label, *self.macro_args[1:]],
            dict(self.macro_values),
            self.options.is_set("defaultargs"),
        )
        checker = Checker(scope, env, macros)
        checker.strsize = int(self.options.get("strsize"))
        counter = itertools.count(1)
        clauses: list[ast.Clause] = []
        # every declaration and clause is checked, even after an error; the
        # first error is raised, carrying the others (DError.errors)
        errors = ErrorList()

        def clause(item: ast.Clause) -> None:
            for d in item.descs:
                if "$" in d.text:
                    _expand_pdesc(d, macros)
            for c in lower_clause(item, counter):
                errors.run(checker.check_clause, c)
                clauses.append(c)

        for item in tree.items:
            if isinstance(item, ast.Clause):
                errors.run(clause, item)
            elif not isinstance(item, ast.Pragma):
                errors.run(checker.declare, item)
        errors.raise_first()
        if not clauses and not any(
            isinstance(i, ast.Decl | ast.InlineDecl | ast.Translator) for i in tree.items
        ):
            raise DError("D_EMPTY", "empty D program translation unit", 1)
        if len(macros.args) > 1 and not self.options.is_set("argref"):
            macros.check_unused()
        self._dump("check", tree)
        formats: list[fmt.Format] = []
        difos: list[Difo] = []
        ecbs: list[EcbDesc] = []
        strsize = int(self.options.get("strsize"))
        for clause in clauses:
            pred = None
            if clause.predicate is not None:
                pred = len(difos)
                difos.append(assemble(expr_difo(clause.predicate, strsize)))
            acts = self._actions(clause, difos, formats, strsize)
            for desc in clause.descs:
                probe = (desc.provider, desc.module, desc.function, desc.name)
                ecbs.append(EcbDesc(probe, pred, [ActDesc(**vars(a)) for a in acts], uarg))
        self._dump("codegen", difos)
        data = serialize(ecbs, difos, self.options.kernel_options())
        # commit consumer state only once the whole program compiled
        self.globals.update(scope.globals)
        self.tlocals.update(scope.tlocals)
        self.aggvars.update(scope.aggs)
        self._nlocals += len(scope.locals)
        self.types = env
        self.formats.extend(formats)
        return Program(data, kind, label, len(ecbs))

    def _actions(
        self, clause: ast.Clause, difos: list[Difo], formats: list[fmt.Format], strsize: int
    ) -> list[ActDesc]:
        acts: list[ActDesc] = []

        def add(
            ir: DifoIR | None,
            kind: int,
            form: int = 0,
            *,
            ntuple: int = 0,
            arg: int = 0,
            uarg: int = 0,
        ) -> None:
            index = None
            if ir is not None:
                difos.append(assemble(ir))
                index = len(difos) - 1
            acts.append(ActDesc(index, kind, form, ntuple, arg, uarg))

        def expr(e: ast.Expr, rtype: DifType | None = None) -> DifoIR:
            return expr_difo(e, strsize, rtype)

        def aggid(e: ast.Expr) -> DifoIR:
            return const_difo(e.agg.id)  # type: ignore[attr-defined]

        def format_index(f: fmt.Format) -> int:
            formats.append(f)
            return len(self.formats) + len(formats)

        for stmt in clause.stmts:
            name = stmt.name if isinstance(stmt, ast.Call) else None
            args = stmt.args if isinstance(stmt, ast.Call) else []
            if isinstance(stmt, ast.Assign) and isinstance(stmt.target, ast.Agg):
                self._aggregation(stmt, add, expr, self._stack_option)
            elif name in stacks.NAMES:
                kind, sarg, addr = stacks.action(stmt, self._stack_option)  # type: ignore[arg-type]
                add(expr(addr) if addr is not None else None, kind, arg=sarg)
            elif name == "trace":
                string = args[0].type.is_string  # type: ignore[attr-defined]
                uarg = DTRACE_UARG_STRING if string else 0
                add(expr(args[0]), lib.DTRACEACT_DIFEXPR, uarg=uarg)
            elif name == "tracemem":
                for ir, kind in tracemem_difos(stmt, strsize):  # type: ignore[arg-type]
                    add(ir, kind)
            elif name == "exit":
                add(expr(args[0], EXIT_RTYPE), lib.DTRACEACT_EXIT)
            elif name in SPEC_KINDS:
                add(expr(args[0]), SPEC_KINDS[name])
            elif name in PRINTF_KINDS:  # printf() and the printf-like system(), freopen()
                kind = PRINTF_KINDS[name]
                index = format_index(stmt.format)  # type: ignore[attr-defined]
                if len(args) == 1:
                    add(zero_difo(), kind, index)
                for i, arg in enumerate(args[1:]):
                    add(expr(arg), kind, index if i == 0 else 0)
            elif name in ("raise", "chill"):  # destructive: void(int)
                kind = lib.DTRACEACT_RAISE if name == "raise" else lib.DTRACEACT_CHILL
                add(expr(args[0]), kind)
            elif name == "stop":
                add(None, lib.DTRACEACT_STOP)
            elif name == "printa":
                form = getattr(stmt, "format", None)
                index = format_index(form) if form is not None else 0
                uarg = next(self._stmt_ids)
                for a in args:
                    if isinstance(a, ast.Agg):
                        add(aggid(a), lib.DTRACEACT_PRINTA, index, uarg=uarg)
            elif name in ("clear", "denormalize"):
                code = lib.DTRACE_LIBACT_CLEAR if name == "clear" else lib.DTRACE_LIBACT_DENORMALIZE
                add(aggid(args[0]), lib.DTRACEACT_LIBACT, arg=code)
            elif name in ("normalize", "trunc"):
                code = (
                    lib.DTRACE_LIBACT_NORMALIZE if name == "normalize" else lib.DTRACE_LIBACT_TRUNC
                )
                add(aggid(args[0]), lib.DTRACEACT_LIBACT, arg=code)
                add(
                    expr(args[1]) if len(args) > 1 else const_difo(0),
                    lib.DTRACEACT_LIBACT,
                    arg=code,
                )
            elif name == "setopt":
                add(expr(args[0]), lib.DTRACEACT_LIBACT, arg=lib.DTRACE_LIBACT_SETOPT)
                add(
                    expr(args[1]) if len(args) > 1 else const_difo(0),
                    lib.DTRACEACT_LIBACT,
                    arg=lib.DTRACE_LIBACT_SETOPT,
                )
            else:
                add(expr(stmt, VOID_RTYPE), lib.DTRACEACT_DIFEXPR)
        return acts

    def _stack_option(self, name: str) -> int:
        """stackframes/ustackframes: as set, else dtrace's default."""
        v = self.options.get(name)
        if isinstance(v, int) and self.options.is_set(name):
            return v
        return {"stackframes": 20, "ustackframes": 100}[name]

    @staticmethod
    def _aggregation(
        stmt: ast.Assign,
        add: Callable[..., None],
        expr: Callable[..., DifoIR],
        option: Callable[[str], int],
    ) -> None:
        """The action-list fragment of @name[keys] = func(args) (3.6)."""
        agg: AggVar = stmt.agg  # type: ignore[attr-defined]
        target = stmt.target
        call = stmt.value
        assert isinstance(target, ast.Agg) and isinstance(call, ast.Call)
        add(const_difo(agg.id), lib.DTRACEACT_DIFEXPR)
        keys = target.keys or []
        for k in keys:
            if isinstance(k, ast.Call) and stacks.is_stack_call(k):
                kind, sarg, addr = stacks.action(k, option)
                add(expr(addr) if addr is not None else None, kind, arg=sarg)
            else:
                add(expr(k), lib.DTRACEACT_DIFEXPR)
        ntuple = 1 + len(keys)
        incr = stmt.incr  # type: ignore[attr-defined]
        if incr is not None:
            add(expr(incr, VOID_RTYPE), lib.DTRACEACT_DIFEXPR)
            ntuple += 1
        value = expr(call.args[0]) if call.args else None
        add(value, agg.kind, ntuple=ntuple, arg=agg.arg)

    def _pragma(self, p: ast.Pragma) -> None:
        words = p.words
        if not words or words[0] != "pragma":
            raise DError(
                "D_PRAGCTL_INVAL",
                "invalid control directive: #" + (words[0] if words else ""),
                p.line,
            )
        if len(words) < 2 or words[1] != "D":
            return  # not a D pragma: ignored, as cpp would
        if len(words) < 3:
            raise DError("D_PRAGMA_MALFORM", "malformed #pragma D directive", p.line)
        if words[2] == "option":
            if len(words) != 4:
                raise DError(
                    "D_PRAGMA_MALFORM", "malformed #pragma option: expected one option", p.line
                )
            name, eq, value = words[3].partition("=")
            try:
                self.options.set(name, value if eq else None)
            except OptionError as e:
                e.line = p.line
                raise
        elif words[2] == "error":
            raise DError("D_PRAGERR", "#pragma error: " + " ".join(words[3:]), p.line)
        elif words[2] == "depends_on" and len(words) > 3 and words[3] == "library":
            raise DError(
                "D_PRAGMA_DEPEND", "main program may not explicitly depend on a library", p.line
            )
        elif words[2] in ("ident", "line", "attributes", "binding", "depends_on"):
            return
        else:
            raise DError("D_PRAGMA_INVAL", f"invalid pragma: #pragma D {words[2]}", p.line)


def _expand_pdesc(d: ast.ProbeDesc, macros: Macros) -> None:
    text = macros.expand_pdesc(d.text, d.line)
    fields = text.split(":")
    if len(fields) > 4:
        raise DError(
            "D_PDESC_INVAL",
            f'invalid probe description "{text}": Overspecified probe description',
            d.line,
        )
    fields = [""] * (4 - len(fields)) + fields
    d.text = text
    d.provider, d.module, d.function, d.name = fields
