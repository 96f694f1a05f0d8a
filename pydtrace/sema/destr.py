"""The destructive actions (dtrace-internals 3.2, 7.10): their checks.

* ``system(fmt, ...)`` and ``freopen(fmt, ...)`` are printf-like
  (dt_action_printflike): checked as printf() is; freopen's format may be
  empty (restore the output) but not "." or "..".
* ``raise(sig)`` and ``chill(ns)`` are ``void(int)``, ``stop()`` ``void()``
  (dt_open.c's prototypes).
* ``breakpoint()`` and ``panic()`` are refused even with -w: they would
  stop or crash the machine.

Whether they may run is not decided here: as in DTrace, the module refuses
to start tracing (GO fails with EACCES: "could not enable tracing:
Destructive actions not allowed") unless the destructive option (-w,
``#pragma D option destructive``) is set.
"""

from __future__ import annotations

from typing import Protocol

from pydtrace import fmt
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T

# the actions checked here; every one is destructive (sema.spec knows them)
NAMES = ("system", "freopen", "raise", "stop", "chill")
REFUSED = {"breakpoint": "stop", "panic": "crash"}


class _Checker(Protocol):
    def err(self, node: ast.Node, tag: str, msg: str) -> DError: ...
    def expr(self, e: ast.Expr) -> T.DType: ...
    def action_printf(self, call: ast.Call) -> None: ...
    def action_spec(self, call: ast.Call) -> None: ...
    def validate_format(
        self,
        call: ast.Call,
        form: fmt.Format,
        argtypes: list[T.DType],
        *,
        aggregation: bool = False,
    ) -> fmt.Format: ...


def check(c: _Checker, call: ast.Call) -> None:
    """Check one destructive (or refused) action statement."""
    name = call.name
    if name in REFUSED:
        raise c.err(
            call,
            "D_VAR_UNSUP",
            f"{name}( ) is not supported: it would "
            f"{REFUSED[name]} the machine (refused even with -w)",
        )
    if name == "stop":
        if call.args:
            n = len(call.args)
            raise c.err(
                call,
                "D_PROTO_LEN",
                f"stop( ) prototype mismatch: {n} arg{'' if n == 1 else 's'} passed, 0 expected",
            )
        return
    if name in ("raise", "chill"):
        c.action_spec(call)  # void(int), as speculate()'s
        return
    first = call.args[0] if call.args else None
    if name == "freopen" and isinstance(first, ast.StrLit):
        if first.value in (".", ".."):
            raise c.err(
                call, "D_FREOPEN_INVALID", f'freopen( ) argument #1 cannot be "{first.value}"'
            )
        if first.value == "":
            # DT_FREOPEN_RESTORE: a format without conversions
            first.type = T.STRING
            argtypes = [c.expr(a) for a in call.args[1:]]
            call.format = c.validate_format(  # type: ignore[attr-defined]
                call, fmt.parse(""), argtypes
            )
            return
    c.action_printf(call)
