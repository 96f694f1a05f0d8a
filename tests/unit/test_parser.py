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
        return ("cast", tname(e.typename), shape(e.operand))
    if isinstance(e, ast.Member):
        return (e.op, shape(e.operand), e.name)
    if isinstance(e, ast.Index):
        return ("[]", shape(e.operand), *[shape(k) for k in e.keys])
    if isinstance(e, ast.Agg):
        return ("@" + e.name, *[shape(k) for k in e.keys or []])
    if isinstance(e, ast.Macro):
        return e.name
    if isinstance(e, ast.Symbol):
        return f"{e.module}`{e.name}"
    if isinstance(e, ast.Sizeof):
        op = e.operand
        return ("sizeof", tname(op) if isinstance(op, ast.TypeName) else shape(op))
    if isinstance(e, ast.Offsetof):
        return ("offsetof", tname(e.typename), e.member)
    if isinstance(e, ast.Xlate):
        return ("xlate", tname(e.typename), shape(e.operand))
    if isinstance(e, ast.Assign):
        return (e.op, shape(e.target), None if e.value is None else shape(e.value))
    if isinstance(e, ast.Call):
        return ("call", e.name, *[shape(a) for a in e.args])
    if isinstance(e, ast.ScopedVar):
        return f"{e.scope}->{e.name}"
    raise AssertionError(e)


def declarator(d: ast.Declarator | None) -> object:
    """The declarator as a C-like derivation string: name, then ptr/array/func."""
    if d is None:
        return None
    if d.kind == "name":
        return d.name or ""
    inner = declarator(d.inner)
    if d.kind == "ptr":
        return ("*", inner)
    if d.kind == "array":
        dim = d.dim
        if isinstance(dim, list):
            dim = tuple(" ".join(x.specs.words) for x in dim)
        elif dim is not None:
            dim = shape(dim)
        return ("[]", inner, dim)
    return ("()", inner, tuple(tname(ast.TypeName(0, x.specs, x.declarator))
                               for x in d.params or []), d.variadic)


def tname(t: ast.TypeName) -> object:
    sp = t.specs
    base = " ".join(sp.words) if sp.sou is None else \
        f"{getattr(sp.sou, 'kind', 'enum')} {sp.sou.name}"
    d = declarator(t.declarator)
    return base if d == "" else (base, d)


def stmt(s: ast.Stmt) -> object:
    if isinstance(s, ast.If):
        return ("if", shape(s.cond), [stmt(x) for x in s.then],
                None if s.other is None else [stmt(x) for x in s.other])
    return shape(s)


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
    ("(struct foo *)arg0", ("cast", ("struct foo", ("*", "")), "arg0")),
    ("(char **)a", ("cast", ("char", ("*", ("*", ""))), "a")),
    ("(int (*)[4])a", ("cast", ("int", ("[]", ("*", ""), 4)), "a")),
    ("(int (*)(char, ...))a", ("cast", ("int", ("()", ("*", ""), ("char",), True)), "a")),
    ("(const volatile unsigned long)a", ("cast", "unsigned long", "a")),
    ("a, b = 1", (",", "a", ("=", "b", 1))),
    ("a = b ? c : d, e", (",", ("=", "a", ("?:", "b", "c", "d")), "e")),
    ("x <<= y >>= 2", ("<<=", "x", (">>=", "y", 2))),
    ("a %= b |= c ^= d &= e", ("%=", "a", ("|=", "b", ("^=", "c", ("&=", "d", "e"))))),
    ("++x + y--", ("+", ("++", "x", None), ("--", "y", None))),
    ("*p++", ("*", ("++", "p", None))),
    ("&a->b[1].c", ("&", (".", ("[]", ("->", "a", "b"), 1), "c"))),
    ("-*&x", ("-", ("*", ("&", "x")))),
    ("sizeof (int) + sizeof x", ("+", ("sizeof", "int"), ("sizeof", "x"))),
    ("sizeof(struct s *)", ("sizeof", ("struct s", ("*", "")))),
    ("offsetof(struct s, m)", ("offsetof", "struct s", "m")),
    ("stringof(a) == \"x\"", ("==", ("stringof", "a"), "'x'")),
    ("xlate<struct psinfo *>(p)", ("xlate", ("struct psinfo", ("*", "")), "p")),
    ("a[1, 2][3]", ("[]", ("[]", "a", 1, 2), 3)),
    ("self->x[1] = this->y", ("=", ("[]", "self->x", 1), "this->y")),
    ("@a[1, \"k\"] = count()", ("=", ("@a", 1, "'k'"), ("call", "count"))),
    ("@ = sum(1)", ("=", ("@",), ("call", "sum", 1))),
    ("`jiffies + vmlinux`x", ("+", "`jiffies", "vmlinux`x")),
    ("$1 + $$2 + $pid", ("+", ("+", "$1", "$$2"), "$pid")),
    ("'ab' + '\\x41' + 0x10ULL + 017l", ("+", ("+", ("+", 0x6162, 0x41), 16), 15)),
    ("a ^^ b ^ c", ("^^", "a", ("^", "b", "c"))),
    ("a >= b != c <= d", ("!=", (">=", "a", "b"), ("<=", "c", "d"))),
    ("a % b * c / d", ("/", ("*", ("%", "a", "b"), "c"), "d")),
    ("x = (int)-1", ("=", "x", ("cast", "int", ("-", 1)))),
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
    ("BEGIN { while (1) { } }", 'syntax error near "while"', 1),
    ("BEGIN { (struct) x }", 'syntax error near ")"', 1),
    ("BEGIN { x = sizeof(int; }", 'syntax error near ";"', 1),
    ("int x\nBEGIN { }", 'syntax error near "BEGIN"', 2),
    ("BEGIN { if x { } }", 'syntax error near "x"', 1),
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
                           ["this->", "0x", "#pragma D option ", "trace(", "printf(",
                            "int ", "struct ", "typedef ", "if", "else", "sizeof",
                            "offsetof", "xlate", "inline ", "translator ", "enum ",
                            "self->", "uint64_t", "...", "$1"])


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


def test_grammar_builds_without_conflicts_or_warnings() -> None:
    import ply.yacc as yacc

    import pydtrace.lang.parser as P

    class Log:
        def __init__(self) -> None:
            self.messages: list[str] = []

        def warning(self, msg: str, *args: object) -> None:
            self.messages.append(msg % args)

        error = warning

        def info(self, msg: str, *args: object) -> None:
            pass

        debug = info

    log = Log()
    yacc.yacc(module=P, write_tables=False, debug=False, errorlog=log)
    assert log.messages == []


def test_if_else_statements() -> None:
    c = p("BEGIN { a = 1; if (x) b = 2; else if (y) { c; d } else { } e }").clauses[0]
    assert [stmt(s) for s in c.stmts] == [
        ("=", "a", 1),
        ("if", "x", [("=", "b", 2)], [("if", "y", ["c", "d"], [])]),
        "e"]
    c = p("BEGIN { if (a) if (b) x; else y; }").clauses[0]
    # the else binds to the nearest if
    assert stmt(c.stmts[0]) == ("if", "a", [("if", "b", ["x"], ["y"])], None)


def test_declarations() -> None:
    prog = p("typedef unsigned long ul_t;\nul_t a, *b[4];\nself int t;\n"
             "this char c;\nstatic string s;\nextern int f(int, char *, ...);\n"
             "int assoc[int, string];\nint (*fp)(void);\n")
    decls = [i for i in prog.items if isinstance(i, ast.Decl)]
    got = [(d.specs.storage, " ".join(d.specs.words),
            [declarator(x) for x in d.declarators]) for d in decls]
    assert got == [
        (["typedef"], "unsigned long", ["ul_t"]),
        ([], "ul_t", ["a", ("*", ("[]", "b", 4))]),
        (["self"], "int", ["t"]),
        (["this"], "char", ["c"]),
        (["static"], "string", ["s"]),
        (["extern"], "int", [("()", "f", ("int", ("char", ("*", ""))), True)]),
        ([], "int", [("[]", "assoc", ("int", "string"))]),
        ([], "int", [("()", ("*", "fp"), ("void",), False)]),
    ]


def test_typedef_names_become_type_names_in_the_same_program() -> None:
    prog = p("typedef int myint_t; BEGIN { x = (myint_t)1; }")
    assert shape(prog.clauses[0].stmts[0]) == ("=", "x", ("cast", "myint_t", 1))


def test_struct_union_enum_definitions() -> None:
    prog = p("struct s { int a : 3, : 0; char *b; struct s *next; union { int i; } u; };"
             "enum e { A, B = 5, C, };")
    s_, e_ = prog.items
    assert isinstance(s_, ast.Decl) and isinstance(s_.specs.sou, ast.StructSpec)
    members = s_.specs.sou.members
    assert members is not None
    assert [(declarator(m.declarator), m.bits and shape(m.bits)) for m in members] == [
        ("a", 3), (None, 0), (("*", "b"), None), (("*", "next"), None), ("u", None)]
    assert isinstance(e_, ast.Decl) and isinstance(e_.specs.sou, ast.EnumSpec)
    assert [(n, v and shape(v)) for n, v, _ in e_.specs.sou.enumerators or []] == [
        ("A", None), ("B", 5), ("C", None)]


def test_inline_and_translator() -> None:
    prog = p("inline int TEN = 5 * 2;\n"
             "translator struct out < struct in *P > { a = P->x; b = P->y + 1; };")
    inl, xl = prog.items
    assert isinstance(inl, ast.InlineDecl) and declarator(inl.declarator) == "TEN"
    assert shape(inl.value) == ("*", 5, 2)
    assert isinstance(xl, ast.Translator)
    assert (tname(xl.output), tname(xl.input), xl.param) == (
        "struct out", ("struct in", ("*", "")), "P")
    assert [(m, shape(e)) for m, e, _ in xl.members] == [
        ("a", ("->", "P", "x")), ("b", ("+", ("->", "P", "y"), 1))]


def test_probe_descriptions_with_globs_and_macros() -> None:
    c = p("syscall::*read*:entry, fbt:ext4:ext4_[a-f]*:return, pid$1:::entry {}")
    assert [d.text for d in c.clauses[0].descs] == [
        "syscall::*read*:entry", "fbt:ext4:ext4_[a-f]*:return", "pid$1:::entry"]


def test_walk_visits_everything() -> None:
    prog = p("BEGIN /a/ { if (b) { c = d[e] + f->g; } else h(i); }")
    names = {n.name for n in ast.walk(prog) if isinstance(n, ast.Ident)}
    assert names == {"a", "b", "e", "f", "i"} | {"c", "d"}
