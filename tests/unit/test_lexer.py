import pytest

from pydtrace.errors import DError
from pydtrace.lang.lexer import decode_escapes, make_lexer, tokenize


def types(text: str) -> list[str]:
    return [t for t, _ in tokenize(text)]


def test_probe_descriptions_at_program_level() -> None:
    assert tokenize("syscall::read:entry, fbt:vmlinux:do_*:return BEGIN") == [
        ("PSPEC", "syscall::read:entry"), ("COMMA", ","),
        ("PSPEC", "fbt:vmlinux:do_*:return"), ("PSPEC", "BEGIN")]


def test_clause_body_is_expression_state() -> None:
    assert types("BEGIN { x = 1; }") == ["PSPEC", "LBRACE", "IDENT", "ASSIGN", "INT",
                                          "SEMI", "RBRACE"]
    # after '}' we are back at program level: a:b is a probe description again
    assert types("BEGIN {} a:b") == ["PSPEC", "LBRACE", "RBRACE", "PSPEC"]


@pytest.mark.parametrize("text,expected", [
    ("/x/ {", ["SLASH", "IDENT", "EPRED", "LBRACE"]),
    ("/x / 2/ {", ["SLASH", "IDENT", "DIVIDE", "INT", "EPRED", "LBRACE"]),
    ("/x/", ["SLASH", "IDENT", "EPRED"]),
    ("/x/ /", ["SLASH", "IDENT", "EPRED", "SLASH"]),
])
def test_predicate_slash_lookahead(text: str, expected: list[str]) -> None:
    assert types("BEGIN " + text)[1:] == expected


def test_comments_and_lines() -> None:
    lx = make_lexer()
    lx.input("/* a\nb */ BEGIN // x\n{\n trace(1)\n}")
    toks = list(iter(lx.token, None))
    assert [(t.type, t.lineno) for t in toks][:3] == [("PSPEC", 2), ("LBRACE", 3),
                                                        ("IDENT", 4)]


def test_pragma_lines() -> None:
    assert tokenize("#pragma D option quiet\nBEGIN") == [
        ("PRAGMA", "#pragma D option quiet"), ("PSPEC", "BEGIN")]
    assert tokenize("#!/usr/sbin/dtrace -s\nBEGIN") == [("PSPEC", "BEGIN")]


def test_literals_keep_raw_text() -> None:
    assert tokenize('BEGIN { "a\\tb" \'c\' 0x1fUL 017 }')[2:5] == [
        ("STRING", '"a\\tb"'), ("CHAR", "'c'"), ("INT", "0x1fUL")]


def test_keywords_and_typenames() -> None:
    toks = tokenize("BEGIN { (unsigned int)(uint64_t)this->x; sizeof while }",
                    is_typename=lambda n: n == "uint64_t")
    assert ("TYPEKW", "unsigned") in toks and ("TNAME", "uint64_t") in toks
    assert ("THIS", "this") in toks and ("ARROW", "->") in toks
    assert ("SIZEOF", "sizeof") in toks and ("KEYWORD", "while") in toks


def test_program_level_declarations_switch_state() -> None:
    toks = tokenize("int*x; struct s { int a; }; BEGIN { } uint64_t y; a:b",
                    is_typename=lambda n: n == "uint64_t")
    assert toks[:4] == [("TYPEKW", "int"), ("TIMES", "*"), ("IDENT", "x"), ("SEMI", ";")]
    # braces inside a declaration do not end it; its ';' does
    assert ("PSPEC", "BEGIN") in toks and toks[-1] == ("PSPEC", "a:b")
    assert ("TNAME", "uint64_t") in toks and ("IDENT", "y") in toks


@pytest.mark.parametrize("text,expected", [
    ("`jiffies", [("SYMBOL", "`jiffies")]),
    ("vmlinux`max_pfn", [("SYMBOL", "vmlinux`max_pfn")]),
    # Linux module names may start with a digit; a backquote makes them one
    ("9pnet`p9_debug_level", [("SYMBOL", "9pnet`p9_debug_level")]),
    ("nf_conntrack_ipv4`x", [("SYMBOL", "nf_conntrack_ipv4`x")]),
    ("9 + 9", [("INT", "9"), ("PLUS", "+"), ("INT", "9")]),
    ("1-`x", [("INT", "1"), ("MINUS", "-"), ("SYMBOL", "`x")]),
    ("a-`x", [("IDENT", "a"), ("MINUS", "-"), ("SYMBOL", "`x")]),
    ("2*9p`x", [("INT", "2"), ("TIMES", "*"), ("SYMBOL", "9p`x")]),
    ("$1 $$2 $pid $target", [("MACRO", "$1"), ("MACRO", "$$2"), ("MACRO", "$pid"),
                             ("MACRO", "$target")]),
    ("@a @ @_x1", [("AGG", "@a"), ("AGG", "@"), ("AGG", "@_x1")]),
    ("f(a, ...)", [("IDENT", "f"), ("LPAREN", "("), ("IDENT", "a"), ("COMMA", ","),
                   ("ELLIPSIS", "..."), ("RPAREN", ")")]),
])
def test_d_specific_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert tokenize("BEGIN { " + text + " }")[2:-1] == expected


def test_nested_braces_stay_in_the_clause() -> None:
    toks = tokenize("BEGIN { if (x) { a:b } c } d:e")
    assert toks[-1] == ("PSPEC", "d:e")
    assert ("PSPEC", "a:b") not in toks


@pytest.mark.parametrize("body,value", [
    (r"a\nb", "a\nb"), (r"\t\\\"", "\t\\\""), (r"\101\x42", "AB"), (r"\0", "\0"),
])
def test_escapes(body: str, value: str) -> None:
    assert decode_escapes(body) == value


@pytest.mark.parametrize("text,tag", [
    ('BEGIN { "abc\n" }', "D_STR_NL"),
    ("BEGIN { '' }", "D_CHR_NULL"),
    ("BEGIN { 09 }", "D_INT_DIGIT"),
    ("BEGIN { 1zz }", "D_INT_DIGIT"),
    ("BEGIN { 9pnet }", "D_INT_DIGIT"),  # a module name only before a backquote
    ("BEGIN { 0x10000000000000000 }", "D_INT_OFLOW"),
    ("BEGIN { /* x ", "D_SYNTAX"),
    ("BEGIN { ` }", "D_SYNTAX"),
])
def test_lexical_errors(text: str, tag: str) -> None:
    with pytest.raises(DError) as ei:
        tokenize(text)
    assert ei.value.tag == tag
    assert ei.value.line == 1


@pytest.mark.parametrize("text", ["1.5", ".5", "1e5", "2.0f", "7.", "1E-3L"])
def test_floating_point_constants_are_refused(text: str) -> None:
    with pytest.raises(DError) as ei:
        tokenize(f"BEGIN {{ x = {text}; }}")
    assert ei.value.tag == "D_SYNTAX"
    assert str(ei.value) == "floating-point constants are not permitted"


@pytest.mark.parametrize("text", ["0x1e5", "15", "0x1E"])
def test_hex_with_e_digits_is_an_integer(text: str) -> None:
    assert ("INT", text) in tokenize(f"BEGIN {{ x = {text}; }}")
