"""Lowering of if/else in clause bodies to predicated clauses.

DTrace runs each action of a clause as its own DIF object, so a branch
cannot jump between actions.  illumos D compiles `if` the same way: the
clause is split where an `if` appears; each condition is stored in a
clause-local variable by an unpredicated clause, and the statements under it
become clauses predicated on that variable (clause-locals are shared by the
clauses of one probe firing, and each is assigned before it is read).
"""

from __future__ import annotations

import itertools

from pydtrace.lang import ast


def has_if(clause: ast.Clause) -> bool:
    return any(isinstance(s, ast.If) for s in clause.stmts)


def lower_clause(clause: ast.Clause, counter: itertools.count) -> list[ast.Clause]:
    """clause itself when it has no if, else the equivalent clause list."""
    if not has_if(clause):
        return [clause]
    out: list[ast.Clause] = []
    descs = clause.descs
    line = clause.line

    def var(name: str) -> ast.ScopedVar:
        return ast.ScopedVar(line, "this", name)

    def fresh() -> str:
        return f"%cond{next(counter)}"

    guard: str | None = None
    if clause.predicate is not None:
        guard = fresh()
        out.append(
            ast.Clause(
                line,
                descs,
                None,
                [
                    ast.Assign(
                        clause.predicate.line,
                        "=",
                        var(guard),
                        ast.Unary(
                            clause.predicate.line,
                            "!",
                            ast.Unary(clause.predicate.line, "!", clause.predicate),
                        ),
                    )
                ],
            )
        )

    def emit(g: str | None, stmts: list[ast.Expr]) -> None:
        if stmts:
            out.append(ast.Clause(line, descs, var(g) if g else None, list(stmts)))

    def walk(stmts: list[ast.Stmt], g: str | None) -> None:
        pending: list[ast.Expr] = []
        for s in stmts:
            if not isinstance(s, ast.If):
                pending.append(s)
                continue
            emit(g, pending)
            pending = []
            ln = s.line
            cond: ast.Expr = ast.Unary(ln, "!", ast.Unary(ln, "!", s.cond))
            if g is not None:
                cond = ast.Binary(ln, "&&", var(g), cond)
            then = fresh()
            assigns: list[ast.Expr] = [ast.Assign(ln, "=", var(then), cond)]
            other = None
            if s.other:
                other = fresh()
                neg: ast.Expr = ast.Unary(ln, "!", var(then))
                if g is not None:
                    neg = ast.Binary(ln, "&&", var(g), neg)
                assigns.append(ast.Assign(ln, "=", var(other), neg))
            out.append(ast.Clause(ln, descs, None, assigns))
            walk(s.then, then)
            if s.other and other is not None:
                walk(s.other, other)
        emit(g, pending)

    walk(clause.stmts, guard)
    return out
