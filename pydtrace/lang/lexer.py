"""The D lexer (ply).

States, as in libdtrace's dt_lex.l:
  INITIAL  program level: probe descriptions, ',' '{' '/' and #pragma lines
  pred     a predicate expression; a '/' whose next non-blank character is
           end of input, ';', '{' or '/' closes it (EPRED), else it divides
  clause   a clause body, up to '}'
The lexer never imports the parser or the checker: type names are
recognised through the is_typename callback (pycparser's pattern).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import ply.lex as lex

from pydtrace.errors import DError

KEYWORDS_TYPE = (
    "char",
    "short",
    "int",
    "long",
    "signed",
    "unsigned",
    "void",
    "string",
    "float",
    "double",
    "_Bool",
)
# Keywords the grammar uses: each is its own token (the upper-cased word).
KEYWORDS_GRAMMAR = (
    "auto",
    "const",
    "else",
    "enum",
    "extern",
    "if",
    "inline",
    "offsetof",
    "register",
    "restrict",
    "sizeof",
    "static",
    "stringof",
    "struct",
    "translator",
    "typedef",
    "union",
    "volatile",
    "xlate",
)
# D keywords the grammar does not use: they lex as KEYWORD so that using one
# is a syntax error near it rather than an undefined identifier.
KEYWORDS_OTHER = (
    "break",
    "case",
    "continue",
    "counter",
    "default",
    "do",
    "for",
    "goto",
    "import",
    "probe",
    "provider",
    "return",
    "switch",
    "userland",
    "while",
)
# Words that start a declaration at program level (then lexed in "decl").
DECL_STARTS = frozenset(
    KEYWORDS_TYPE
    + (
        "const",
        "enum",
        "extern",
        "inline",
        "register",
        "restrict",
        "self",
        "static",
        "struct",
        "this",
        "translator",
        "typedef",
        "union",
        "volatile",
        "auto",
    )
)

tokens = (
    "PSPEC",
    "PRAGMA",
    "COMMA",
    "LBRACE",
    "RBRACE",
    "SLASH",
    "EPRED",
    "SEMI",
    "INT",
    "CHAR",
    "STRING",
    "IDENT",
    "TNAME",
    "TYPEKW",
    "KEYWORD",
    "THIS",
    "SELF",
    "PLUS",
    "MINUS",
    "TIMES",
    "DIVIDE",
    "MOD",
    "AND",
    "OR",
    "XOR",
    "LSHIFT",
    "RSHIFT",
    "NOT",
    "LNOT",
    "LT",
    "GT",
    "LE",
    "GE",
    "EQ",
    "NE",
    "LAND",
    "LOR",
    "LXOR",
    "QUESTION",
    "COLON",
    "ASSIGN",
    "ADD_EQ",
    "SUB_EQ",
    "MUL_EQ",
    "DIV_EQ",
    "MOD_EQ",
    "AND_EQ",
    "OR_EQ",
    "XOR_EQ",
    "LSH_EQ",
    "RSH_EQ",
    "INC",
    "DEC",
    "ARROW",
    "LPAREN",
    "RPAREN",
    "LBRACKET",
    "RBRACKET",
    "DOT",
    "AGG",
    "MACRO",
    "SYMBOL",
    "ELLIPSIS",
) + tuple(k.upper() for k in KEYWORDS_GRAMMAR)

states = (("pred", "exclusive"), ("clause", "exclusive"), ("decl", "exclusive"))


@dataclass(frozen=True)
class Lit:
    """A literal token's value: raw text (for messages) and decoded value."""

    raw: str
    value: object
    decimal: bool = True
    suffix: str = ""


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "?": "?",
}


def decode_escapes(body: str) -> str:
    """Decode D (C) escapes: \\n \\t ... octal \\ooo and hex \\xhh."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1 : j], 8) & 0xFF))
            i = j
        elif e == "x":
            j = i + 2
            while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2 : j], 16) & 0xFF) if j > i + 2 else "x")
            i = j
        else:
            out.append(_ESCAPES.get(e, e))
            i += 2
    return "".join(out)


_RESERVED: dict[str, str] = {"this": "THIS", "self": "SELF"}
_RESERVED.update({k: "TYPEKW" for k in KEYWORDS_TYPE})
_RESERVED.update({k: k.upper() for k in KEYWORDS_GRAMMAR})
_RESERVED.update({k: "KEYWORD" for k in KEYWORDS_OTHER})
_IDENT_RE = re.compile(r"[a-zA-Z_][a-zA-Z_0-9]*")


def _err(t: lex.LexToken, tag: str, msg: str) -> DError:
    return DError(tag, msg, t.lexer.lineno)


# --- everywhere ------------------------------------------------------------


def t_ANY_comment(t: lex.LexToken) -> None:
    r"/\*(.|\n)*?\*/|//[^\n]*"
    t.lexer.lineno += t.value.count("\n")


def t_ANY_unterminated_comment(t: lex.LexToken) -> None:
    r"/\*"
    raise _err(t, "D_SYNTAX", "end-of-file encountered before matching */")


def t_ANY_PRAGMA(t: lex.LexToken) -> lex.LexToken | None:
    r"\#[^\n]*"
    text = t.value[1:].strip()
    if text.startswith("!") or not text:
        return None  # #! interpreter line, null directive
    words = text.split()
    if words[0] == "line" and len(words) > 1:
        words = words[1:]
    if words[0].isdigit():
        # "#line N" / cpp's "# N file": the next line is line N
        t.lexer.lineno = int(words[0]) - 1
        return None
    return t


def t_ANY_newline(t: lex.LexToken) -> None:
    r"\n+"
    t.lexer.lineno += len(t.value)


t_ANY_ignore = " \t\r\f\v"


def t_ANY_error(t: lex.LexToken) -> None:
    raise _err(t, "D_SYNTAX", f"invalid character (0x{ord(t.value[0]):02x})")


# --- program level ----------------------------------------------------------


def t_PSPEC(t: lex.LexToken) -> lex.LexToken:
    r"[-$:0-9a-zA-Z_.?*\\\[\]!`]+"
    m = _IDENT_RE.match(t.value)
    if m is None or ":" in t.value:
        return t
    word = m.group(0)
    if word in DECL_STARTS or word not in ("BEGIN", "END", "ERROR") and t.lexer.is_typename(word):
        # a declaration: re-lex from the end of the word in the decl state
        t.lexer.lexpos = t.lexpos + len(word)
        t.lexer.begin("decl")
        t.lexer.depth = 0
        t.value = word
        t.type = _RESERVED.get(word) or "TNAME"
    return t


def t_LBRACE(t: lex.LexToken) -> lex.LexToken:
    r"\{"
    t.lexer.begin("clause")
    t.lexer.depth = 0
    return t


def t_SLASH(t: lex.LexToken) -> lex.LexToken:
    r"/"
    t.lexer.begin("pred")
    return t


t_COMMA = r","


# --- expressions (predicate and clause) --------------------------------------


def t_pred_clause_decl_STRING(t: lex.LexToken) -> lex.LexToken:
    r'"(\\.|[^\\"\n])*"'
    t.value = Lit(t.value, decode_escapes(t.value[1:-1]))
    return t


def t_pred_clause_decl_bad_string(t: lex.LexToken) -> None:
    r'"'
    raise _err(t, "D_STR_NL", "newline encountered in string literal")


def t_pred_clause_decl_CHAR(t: lex.LexToken) -> lex.LexToken:
    r"'(\\.|[^\\'\n])*'"
    chars = decode_escapes(t.value[1:-1])
    if not chars:
        raise _err(t, "D_CHR_NULL", "empty character constant")
    if len(chars) > 4:
        raise _err(t, "D_CHR_OFLOW", "character constant is too long")
    value = 0
    for ch in chars:
        value = (value << 8) | (ord(ch) & 0xFF)
    t.value = Lit(t.value, value)
    return t


def t_pred_clause_decl_bad_char(t: lex.LexToken) -> None:
    r"'"
    raise _err(t, "D_CHR_NL", "newline encountered in character constant")


def t_pred_clause_decl_SYMBOL(t: lex.LexToken) -> lex.LexToken:
    r"([a-zA-Z0-9_][a-zA-Z0-9_.]*)?`[a-zA-Z_][a-zA-Z_0-9]*"
    # module`symbol: Linux module names (KBUILD_MODNAME) are [A-Za-z0-9_]
    # and may start with a digit (9pnet), so this rule comes before the
    # number rules; a module name is only one when a backquote follows
    # (9 and 9pnet alone still lex as numbers).
    return t


def t_pred_clause_decl_float(t: lex.LexToken) -> None:
    r"[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?[fFlL]?|\.[0-9]+([eE][-+]?[0-9]+)?[fFlL]?|[0-9]+[eE][-+]?[0-9]+[fFlL]?"
    # dt_lex.l's RGX_FP: D has floating-point types but no constants
    raise _err(t, "D_SYNTAX", "floating-point constants are not permitted")


def t_pred_clause_decl_INT(t: lex.LexToken) -> lex.LexToken:
    r"(0[xX][0-9a-zA-Z]*|[0-9][0-9a-zA-Z]*)"
    raw = t.value
    body = raw.rstrip("uUlL")
    suffix = raw[len(body) :]
    s = suffix.lower()
    if s not in ("", "u", "l", "ul", "lu", "ll", "ull", "llu"):
        raise _err(t, "D_INT_DIGIT", f"invalid digit in constant: {raw}")
    try:
        if body[:2].lower() == "0x":
            value, decimal = int(body[2:], 16), False
        elif body.startswith("0") and len(body) > 1:
            value, decimal = int(body[1:], 8), False
        else:
            value, decimal = int(body, 10), True
    except ValueError:
        kind = "octal " if body.startswith("0") and body[:2].lower() != "0x" else ""
        raise _err(t, "D_INT_DIGIT", f"invalid digit in {kind}constant: {raw}") from None
    if value >= 1 << 64:
        raise _err(t, "D_INT_OFLOW", f"integer constant overflow: {raw}")
    t.value = Lit(raw, value, decimal, suffix)
    return t


def t_pred_clause_decl_MACRO(t: lex.LexToken) -> lex.LexToken:
    r"\$\$?[a-zA-Z0-9_]+"
    return t


def t_pred_clause_decl_AGG(t: lex.LexToken) -> lex.LexToken:
    r"@[a-zA-Z_0-9]*"
    return t


def t_pred_clause_decl_IDENT(t: lex.LexToken) -> lex.LexToken:
    r"[a-zA-Z_][a-zA-Z_0-9]*"
    kind = _RESERVED.get(t.value)
    if kind is not None:
        t.type = kind
    elif t.lexer.is_typename(t.value):
        t.type = "TNAME"
    return t


def t_clause_decl_RBRACE(t: lex.LexToken) -> lex.LexToken:
    r"\}"
    if t.lexer.depth > 0:
        t.lexer.depth -= 1
    elif t.lexer.current_state() == "clause":
        t.lexer.begin("INITIAL")
    return t


def t_clause_decl_LBRACE(t: lex.LexToken) -> lex.LexToken:
    r"\{"
    t.lexer.depth += 1
    return t


def t_decl_SEMI(t: lex.LexToken) -> lex.LexToken:
    r";"
    if t.lexer.depth == 0:
        t.lexer.begin("INITIAL")
    return t


def t_pred_DIVIDE(t: lex.LexToken) -> lex.LexToken:
    r"/(?!=)"
    data = t.lexer.lexdata
    i = t.lexer.lexpos
    while i < len(data) and data[i] in " \t\r\n\f\v":
        i += 1
    if i >= len(data) or data[i] in ";{/":
        t.type = "EPRED"
        t.lexer.begin("INITIAL")
    return t


t_clause_decl_DIVIDE = r"/"
t_pred_clause_decl_ELLIPSIS = r"\.\.\."
t_pred_clause_decl_LSH_EQ = r"<<="
t_pred_clause_decl_RSH_EQ = r">>="
t_pred_clause_decl_ARROW = r"->"
t_pred_clause_decl_INC = r"\+\+"
t_pred_clause_decl_DEC = r"--"
t_pred_clause_decl_LSHIFT = r"<<"
t_pred_clause_decl_RSHIFT = r">>"
t_pred_clause_decl_LE = r"<="
t_pred_clause_decl_GE = r">="
t_pred_clause_decl_EQ = r"=="
t_pred_clause_decl_NE = r"!="
t_pred_clause_decl_LAND = r"&&"
t_pred_clause_decl_LOR = r"\|\|"
t_pred_clause_decl_LXOR = r"\^\^"
t_pred_clause_decl_ADD_EQ = r"\+="
t_pred_clause_decl_SUB_EQ = r"-="
t_pred_clause_decl_MUL_EQ = r"\*="
t_pred_clause_decl_DIV_EQ = r"/="
t_pred_clause_decl_MOD_EQ = r"%="
t_pred_clause_decl_AND_EQ = r"&="
t_pred_clause_decl_OR_EQ = r"\|="
t_pred_clause_decl_XOR_EQ = r"\^="
t_pred_clause_decl_PLUS = r"\+"
t_pred_clause_decl_MINUS = r"-"
t_pred_clause_decl_TIMES = r"\*"
t_pred_clause_decl_MOD = r"%"
t_pred_clause_decl_AND = r"&"
t_pred_clause_decl_OR = r"\|"
t_pred_clause_decl_XOR = r"\^"
t_pred_clause_decl_NOT = r"~"
t_pred_clause_decl_LNOT = r"!"
t_pred_clause_decl_LT = r"<"
t_pred_clause_decl_GT = r">"
t_pred_clause_decl_QUESTION = r"\?"
t_pred_clause_decl_COLON = r":"
t_pred_clause_decl_ASSIGN = r"="
t_pred_clause_decl_LPAREN = r"\("
t_pred_clause_decl_RPAREN = r"\)"
t_pred_clause_decl_LBRACKET = r"\["
t_pred_clause_decl_RBRACKET = r"\]"
t_pred_clause_decl_DOT = r"\."
t_pred_clause_SEMI = r";"
t_pred_clause_decl_COMMA = r","

_MASTER: lex.Lexer | None = None
_HERE = os.path.dirname(os.path.abspath(__file__))


def rules_fingerprint() -> str:
    """Everything ply builds the lexer from (tokens, states, literals, each
    t_ rule's regex and, for a function, the line that orders it): a prebuilt
    table (pydtrace/lang/lextab.py) is used only when it was built from the
    same."""
    mod = sys.modules[__name__]
    rules = []
    for name in sorted(vars(mod)):
        if not name.startswith("t_"):
            continue
        v = getattr(mod, name)
        if callable(v):
            rules.append((name, getattr(v, "regex", v.__doc__), v.__code__.co_firstlineno))
        else:
            rules.append((name, v))
    return repr((lex.__version__, tokens, states, getattr(mod, "literals", ""), rules))


def _build() -> lex.Lexer:
    mod = sys.modules[__name__]
    try:
        from pydtrace.lang import lextab  # type: ignore[attr-defined]
    except ImportError:
        lextab = None
    if (
        lextab is not None
        and getattr(lextab, "_tabversion", None) == lex.__tabversion__
        and getattr(lextab, "_rules_fingerprint", None) == rules_fingerprint()
    ):
        # ply's optimized build: the master regexes from the table, without
        # the validation pass (which reads this file's source back)
        lx = lex.lex(module=mod, optimize=True, lextab=lextab, errorlog=lex.NullLogger())
        lx.lexoptimize = False  # keep the unoptimized lexer's token-type check
        return lx
    return lex.lex(module=mod, optimize=False, errorlog=lex.NullLogger())


def write_table() -> str:
    """Write pydtrace/lang/lextab.py (``python -m pydtrace.lang.parser
    --write-tables``); its path."""
    lx = lex.lex(module=sys.modules[__name__], optimize=False, errorlog=lex.NullLogger())
    lx.writetab("lextab", _HERE)
    path = os.path.join(_HERE, "lextab.py")
    with open(path, "a") as f:
        f.write(f"_rules_fingerprint = {rules_fingerprint()!r}\n")
    return path


def make_lexer(is_typename: Callable[[str], bool] | None = None) -> lex.Lexer:
    """A fresh lexer (cloned from one built on first use; nothing is written)."""
    global _MASTER
    if _MASTER is None:
        _MASTER = _build()
    lx = _MASTER.clone()
    lx.begin("INITIAL")
    lx.lineno = 1
    lx.is_typename = is_typename or (lambda name: False)
    lx.depth = 0
    return lx


def raw_text(tok: lex.LexToken) -> str:
    """The token as written (libdtrace's yytext)."""
    v = tok.value
    return v.raw if isinstance(v, Lit) else str(v)


def tokenize(text: str, is_typename: Callable[[str], bool] | None = None) -> list[tuple[str, str]]:
    """(type, raw text) of every token; for tests and debugging."""
    lx = make_lexer(is_typename)
    lx.input(text)
    return [(t.type, raw_text(t)) for t in iter(lx.token, None)]
