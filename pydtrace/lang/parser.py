"""The D grammar (ply yacc): source text -> ast.Program.

Each p_* docstring is the grammar rule.  Tables are built in memory on first
use (never written at import); `python -m pydtrace.lang.parser --write-tables`
writes pydtrace/lang/parsetab.py (and the lexer's lextab.py), which is then
loaded instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import ply.yacc as yacc

from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.lexer import KEYWORDS_TYPE, Lit, make_lexer, raw_text, write_table
from pydtrace.lang.lexer import tokens as _lex_tokens

# KEYWORD (D keywords with no rule) is left out: one is a syntax error.
tokens = tuple(t for t in _lex_tokens if t != "KEYWORD")

start = "program"


def _line(p: Any, n: int) -> int:
    return p.lineno(n) or p.lexer.lineno


precedence = (
    ("nonassoc", "IFX"),
    ("nonassoc", "ELSE"),
)


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


def p_item_decl(p: Any) -> None:
    """item : declaration
    | inline_definition
    | translator_definition"""
    p[0] = p[1]


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
        raise DError(
            "D_PDESC_INVAL",
            f'invalid probe description "{text}": Overspecified probe description',
            line,
        )
    fields = [""] * (4 - len(fields)) + fields
    return ast.ProbeDesc(line, text, *fields)


def p_pred_opt(p: Any) -> None:
    """pred_opt : SLASH expression EPRED
    | empty"""
    p[0] = p[2] if len(p) == 4 else None


def p_body_opt(p: Any) -> None:
    """body_opt : LBRACE statements RBRACE
    | empty"""
    p[0] = p[2] if len(p) == 4 else None


# --- statements --------------------------------------------------------------


def p_statements(p: Any) -> None:
    """statements : statement_seq
    | statement_seq expression"""
    p[0] = p[1] if len(p) == 2 else p[1] + [p[2]]


def p_statement_seq(p: Any) -> None:
    """statement_seq : empty
    | statement_seq statement"""
    if len(p) == 2:
        p[0] = []
    else:
        p[0] = p[1] + ([p[2]] if p[2] is not None else [])


def p_statement(p: Any) -> None:
    """statement : SEMI
    | expression SEMI"""
    p[0] = p[1] if len(p) == 3 else None


def p_statement_if(p: Any) -> None:
    """statement : IF LPAREN expression RPAREN embedded %prec IFX
    | IF LPAREN expression RPAREN embedded ELSE embedded"""
    p[0] = ast.If(_line(p, 1), p[3], p[5], p[7] if len(p) == 8 else None)


def p_embedded(p: Any) -> None:
    """embedded : LBRACE statements RBRACE
    | statement"""
    if len(p) == 4:
        p[0] = p[2]
    else:
        p[0] = [p[1]] if p[1] is not None else []


# --- expressions ---------------------------------------------------------------


def p_expression(p: Any) -> None:
    """expression : assignment_expression
    | expression COMMA assignment_expression"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Binary(p[1].line, ",", p[1], p[3])


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


def p_constant_expression(p: Any) -> None:
    """constant_expression : conditional_expression"""
    p[0] = p[1]


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


def p_unary_expression(p: Any) -> None:
    """unary_expression : postfix_expression
    | INC unary_expression
    | DEC unary_expression
    | unary_operator cast_expression
    | STRINGOF unary_expression"""
    if len(p) == 2:
        p[0] = p[1]
    elif p[1] in ("++", "--"):
        p[0] = ast.Assign(_line(p, 1), p[1], p[2], None, prefix=True)
    else:
        p[0] = ast.Unary(_line(p, 1), p[1], p[2])


def p_unary_operator(p: Any) -> None:
    """unary_operator : AND
    | TIMES
    | PLUS
    | MINUS
    | NOT
    | LNOT"""
    p[0] = p[1]


def p_unary_sizeof(p: Any) -> None:
    """unary_expression : SIZEOF unary_expression
    | SIZEOF LPAREN type_name RPAREN"""
    p[0] = ast.Sizeof(_line(p, 1), p[2] if len(p) == 3 else p[3])


def p_unary_offsetof(p: Any) -> None:
    """unary_expression : OFFSETOF LPAREN type_name COMMA member_name RPAREN"""
    p[0] = ast.Offsetof(_line(p, 1), p[3], p[5])


def p_postfix_xlate(p: Any) -> None:
    """postfix_expression : XLATE LT type_name GT LPAREN expression RPAREN"""
    p[0] = ast.Xlate(_line(p, 1), p[3], p[6])


def p_postfix_expression(p: Any) -> None:
    """postfix_expression : primary_expression
    | postfix_expression INC
    | postfix_expression DEC"""
    if len(p) == 2:
        p[0] = p[1]
    else:
        p[0] = ast.Assign(p[1].line, p[2], p[1], None, prefix=False)


def p_postfix_call(p: Any) -> None:
    """postfix_expression : IDENT LPAREN RPAREN
    | IDENT LPAREN argument_list RPAREN"""
    p[0] = ast.Call(_line(p, 1), p[1], p[3] if len(p) == 5 else [])


def p_postfix_index(p: Any) -> None:
    """postfix_expression : postfix_expression LBRACKET argument_list RBRACKET"""
    p[0] = ast.Index(p[1].line, p[1], p[3])


def p_postfix_member(p: Any) -> None:
    """postfix_expression : postfix_expression DOT member_name
    | postfix_expression ARROW member_name"""
    p[0] = ast.Member(p[1].line, p[2], p[1], p[3])


def p_member_name(p: Any) -> None:
    """member_name : IDENT
    | TNAME"""
    p[0] = p[1]


def p_argument_list(p: Any) -> None:
    """argument_list : assignment_expression
    | argument_list COMMA assignment_expression"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]


def p_primary_ident(p: Any) -> None:
    """primary_expression : IDENT"""
    p[0] = ast.Ident(_line(p, 1), p[1])


def p_primary_scoped(p: Any) -> None:
    """primary_expression : THIS ARROW member_name
    | SELF ARROW member_name"""
    p[0] = ast.ScopedVar(_line(p, 1), p[1], p[3])


def p_primary_agg(p: Any) -> None:
    """primary_expression : AGG
    | AGG LBRACKET argument_list RBRACKET"""
    p[0] = ast.Agg(_line(p, 1), p[1][1:], p[3] if len(p) == 5 else None)


def p_primary_macro(p: Any) -> None:
    """primary_expression : MACRO"""
    p[0] = ast.Macro(_line(p, 1), p[1])


def p_primary_symbol(p: Any) -> None:
    """primary_expression : SYMBOL"""
    mod, _, name = p[1].partition("`")
    p[0] = ast.Symbol(_line(p, 1), mod, name)


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


# --- declarations ----------------------------------------------------------------


def p_declaration(p: Any) -> None:
    """declaration : decl_specifiers SEMI
    | decl_specifiers init_declarator_list SEMI"""
    specs = p[1]
    decls = p[2] if len(p) == 4 else []
    if not decls and len(specs.words) > 1 and specs.words[-1] not in KEYWORDS_TYPE:
        # "T1 T2;" where T2 is already a type name: dt_decl_spec's rule
        name = specs.words[-1]
        if "typedef" in specs.storage:
            raise DError("D_DECL_IDRED", f"identifier redeclared: {name}", specs.line)
        specs.words.pop()
        decls = [ast.Declarator(specs.line, "name", None, name)]
    p[0] = ast.Decl(specs.line, specs, decls)


def p_init_declarator_list(p: Any) -> None:
    """init_declarator_list : declarator
    | init_declarator_list COMMA declarator"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]
    # a typedef name is a type name from its declarator on (the lexer may
    # already be looking at the next token, so do not wait for the ';')
    specs = p[-1]
    if isinstance(specs, ast.DeclSpecs) and "typedef" in specs.storage:
        name = p[0][-1].ident
        if name:
            p.parser.typedefs.add(name)


def p_inline_definition(p: Any) -> None:
    """inline_definition : INLINE decl_specifiers declarator ASSIGN expression SEMI"""
    p[0] = ast.InlineDecl(_line(p, 1), p[2], p[3], p[5])


def p_translator_definition(p: Any) -> None:
    """translator_definition : TRANSLATOR type_name LT type_name member_name GT \
LBRACE translator_members RBRACE SEMI"""
    p[0] = ast.Translator(_line(p, 1), p[2], p[4], p[5], p[8])


def p_translator_members(p: Any) -> None:
    """translator_members : empty
    | translator_members member_name ASSIGN expression SEMI"""
    p[0] = [] if len(p) == 2 else p[1] + [(p[2], p[4], _line(p, 3))]


def p_decl_specifiers(p: Any) -> None:
    """decl_specifiers : decl_specifier
    | decl_specifiers decl_specifier"""
    specs = p[1] if len(p) == 3 else ast.DeclSpecs(p[1][2])
    kind, value, _ = p[len(p) - 1]
    _add_spec(specs, kind, value)
    p[0] = specs


def p_decl_specifier(p: Any) -> None:
    """decl_specifier : storage_class
    | type_specifier
    | type_qualifier"""
    p[0] = p[1]


def p_storage_class(p: Any) -> None:
    """storage_class : TYPEDEF
    | EXTERN
    | STATIC
    | REGISTER
    | AUTO
    | SELF
    | THIS"""
    p[0] = ("storage", p[1], _line(p, 1))


def p_type_qualifier(p: Any) -> None:
    """type_qualifier : CONST
    | VOLATILE
    | RESTRICT"""
    p[0] = ("qualifier", p[1], _line(p, 1))


def p_type_specifier(p: Any) -> None:
    """type_specifier : TYPEKW
    | TNAME
    | sou_specifier
    | enum_specifier"""
    if isinstance(p[1], str):
        p[0] = ("word", p[1], _line(p, 1))
    else:
        p[0] = ("sou", p[1], p[1].line)


_ATTRS = ("signed", "unsigned", "short", "long")


def _add_spec(specs: ast.DeclSpecs, kind: str, value: Any) -> None:
    if kind == "storage":
        specs.storage.append(value)
    elif kind == "qualifier":
        specs.qualifiers.append(value)
    elif kind == "word" and (specs.sou is None or value in _ATTRS):
        specs.words.append(value)
    elif kind == "sou" and specs.sou is None and all(w in _ATTRS for w in specs.words):
        specs.sou = value
    else:
        raise DError("D_DECL_COMBO", "invalid type combination", specs.line)


def p_specifier_qualifier_list(p: Any) -> None:
    """specifier_qualifier_list : type_specifier
    | type_qualifier
    | specifier_qualifier_list type_specifier
    | specifier_qualifier_list type_qualifier"""
    specs = p[1] if len(p) == 3 else ast.DeclSpecs(p[1][2])
    kind, value, _ = p[len(p) - 1]
    _add_spec(specs, kind, value)
    p[0] = specs


def p_sou_specifier(p: Any) -> None:
    """sou_specifier : sou_kind any_name
    | sou_kind any_name LBRACE member_list RBRACE
    | sou_kind LBRACE member_list RBRACE"""
    kind, line = p[1]
    if len(p) == 3:
        p[0] = ast.StructSpec(line, kind, p[2], None)
    elif len(p) == 6:
        p[0] = ast.StructSpec(line, kind, p[2], p[4])
    else:
        p[0] = ast.StructSpec(line, kind, None, p[3])


def p_sou_kind(p: Any) -> None:
    """sou_kind : STRUCT
    | UNION"""
    p[0] = (p[1], _line(p, 1))


def p_any_name(p: Any) -> None:
    """any_name : IDENT
    | TNAME"""
    p[0] = p[1]


def p_member_list(p: Any) -> None:
    """member_list : member_declaration
    | member_list member_declaration"""
    p[0] = p[1] if len(p) == 2 else p[1] + p[2]


def p_member_declaration(p: Any) -> None:
    """member_declaration : specifier_qualifier_list member_declarator_list SEMI
    | specifier_qualifier_list SEMI"""
    if len(p) == 3:
        p[0] = [ast.MemberDecl(p[1].line, p[1], None, None)]
    else:
        p[0] = [ast.MemberDecl(p[1].line, p[1], d, bits) for d, bits in p[2]]


def p_member_declarator_list(p: Any) -> None:
    """member_declarator_list : member_declarator
    | member_declarator_list COMMA member_declarator"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]


def p_member_declarator(p: Any) -> None:
    """member_declarator : declarator
    | declarator COLON constant_expression
    | COLON constant_expression"""
    if len(p) == 2:
        p[0] = (p[1], None)
    elif len(p) == 4:
        p[0] = (p[1], p[3])
    else:
        p[0] = (None, p[2])


def p_enum_specifier(p: Any) -> None:
    """enum_specifier : ENUM any_name
    | ENUM any_name LBRACE enumerator_list comma_opt RBRACE
    | ENUM LBRACE enumerator_list comma_opt RBRACE"""
    line = _line(p, 1)
    if len(p) == 3:
        p[0] = ast.EnumSpec(line, p[2], None)
    elif len(p) == 7:
        p[0] = ast.EnumSpec(line, p[2], p[4])
    else:
        p[0] = ast.EnumSpec(line, None, p[3])


def p_comma_opt(p: Any) -> None:
    """comma_opt : COMMA
    | empty"""


def p_enumerator_list(p: Any) -> None:
    """enumerator_list : enumerator
    | enumerator_list COMMA enumerator"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]


def p_enumerator(p: Any) -> None:
    """enumerator : IDENT
    | IDENT ASSIGN constant_expression"""
    p[0] = (p[1], p[3] if len(p) == 4 else None, _line(p, 1))


def p_declarator(p: Any) -> None:
    """declarator : direct_declarator
    | pointer direct_declarator"""
    p[0] = p[1] if len(p) == 2 else _wrap_ptr(p[1], p[2])


def _wrap_ptr(n: int, inner: ast.Declarator | None) -> ast.Declarator:
    for _ in range(n):
        inner = ast.Declarator(inner.line if inner else 0, "ptr", inner)
    assert inner is not None
    return inner


def p_pointer(p: Any) -> None:
    """pointer : TIMES
    | TIMES type_qualifier_list
    | TIMES pointer
    | TIMES type_qualifier_list pointer"""
    p[0] = 1 + (p[len(p) - 1] if len(p) > 2 and isinstance(p[len(p) - 1], int) else 0)


def p_type_qualifier_list(p: Any) -> None:
    """type_qualifier_list : type_qualifier
    | type_qualifier_list type_qualifier"""
    p[0] = None


def p_direct_declarator_name(p: Any) -> None:
    """direct_declarator : IDENT"""
    p[0] = ast.Declarator(_line(p, 1), "name", None, p[1])


def p_direct_declarator_paren(p: Any) -> None:
    """direct_declarator : LPAREN declarator RPAREN"""
    p[0] = p[2]


def p_direct_declarator_array(p: Any) -> None:
    """direct_declarator : direct_declarator LBRACKET array_dim RBRACKET"""
    p[0] = ast.Declarator(p[1].line, "array", p[1], dim=p[3])


def p_direct_declarator_func(p: Any) -> None:
    """direct_declarator : direct_declarator LPAREN parameters RPAREN"""
    params, variadic = p[3]
    p[0] = ast.Declarator(p[1].line, "func", p[1], params=params, variadic=variadic)


def p_array_dim(p: Any) -> None:
    """array_dim : empty
    | constant_expression
    | parameter_list"""
    p[0] = p[1]


def p_parameters(p: Any) -> None:
    """parameters : empty
    | parameter_list
    | parameter_list COMMA ELLIPSIS
    | ELLIPSIS"""
    if p[1] is None:
        p[0] = ([], False)
    elif p[1] == "...":
        p[0] = ([], True)
    else:
        p[0] = (p[1], len(p) == 4)


def p_parameter_list(p: Any) -> None:
    """parameter_list : parameter_declaration
    | parameter_list COMMA parameter_declaration"""
    p[0] = [p[1]] if len(p) == 2 else p[1] + [p[3]]


def p_parameter_declaration(p: Any) -> None:
    """parameter_declaration : decl_specifiers declarator
    | decl_specifiers abstract_declarator_opt"""
    d = p[2] if p[2] is not None else ast.Declarator(p[1].line, "name")
    p[0] = ast.ParamDecl(p[1].line, p[1], d)


def p_type_name(p: Any) -> None:
    """type_name : specifier_qualifier_list abstract_declarator_opt"""
    d = p[2] if p[2] is not None else ast.Declarator(p[1].line, "name")
    p[0] = ast.TypeName(p[1].line, p[1], d)


def p_abstract_declarator_opt(p: Any) -> None:
    """abstract_declarator_opt : empty
    | abstract_declarator"""
    p[0] = p[1]


def p_abstract_declarator(p: Any) -> None:
    """abstract_declarator : pointer
    | direct_abstract_declarator
    | pointer direct_abstract_declarator"""
    if len(p) == 3:
        p[0] = _wrap_ptr(p[1], p[2])
    elif isinstance(p[1], int):
        p[0] = _wrap_ptr(p[1], ast.Declarator(0, "name"))
    else:
        p[0] = p[1]


def p_direct_abstract_declarator(p: Any) -> None:
    """direct_abstract_declarator : LPAREN abstract_declarator RPAREN
    | LBRACKET array_dim RBRACKET
    | direct_abstract_declarator LBRACKET array_dim RBRACKET
    | LPAREN parameters RPAREN
    | direct_abstract_declarator LPAREN parameters RPAREN"""
    if len(p) == 4 and p[1] == "(" and isinstance(p[2], ast.Declarator):
        p[0] = p[2]
    elif len(p) == 4 and p[1] == "[":
        p[0] = ast.Declarator(_line(p, 1), "array", ast.Declarator(0, "name"), dim=p[2])
    elif len(p) == 4:
        params, variadic = p[2]
        p[0] = ast.Declarator(
            _line(p, 1), "func", ast.Declarator(0, "name"), params=params, variadic=variadic
        )
    elif p[2] == "[":
        p[0] = ast.Declarator(p[1].line, "array", p[1], dim=p[3])
    else:
        params, variadic = p[3]
        p[0] = ast.Declarator(p[1].line, "func", p[1], params=params, variadic=variadic)


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


class _Inspect:
    """ply.yacc's ``inspect`` while it reflects on the grammar.  All it asks
    is getmodule() of each p_ function, which inspect answers from the
    function's __module__ first; answered here the same way, so that a
    start does not import inspect (with ast, dis and tokenize) for it.
    Anything else goes to the real module."""

    @staticmethod
    def getmodule(obj: Any, *rest: Any) -> Any:
        name = getattr(obj, "__module__", None)
        if name is not None and not rest:
            return sys.modules.get(name)
        import inspect

        return inspect.getmodule(obj, *rest)

    def __getattr__(self, attr: str) -> Any:
        import inspect

        return getattr(inspect, attr)


def _build(write_tables: bool = False) -> Any:
    saved = yacc.inspect
    yacc.inspect = _Inspect()
    try:
        return _build_tables(write_tables)
    finally:
        yacc.inspect = saved


def _build_tables(write_tables: bool) -> Any:
    module = sys.modules[__name__]
    if write_tables:
        return yacc.yacc(
            module=module,
            tabmodule="parsetab",
            outputdir=_HERE,
            write_tables=True,
            debug=False,
            errorlog=yacc.NullLogger(),
        )
    try:
        from pydtrace.lang import parsetab  # noqa: F401

        tabmodule = "pydtrace.lang.parsetab"
    except ImportError:
        tabmodule = "pydtrace_lang_parsetab_unused"
    return yacc.yacc(
        module=module,
        tabmodule=tabmodule,
        write_tables=False,
        debug=False,
        errorlog=yacc.NullLogger(),
    )


def get_parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = _build()
    return _PARSER


def parse(text: str, is_typename: Callable[[str], bool] | None = None) -> ast.Program:
    """Parse a D program; raises DError (D_SYNTAX and lexical tags) only."""
    parser = get_parser()
    typedefs: set[str] = set()
    user = is_typename or (lambda name: False)
    lexer = make_lexer(lambda name: name in typedefs or user(name))
    parser.typedefs = typedefs
    try:
        prog = parser.parse(text, lexer=lexer)
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
        print(write_table())
        return 0
    print("usage: python -m pydtrace.lang.parser --write-tables", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
