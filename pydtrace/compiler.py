"""The D compiler: the pass list, in order.

parse (lang) -> pragmas -> check (sema) -> codegen + assemble (dif) ->
serialize (program).  One Compiler per consumer, like libdtrace's handle:
it owns the options, the printf formats of every program it compiled and the
global variables (whose ids must agree across programs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.dif.assemble import assemble
from pydtrace.dif.codegen import VOID_RTYPE, DifType, expr_difo, zero_difo
from pydtrace.dif.ir import Difo
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.options import OptionError, Options
from pydtrace.program import ActDesc, EcbDesc
from pydtrace.program.serialize import serialize
from pydtrace.sema import types as T
from pydtrace.sema.check import Checker, Scope, Var

CTF_K_INTEGER = 1
EXIT_RTYPE = DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_INTEGER, 0, 4)


@dataclass
class Program:
    data: bytes          # the struct dtrace_prog blob for DTRACEIOC_ENABLE
    kind: str            # "probe" or "script"
    label: str
    necbs: int


def is_typename(name: str) -> bool:
    return name in T.TYPEDEFS and name != "string"


class Compiler:
    def __init__(self, options: Options | None = None) -> None:
        self.options: Options = options if options is not None else Options()
        self.formats: list[fmt.Format] = []
        self.globals: dict[str, Var] = {}
        # called as dump(pass_name, state) after each pass when set
        self.dump: Callable[[str, object], None] | None = None

    def _dump(self, name: str, state: object) -> None:
        if self.dump is not None:
            self.dump(name, state)

    def compile(self, source: str, *, kind: str, label: str) -> Program:
        tree = parse(source, is_typename)
        self._dump("parse", tree)
        for item in tree.items:
            if isinstance(item, ast.Pragma):
                self._pragma(item)
        clauses = tree.clauses
        if not clauses:
            raise DError("D_EMPTY", "empty D program translation unit", 1)
        scope = Scope(dict(self.globals))
        checker = Checker(scope)
        for clause in clauses:
            checker.check_clause(clause)
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
                ecbs.append(EcbDesc(probe, pred, [ActDesc(**vars(a)) for a in acts]))
        self._dump("codegen", difos)
        data = serialize(ecbs, difos, self.options.kernel_options())
        # commit consumer state only once the whole program compiled
        self.globals.update(scope.globals)
        self.formats.extend(formats)
        return Program(data, kind, label, len(ecbs))

    def _actions(self, clause: ast.Clause, difos: list[Difo],
                 formats: list[fmt.Format], strsize: int) -> list[ActDesc]:
        acts: list[ActDesc] = []

        def add(ir: object, kind: int, form: int = 0) -> None:
            difos.append(assemble(ir))  # type: ignore[arg-type]
            acts.append(ActDesc(len(difos) - 1, kind, form))

        for stmt in clause.stmts:
            if isinstance(stmt, ast.Call) and stmt.name == "trace":
                add(expr_difo(stmt.args[0], strsize), lib.DTRACEACT_DIFEXPR)
            elif isinstance(stmt, ast.Call) and stmt.name == "exit":
                add(expr_difo(stmt.args[0], strsize, EXIT_RTYPE), lib.DTRACEACT_EXIT)
            elif isinstance(stmt, ast.Call) and stmt.name == "printf":
                formats.append(stmt.format)  # type: ignore[attr-defined]
                index = len(self.formats) + len(formats)
                args = stmt.args[1:]
                if not args:
                    add(zero_difo(), lib.DTRACEACT_PRINTF, index)
                for i, arg in enumerate(args):
                    add(expr_difo(arg, strsize), lib.DTRACEACT_PRINTF, index if i == 0 else 0)
            else:
                add(expr_difo(stmt, strsize, VOID_RTYPE), lib.DTRACEACT_DIFEXPR)
        return acts

    def _pragma(self, p: ast.Pragma) -> None:
        words = p.words
        if not words or words[0] != "pragma":
            raise DError("D_PRAGCTL_INVAL", "invalid control directive: #"
                         + (words[0] if words else ""), p.line)
        if len(words) < 2 or words[1] != "D":
            return                              # not a D pragma: ignored, as cpp would
        if len(words) < 3:
            raise DError("D_PRAGMA_MALFORM", "malformed #pragma D directive", p.line)
        if words[2] == "option":
            if len(words) != 4:
                raise DError("D_PRAGMA_MALFORM",
                             "malformed #pragma option: expected one option", p.line)
            name, eq, value = words[3].partition("=")
            try:
                self.options.set(name, value if eq else None)
            except OptionError as e:
                e.line = p.line
                raise
        elif words[2] == "error":
            raise DError("D_PRAGERR", "#pragma error: " + " ".join(words[3:]), p.line)
        elif words[2] in ("ident", "line", "attributes", "binding", "depends_on"):
            return
        else:
            raise DError("D_PRAGMA_INVAL", f"invalid pragma: #pragma D {words[2]}", p.line)
