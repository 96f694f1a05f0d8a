"""The D grammar (ply yacc): source text -> ast.Program.

Each p_* docstring is the grammar rule.  Tables are built in memory on first
use (never written at import); `python -m pydtrace.lang.parser --write-tables`
writes pydtrace/lang/parsetab.py, which is then loaded instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import ply.yacc as yacc

from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.lexer import Lit, make_lexer, raw_text, tokens  # noqa: F401

start = "program"


def _line(p: Any, n: int) -> int:
    return p.lineno(n) or p.lexer.lineno


def p_program(p: Any) -> None:
    """program : item_list
               | empty"""
    p[0] = ast.Program(1, p[1] or [])


def p_item_list(p: Any) -> None:
    """item_list : item
                 | item_list item"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[2]]


def p_item_pragma(p: Any) -> None:
    """item : PRAGMA"""
    p[0] = ast.Pragma(_line(p, 1), p[1][1:].split())


def p_item_clause(p: Any) -> None:
    """item : pdesc_list pred_opt body_opt"""
    descs = p[1]
    p[0] = ast.Clause(descs[0].line, descs, p[2], p[3] or [])


def p_pdesc_list(p: Any) -> None:
    """pdesc_list : PSPEC
                  | pdesc_list COMMA PSPEC"""
    if len(p) == 2:
        p[0] = [_pdesc(p[1], _line(p, 1))]
    else:
        p[0] = p[1] + [_pdesc(p[3], _line(p, 3))]


def _pdesc(text: str, line: int) -> ast.ProbeDesc:
    fields = text.split(":")
    if len(fields) > 4:
        raise DError("D_PDESC_INVAL", f'invalid probe description "{text}": '
                     "Overspecified probe description", line)
    fields = [""] * (4 - len(fields)) + fields
    return ast.ProbeDesc(line, text, *fields)


def p_pred_opt(p: Any) -> None:
    """pred_opt : SLASH expression EPRED
                | empty"""
    p[0] = p[2] if len(p) == 4 else None


def p_body_opt(p: Any) -> None:
    """body_opt : LBRACE statement_list RBRACE
                | empty"""
    p[0] = p[2] if len(p) == 4 else None


def p_statement_list(p: Any) -> None:
    """statement_list : statement
                      | statement_list SEMI statement"""
    if len(p) == 2:
        p[0] = [p[1]] if p[1] is not None else []
    else:
        p[0] = p[1] + ([p[3]] if p[3] is not None else [])


def p_statement(p: Any) -> None:
    """statement : expression
                 | empty"""
    p[0] = p[1]


def p_expression(p: Any) -> None:
    """expression : assignment_expression"""
    p[0] = p[1]


def p_assignment_expression(p: Any) -> None:
    """assignment_expression : conditional_expression
                             | unary_expression assignment_operator assignment_expression"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Assign(p[1].line, p[2], p[1], p[3])


def p_assignment_operator(p: Any) -> None:
    """assignment_operator : ASSIGN
                           | ADD_EQ
                           | SUB_EQ
                           | MUL_EQ
                           | DIV_EQ
                           | MOD_EQ
                           | AND_EQ
                           | OR_EQ
                           | XOR_EQ
                           | LSH_EQ
                           | RSH_EQ"""
    p[0] = p[1]


def p_conditional_expression(p: Any) -> None:
    """conditional_expression : logical_or_expression
        | logical_or_expression QUESTION expression COLON conditional_expression"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Ternary(p[1].line, p[1], p[3], p[5])


def p_binary(p: Any) -> None:
    """logical_or_expression : logical_xor_expression
                             | logical_or_expression LOR logical_xor_expression
       logical_xor_expression : logical_and_expression
                              | logical_xor_expression LXOR logical_and_expression
       logical_and_expression : inclusive_or_expression
                              | logical_and_expression LAND inclusive_or_expression
       inclusive_or_expression : exclusive_or_expression
                               | inclusive_or_expression OR exclusive_or_expression
       exclusive_or_expression : and_expression
                               | exclusive_or_expression XOR and_expression
       and_expression : equality_expression
                      | and_expression AND equality_expression
       equality_expression : relational_expression
                           | equality_expression EQ relational_expression
                           | equality_expression NE relational_expression
       relational_expression : shift_expression
                             | relational_expression LT shift_expression
                             | relational_expression GT shift_expression
                             | relational_expression LE shift_expression
                             | relational_expression GE shift_expression
       shift_expression : additive_expression
                        | shift_expression LSHIFT additive_expression
                        | shift_expression RSHIFT additive_expression
       additive_expression : multiplicative_expression
                           | additive_expression PLUS multiplicative_expression
                           | additive_expression MINUS multiplicative_expression
       multiplicative_expression : cast_expression
                                 | multiplicative_expression TIMES cast_expression
                                 | multiplicative_expression DIVIDE cast_expression
                                 | multiplicative_expression MOD cast_expression"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Binary(p[1].line, p[2], p[1], p[3])


def p_cast_expression(p: Any) -> None:
    """cast_expression : unary_expression
                       | LPAREN type_name RPAREN cast_expression"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Cast(_line(p, 1), p[2], p[4])


def p_type_name(p: Any) -> None:
    """type_name : type_keywords
                 | TNAME"""
    p[0] = p[1] if isinstance(p[1], list) else [p[1]]


def p_type_keywords(p: Any) -> None:
    """type_keywords : TYPEKW
                     | type_keywords TYPEKW"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[2]]


def p_unary_expression(p: Any) -> None:
    """unary_expression : postfix_expression
                        | INC unary_expression
                        | DEC unary_expression
                        | PLUS cast_expression
                        | MINUS cast_expression
                        | NOT cast_expression
                        | LNOT cast_expression"""
    if len(p) == 2:
        p[0] = p[1]
    elif p[1] in ("++", "--"):
        p[0] = ast.Assign(_line(p, 1), p[1], p[2], None, prefix=True)
    else:
        p[0] = ast.Unary(_line(p, 1), p[1], p[2])


def p_postfix_expression(p: Any) -> None:
    """postfix_expression : primary_expression
                          | postfix_expression INC
                          | postfix_expression DEC
                          | IDENT LPAREN RPAREN
                          | IDENT LPAREN argument_list RPAREN"""
    if len(p) == 2:
        p[0] = p[1]
    elif len(p) == 3:
        p[0] = ast.Assign(p[1].line, p[2], p[1], None, prefix=False)
    else:
        p[0] = ast.Call(_line(p, 1), p[1], p[3] if len(p) == 5 else [])


def p_argument_list(p: Any) -> None:
    """argument_list : assignment_expression
                     | argument_list COMMA assignment_expression"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]


def p_primary_ident(p: Any) -> None:
    """primary_expression : IDENT"""
    p[0] = ast.Ident(_line(p, 1), p[1])


def p_primary_scoped(p: Any) -> None:
    """primary_expression : THIS ARROW IDENT
                          | SELF ARROW IDENT"""
    p[0] = ast.ScopedVar(_line(p, 1), p[1], p[3])


def p_primary_int(p: Any) -> None:
    """primary_expression : INT"""
    lit: Lit = p[1]
    node = ast.IntLit(_line(p, 1), int(lit.value), lit.raw)  # type: ignore[call-overload]
    node.decimal = lit.decimal  # type: ignore[attr-defined]
    node.suffix = lit.suffix  # type: ignore[attr-defined]
    p[0] = node


def p_primary_char(p: Any) -> None:
    """primary_expression : CHAR"""
    lit: Lit = p[1]
    node = ast.IntLit(_line(p, 1), int(lit.value), lit.raw)  # type: ignore[call-overload]
    node.decimal = True  # type: ignore[attr-defined]
    node.suffix = ""  # type: ignore[attr-defined]
    p[0] = node


def p_primary_string(p: Any) -> None:
    """primary_expression : string_list"""
    line, value = p[1]
    p[0] = ast.StrLit(line, value)


def p_string_list(p: Any) -> None:
    """string_list : STRING
                   | string_list STRING"""
    if len(p) == 2:
        p[0] = (_line(p, 1), p[1].value)
    else:
        p[0] = (p[1][0], p[1][1] + p[2].value)


def p_primary_paren(p: Any) -> None:
    """primary_expression : LPAREN expression RPAREN"""
    p[0] = p[2]


def p_empty(p: Any) -> None:
    """empty :"""
    p[0] = None


def p_error(tok: Any) -> None:
    if tok is None:
        raise DError("D_SYNTAX", "syntax error near end of input")
    text = raw_text(tok).split("\n", 1)[0]
    raise DError("D_SYNTAX", f'syntax error near "{text}"', tok.lineno)


_PARSER: Any = None
_HERE = os.path.dirname(os.path.abspath(__file__))


def _build(write_tables: bool = False) -> Any:
    module = sys.modules[__name__]
    if write_tables:
        return yacc.yacc(module=module, tabmodule="parsetab", outputdir=_HERE,
                         write_tables=True, debug=False, errorlog=yacc.NullLogger())
    try:
        from pydtrace.lang import parsetab  # noqa: F401
        tabmodule = "pydtrace.lang.parsetab"
    except ImportError:
        tabmodule = "pydtrace_lang_parsetab_unused"
    return yacc.yacc(module=module, tabmodule=tabmodule, write_tables=False,
                     debug=False, errorlog=yacc.NullLogger())


def get_parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = _build()
    return _PARSER


def parse(text: str, is_typename: Callable[[str], bool] | None = None) -> ast.Program:
    """Parse a D program; raises DError (D_SYNTAX and lexical tags) only."""
    lexer = make_lexer(is_typename)
    try:
        prog = get_parser().parse(text, lexer=lexer)
    except DError as e:
        if e.line is None:
            e.line = lexer.lineno
        raise
    except RecursionError:
        raise DError("D_SYNTAX", "syntax error near end of input") from None
    assert isinstance(prog, ast.Program)
    return prog


def main(argv: list[str]) -> int:
    if argv == ["--write-tables"]:
        _build(write_tables=True)
        print(os.path.join(_HERE, "parsetab.py"))
        return 0
    print("usage: python -m pydtrace.lang.parser --write-tables", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
