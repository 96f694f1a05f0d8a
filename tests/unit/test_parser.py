import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.sema.types import TYPEDEFS


def p(text: str) -> ast.Program:
    return parse(text, lambda n: n in TYPEDEFS)


def shape(e: ast.Expr) -> object:
    if isinstance(e, ast.IntLit):
        return e.value
    if isinstance(e, ast.Ident):
        return e.name
    if isinstance(e, ast.StrLit):
        return repr(e.value)
    if isinstance(e, ast.Binary):
        return (e.op, shape(e.left), shape(e.right))
    if isinstance(e, ast.Unary):
        return (e.op, shape(e.operand))
    if isinstance(e, ast.Ternary):
        return ("?:", shape(e.cond), shape(e.then), shape(e.other))
    if isinstance(e, ast.Cast):
        return ("cast", " ".join(e.typename), shape(e.operand))
    if isinstance(e, ast.Assign):
        return (e.op, shape(e.target), None if e.value is None else shape(e.value))
    if isinstance(e, ast.Call):
        return ("call", e.name, *[shape(a) for a in e.args])
    if isinstance(e, ast.ScopedVar):
        return f"{e.scope}->{e.name}"
    raise AssertionError(e)


def expr(text: str) -> object:
    return shape(p(f"BEGIN {{ {text}; }}").clauses[0].stmts[0])


def test_probe_descriptions_are_right_aligned() -> None:
    c = p("BEGIN, read:entry, syscall::read:entry, fbt:m:f:n").clauses[0]
    assert [(d.provider, d.module, d.function, d.name) for d in c.descs] == [
        ("", "", "", "BEGIN"), ("", "", "read", "entry"),
        ("syscall", "", "read", "entry"), ("fbt", "m", "f", "n")]


def test_clauses_predicates_bodies() -> None:
    prog = p("BEGIN {} END /x/ { a; b } tick-1 { ;; c; }\nERROR")
    cs = prog.clauses
    assert len(cs) == 4
    assert cs[0].stmts == [] and cs[0].predicate is None
    assert shape(cs[1].predicate) == "x"
    assert [shape(s) for s in cs[1].stmts] == ["a", "b"]
    assert [shape(s) for s in cs[2].stmts] == ["c"]
    assert cs[3].line == 2 and cs[3].stmts == []


@pytest.mark.parametrize("text,tree", [
    ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
    ("1 - 2 - 3", ("-", ("-", 1, 2), 3)),
    ("a || b && c", ("||", "a", ("&&", "b", "c"))),
    ("a ^^ b || c", ("||", ("^^", "a", "b"), "c")),
    ("a == b < c", ("==", "a", ("<", "b", "c"))),
    ("a & b | c ^ d", ("|", ("&", "a", "b"), ("^", "c", "d"))),
    ("a << 1 + 2", ("<<", "a", ("+", 1, 2))),
    ("a ? b : c ? d : e", ("?:", "a", "b", ("?:", "c", "d", "e"))),
    ("-~!a", ("-", ("~", ("!", "a")))),
    ("(unsigned char)a + 1", ("+", ("cast", "unsigned char", "a"), 1)),
    ("(uint64_t)(a)", ("cast", "uint64_t", "a")),
    ("x = y = 3", ("=", "x", ("=", "y", 3))),
    ("x += 2", ("+=", "x", 2)),
    ("x++", ("++", "x", None)),
    ("this->x = 1", ("=", "this->x", 1)),
    ('printf("%d", 1, "a" "b")', ("call", "printf", "'%d'", 1, "'ab'")),
])
def test_expressions(text: str, tree: object) -> None:
    assert expr(text) == tree


def test_pragma_items() -> None:
    prog = p("#pragma D option quiet\nBEGIN {}\n#pragma D option bufsize=1m\n")
    assert [type(i).__name__ for i in prog.items] == ["Pragma", "Clause", "Pragma"]
    assert prog.items[2].words == ["pragma", "D", "option", "bufsize=1m"]
    assert prog.items[2].line == 3


@pytest.mark.parametrize("text,message,line", [
    ("BEGIN { x = ; }", 'syntax error near ";"', 1),
    ("BEGIN {\n trace(1)\n", "syntax error near end of input", 3),
    ("BEGIN { a + b = c; }", 'syntax error near "="', 1),
    ("BEGIN { 1 2 }", 'syntax error near "2"', 1),
    ('BEGIN\n{ trace("x" 1) }', 'syntax error near "1"', 2),
    ("BEGIN { sizeof(x) }", 'syntax error near "sizeof"', 1),
])
def test_syntax_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(DError) as ei:
        p(text)
    assert (ei.value.tag, ei.value.message, ei.value.line) == ("D_SYNTAX", message, line)


def test_overspecified_description() -> None:
    with pytest.raises(DError) as ei:
        p("a:b:c:d:e")
    assert ei.value.tag == "D_PDESC_INVAL"


ALPHABET = st.sampled_from(list("BEGIN{}()/;:,+-*%&|^!~<>=?'\"\\x01 \n\tabc_@#$`[].") +
                           ["this->", "0x", "#pragma D option ", "trace(", "printf("])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_junk_raises_derror_only(text: str) -> None:
    try:
        p(text)
    except DError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_raises_derror_only(text: str) -> None:
    try:
        p("BEGIN { " + text)
    except DError:
        pass
