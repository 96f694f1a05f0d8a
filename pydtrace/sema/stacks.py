"""stack(), ustack() and the symbol actions func/sym/mod/ufunc/usym/umod/uaddr.

They are actions, not subroutines: each records a record of its own kind
(dtrace-internals.md 3.2), as a statement or as an aggregation key, never
inside an expression (dt_cc.c's dt_action_stack, dt_action_symmod and the
key cases of dt_compile_agg).  The checker annotates the call with .act:
(DTRACEACT_* kind, frames or None for the stackframes/ustackframes
option, ustack's strsize, address expression or None); action() makes the
record argument of it.
"""

from __future__ import annotations

from collections.abc import Callable

from pydtrace.abi import lib
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.sema import types as T
from pydtrace.sema.fold import fold

# The types libdtrace gives these values (typedefs of void there): only
# ever the type of an aggregation key, where printa's %k / %a / %A check it.
STACK = T.DType("stack", "int", 8)
SYMADDR = T.DType("_symaddr", "int", 8)
USYMADDR = T.DType("_usymaddr", "int", 8)

STACK_ACTIONS = ("stack", "ustack")
SYM_ACTIONS: dict[str, tuple[int, T.DType]] = {
    "func": (int(lib.DTRACEACT_SYM), SYMADDR),
    "sym": (int(lib.DTRACEACT_SYM), SYMADDR),
    "mod": (int(lib.DTRACEACT_MOD), SYMADDR),
    "ufunc": (int(lib.DTRACEACT_USYM), USYMADDR),
    "usym": (int(lib.DTRACEACT_USYM), USYMADDR),
    "umod": (int(lib.DTRACEACT_UMOD), USYMADDR),
    "uaddr": (int(lib.DTRACEACT_UADDR), USYMADDR),
}
NAMES = frozenset(STACK_ACTIONS) | frozenset(SYM_ACTIONS)

Err = Callable[[ast.Node, str, str], DError]


def is_stack_call(e: ast.Node) -> bool:
    return isinstance(e, ast.Call) and e.name in NAMES


def _positive(e: ast.Expr) -> int | None:
    v = fold(e) if e.type is not None and T.resolve(e.type).is_int else None
    return v if v is not None and v > 0 else None


def check(call: ast.Call, expr: Callable[[ast.Expr], T.DType], err: Err) -> T.DType:
    """Type the arguments of a stack/symbol action; annotate call.act."""
    for a in call.args:
        expr(a)
    name = call.name
    args = call.args
    if name == "stack":
        if len(args) > 1:
            raise err(call, "D_STACK_PROTO", "stack( ) prototype mismatch: too many arguments")
        n = _positive(args[0]) if args else None
        if args and n is None:
            raise err(
                args[0], "D_STACK_SIZE", "stack( ) size must be a nonzero positive integer constant"
            )
        call.act = (int(lib.DTRACEACT_STACK), n, 0, None)  # type: ignore[attr-defined]
        return STACK
    if name == "ustack":
        if len(args) > 2:
            raise err(call, "D_USTACK_PROTO", "ustack( ) prototype mismatch: too many arguments")
        n = _positive(args[0]) if args else None
        if args and n is None:
            raise err(
                args[0],
                "D_USTACK_FRAMES",
                "ustack( ) argument #1 must be a non-zero positive integer constant",
            )
        strsize = 0
        if len(args) > 1:
            s = _positive(args[1])
            if s is None:
                raise err(
                    args[1],
                    "D_USTACK_STRSIZE",
                    "ustack( ) argument #2 must be a non-zero positive integer constant",
                )
            strsize = s
        call.act = (int(lib.DTRACEACT_USTACK), n, strsize, None)  # type: ignore[attr-defined]
        return STACK
    kind, t = SYM_ACTIONS[name]
    if len(args) != 1:
        raise err(
            call,
            "D_PROTO_LEN",
            f"{name}( ) prototype mismatch: {len(args)} "
            f"arg{'' if len(args) == 1 else 's'} passed, 1 expected",
        )
    at = args[0].type
    assert at is not None
    if not T.resolve(at).is_scalar:
        raise err(
            call,
            "D_PROTO_ARG",
            f"{name}( ) argument #1 is incompatible with "
            f"prototype:\n\tprototype: uintptr_t\n\t argument: {at}",
        )
    call.act = (kind, None, 0, args[0])  # type: ignore[attr-defined]
    return t


def action(call: ast.Call, option: Callable[[str], int]) -> tuple[int, int, ast.Expr | None]:
    """(DTRACEACT_* kind, record argument, address expression or None) of a
    checked call; option(name) is the value of an option."""
    kind, n, strsize, addr = call.act  # type: ignore[attr-defined]
    if kind == lib.DTRACEACT_STACK:
        return kind, n or option("stackframes"), None
    if kind == lib.DTRACEACT_USTACK:
        return kind, (n or option("ustackframes")) | strsize << 32, None
    return kind, 0, addr
