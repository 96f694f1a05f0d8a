"""Speculation actions and the action-ordering rules of a clause
(dtrace-internals.md 3.7).

libdtrace's dt_stmt_append() checks, after each statement is added, the
whole action list of the clause so far; the first rule broken is reported
at that statement's line.  Each statement is modelled here as the kinds of
the actions it compiles to, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from pydtrace.errors import DError
from pydtrace.lang import ast

# The speculative actions: speculate(id), commit(id), discard(id), each
# "void(int)" (dt_open.c).
SPEC_ACTIONS = ("speculate", "commit", "discard")

# Pseudo action kinds.
SPEC = "speculate"
COMMIT = "commit"
DISCARD = "discard"
AGG = "agg"
EXIT = "exit"
DESTRUCTIVE = "destructive"
DREC = "drec"  # records data
VOID = "void"  # a DIFEXPR of a void expression statement: records nothing

# Destructive actions (classes PROC_DESTRUCTIVE and KERNEL_DESTRUCTIVE) and
# the subroutines that make a DIFO destructive.
_DESTRUCTIVE_ACTIONS = frozenset(
    {"stop", "raise", "system", "freopen", "breakpoint", "panic", "chill"}
)
_DESTRUCTIVE_SUBRS = frozenset({"copyout", "copyoutstr"})

ErrFn = Callable[[ast.Node, str, str], DError]


def _calls_destructive(node: object) -> bool:
    """Whether an expression calls copyout()/copyoutstr() anywhere."""
    if isinstance(node, ast.Call) and node.name in _DESTRUCTIVE_SUBRS:
        return True
    if isinstance(node, ast.Node):
        for v in vars(node).values():
            if isinstance(v, list):
                if any(_calls_destructive(x) for x in v):
                    return True
            elif isinstance(v, ast.Node) and _calls_destructive(v):
                return True
    return False


def stmt_kinds(stmt: ast.Stmt) -> list[str]:
    """The kinds of the actions one (lowered, if-free) statement becomes."""
    if isinstance(stmt, ast.Assign) and isinstance(stmt.target, ast.Agg):
        keys = stmt.target.keys or []
        incr = getattr(stmt, "incr", None)
        # the variable id and the keys, the increment (void), the value
        return [DREC] * (1 + len(keys)) + ([VOID] if incr is not None else []) + [AGG]
    if isinstance(stmt, ast.Call):
        if stmt.name == "speculate":
            return [SPEC]
        if stmt.name == "commit":
            return [COMMIT]
        if stmt.name == "discard":
            return [DISCARD]
        if stmt.name == "exit":
            return [EXIT]
        if stmt.name in _DESTRUCTIVE_ACTIONS:
            return [DESTRUCTIVE]
    if _is_action(stmt):
        return [DREC]
    return [DESTRUCTIVE] if _calls_destructive(stmt) else [VOID]


def _is_action(stmt: ast.Stmt) -> bool:
    from pydtrace.sema import stacks
    from pydtrace.sema.check import ACTIONS, OTHER_ACTIONS

    return isinstance(stmt, ast.Call) and (
        stmt.name in ACTIONS or stmt.name in OTHER_ACTIONS or stmt.name in stacks.NAMES
    )


def check_order(kinds: list[str], stmt: ast.Node, err: ErrFn) -> None:
    """dt_stmt_append(): the rules over the clause's actions so far."""
    commit = speculate = datarec = False
    for i, k in enumerate(kinds):
        if k == COMMIT:
            if commit:
                raise err(stmt, "D_COMM_COMM", "commit( ) may not follow commit( )")
            if datarec:
                raise err(stmt, "D_COMM_DREC", "commit( ) may not follow data-recording action(s)")
            if AGG in kinds[i:]:
                raise err(stmt, "D_AGG_COMM", "aggregating actions may not follow commit( )")
            commit = True
            continue
        if k == SPEC:
            if speculate:
                raise err(stmt, "D_SPEC_SPEC", "speculate( ) may not follow speculate( )")
            if commit:
                raise err(stmt, "D_SPEC_COMM", "speculate( ) may not follow commit( )")
            if datarec:
                raise err(
                    stmt, "D_SPEC_DREC", "speculate( ) may not follow data-recording action(s)"
                )
            speculate = True
            continue
        if k == AGG:
            if speculate:
                raise err(stmt, "D_AGG_SPEC", "aggregating actions may not follow speculate( )")
            datarec = True
            continue
        if speculate:
            if k == DESTRUCTIVE:
                raise err(stmt, "D_ACT_SPEC", "destructive actions may not follow speculate( )")
            if k == EXIT:
                raise err(stmt, "D_EXIT_SPEC", "exit( ) may not follow speculate( )")
        if k in (DESTRUCTIVE, DISCARD, VOID):
            continue
        if commit:
            raise err(stmt, "D_DREC_COMM", "data-recording actions may not follow commit( )")
        if not speculate:
            datarec = True


def check_clause_order(stmts: list[ast.Stmt], err: ErrFn) -> None:
    """Every statement of a clause, in order, as libdtrace appends them."""
    kinds: list[str] = []
    for stmt in stmts:
        kinds.extend(stmt_kinds(stmt))
        check_order(kinds, stmt, err)
