from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydtrace.compiler import Compiler
from pydtrace.errors import TAGS, DError, render_compile_error


def compile_error(src: str) -> DError:
    with pytest.raises(DError) as ei:
        Compiler().compile(src, kind="probe", label=src)
    return ei.value


def render(err: DError, kind: str, label: str, errtags: bool = False) -> str:
    return render_compile_error(err, progname="dtrace", kind=kind, label=label,
                                errtags=errtags)


def test_registry() -> None:
    assert TAGS[:3] == ("D_UNKNOWN", "D_SYNTAX", "D_EMPTY")
    assert len(set(TAGS)) == len(TAGS)
    with pytest.raises(ValueError):
        DError("D_NO_SUCH_TAG", "x")


def test_syntax_error_rendering() -> None:
    err = compile_error("BEGIN { x = ; }")
    assert render(err, "probe", "BEGIN { x = ; }") == \
        'dtrace: invalid probe specifier BEGIN { x = ; }: syntax error near ";"'
    assert render(err, "probe", "BEGIN { x = ; }", errtags=True) == \
        'dtrace: invalid probe specifier BEGIN { x = ; }: [D_SYNTAX] syntax error near ";"'


def test_script_errors_carry_the_line() -> None:
    err = compile_error("BEGIN\n{\n x = ;\n}")
    assert render(err, "script", "x.d") == \
        'dtrace: failed to compile script x.d: line 3: syntax error near ";"'
    assert render(err, "script", "x.d", errtags=True) == \
        'dtrace: failed to compile script x.d: [D_SYNTAX] line 3: syntax error near ";"'


def test_semantic_errors_name_the_region_for_probe_specifiers() -> None:
    err = compile_error("BEGIN { trace(y); }")
    assert render(err, "probe", "BEGIN { trace(y); }") == (
        "dtrace: invalid probe specifier BEGIN { trace(y); }: in action list: "
        "failed to resolve y: Unknown variable name")
    err = compile_error('BEGIN /"s"/ { }')
    assert err.tag == "D_PRED_SCALAR"
    assert render(err, "probe", "P").endswith(": in predicate: "
                                              "predicate result must be of scalar type")


def test_library_errors_have_no_tag() -> None:
    deep = "1"
    for i in range(2, 12):
        deep = f"({i} + {deep})"
    err = compile_error(f"BEGIN {{ trace({deep}); }}")
    assert render(err, "probe", "P", errtags=True) == \
        "dtrace: invalid probe specifier P: Insufficient registers to generate code"


@pytest.mark.parametrize("src,tag,message", [
    ("BEGIN { trace(y); }", "D_IDENT_UNDEF", "failed to resolve y: Unknown variable name"),
    ("BEGIN { trace(this->z); }", "D_VAR_UNDEF",
     "this->z has not yet been declared or assigned"),
    ('BEGIN { trace("a" + 1); }', "D_OP_ARITH",
     "operator + requires operands of arithmetic type"),
    ('BEGIN { trace("a" % 1); }', "D_OP_INT",
     "operator % requires operands of integral type"),
    ('BEGIN { trace("a" == 1); }', "D_OP_INCOMPAT",
     'operands have incompatible types: "string" == "int"'),
    ("BEGIN { trace(1 / 0); }", "D_DIV_ZERO", "expression contains division by zero"),
    ("BEGIN { pid = 1; }", "D_OP_WRITE",
     "operator = can only be applied to a writable variable"),
    ("BEGIN { trace(1, 2); }", "D_PROTO_LEN",
     "trace( ) prototype mismatch: 2 args passed, 1 expected"),
    ("BEGIN { exit(); }", "D_PROTO_LEN",
     "exit( ) prototype mismatch: 0 args passed, 1 expected"),
    ("BEGIN { x = trace(1); }", "D_CG_EXPR",
     "trace( ) may not be called from a D expression (D program context required)"),
    ('BEGIN { printf("%d %d", 1); }', "D_PRINTF_ARG_PROTO",
     "printf( ) prototype mismatch: conversion #2 (%d) is missing a corresponding "
     "value argument"),
    ('BEGIN { printf("%d", 1, 2); }', "D_PRINTF_ARG_EXTRA",
     "printf( ) prototype mismatch: only 1 arguments required by this format string"),
    ('BEGIN { printf("%s", 1); }', "D_PRINTF_ARG_TYPE",
     "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
     "\tconversion: %s\n\t prototype: char [] or string (or use stringof)\n"
     "\t  argument: int"),
    ('BEGIN { printf("%%%ld", 1); }', "D_PRINTF_ARG_TYPE",
     "printf( ) argument #2 is incompatible with conversion #2 prototype:\n"
     "\tconversion: %ld\n\t prototype: long\n\t  argument: int"),
    ('BEGIN { printf("%q"); }', "D_SYNTAX", "format conversion #1 is undefined: %q"),
    ('BEGIN { printf(""); }', "D_PRINTF_FMT_EMPTY", "printf( ) format string is empty"),
    ("BEGIN { trace(99999999999999999999); }", "D_INT_OFLOW", None),
    ("BEGIN { trace(9223372036854775808); }", "D_INT_OFLOW",
     "integer constant 0x8000000000000000 cannot be represented in any built-in "
     "integral type"),
    ("#pragma D option nosuch\nBEGIN", "D_PRAGMA_OPTSET",
     "failed to set option 'nosuch': Invalid option name"),
    ("#pragma D option bufsize=zz\nBEGIN", "D_PRAGMA_OPTSET",
     "failed to set option 'bufsize': Invalid value for specified option"),
    ("", "D_EMPTY", "empty D program translation unit"),
])
def test_semantic_errors(src: str, tag: str, message: str | None) -> None:
    err = compile_error(src)
    assert err.tag == tag
    if message is not None:
        assert err.message == message


def test_failed_compile_leaves_consumer_state_alone() -> None:
    c = Compiler()
    with pytest.raises(DError):
        c.compile("BEGIN { x = 1; trace(nope); }", kind="probe", label="p")
    assert c.globals == {} and c.formats == []
    with pytest.raises(DError):
        c.compile("END { trace(x); }", kind="probe", label="p")


ALPHABET = st.sampled_from(["BEGIN", "{", "}", "/", ";", "x", "y", "=", "+", "(", ")",
                            "trace(", "printf(", "exit(", '"%d"', '"%s\\n"', ",", "1",
                            "this->a", "?", ":", "(int)", "&&", "!", "\n", " ", "==",
                            "pid", "execname", '"s"', "#pragma D option quiet\n",
                            "int ", "struct s { int a; };", "->", "*", "&", "[", "]",
                            "sizeof", "(struct s *)", "if (", "else", "enum e { A };",
                            "inline int I = 1;", "@a = count()", "$1", "`x", "typedef ",
                            "offsetof(struct s, a)", "stringof(", "0x"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_compiler_raises_derror_only(src: str) -> None:
    try:
        Compiler().compile(src, kind="probe", label="p")
    except DError:
        pass


def test_deep_nesting_is_a_compile_error_not_a_traceback() -> None:
    err = compile_error("BEGIN { trace(" + "(-" * 3000 + "1" + ")" * 3000 + "); }")
    assert (err.tag, err.message) == ("D_SYNTAX", "expression is nested too deeply")


def errors_of(err: DError) -> list[tuple[str, int | None, str | None]]:
    return [(e.tag, e.line, e.region) for e in err.errors]


def test_one_error_is_its_own_list() -> None:
    err = compile_error("BEGIN { trace(nope); }")
    assert err.errors == [err]


def test_errors_of_several_statements_are_collected_the_first_reported() -> None:
    src = 'BEGIN\n{\n\ttrace(nope);\n\tx = "a" * 2;\n\ttrace(1, 2);\n}\n'
    with pytest.raises(DError) as ei:
        Compiler().compile(src, kind="script", label="x.d")
    err = ei.value
    assert errors_of(err) == [
        ("D_IDENT_UNDEF", 3, "action list"),
        ("D_OP_ARITH", 4, "action list"),
        ("D_PROTO_LEN", 5, "action list"),
    ]
    assert err is err.errors[0]
    # reported: exactly the first, as dtrace(1) reports the one it stops at
    assert render(err, "script", "x.d", errtags=True) == (
        "dtrace: failed to compile script x.d: [D_IDENT_UNDEF] line 3: "
        "failed to resolve nope: Unknown variable name"
    )
    assert render(err, "script", "x.d") == render(err.errors[0], "script", "x.d")


def test_errors_of_declarations_clauses_and_predicates_in_order() -> None:
    # libdtrace cooks a clause's actions before its predicate: that order
    src = ("int x;\nint x[2];\n"                     # line 2: redeclared
           'BEGIN / "s" + 1 / { trace(nope); }\n'    # line 3: action, then predicate
           "END { @a = count(); @a = sum(1); }\n")    # line 4: aggregation redefined
    with pytest.raises(DError) as ei:
        Compiler().compile(src, kind="script", label="x.d")
    assert errors_of(ei.value) == [
        ("D_DECL_IDRED", 2, None),
        ("D_IDENT_UNDEF", 3, "action list"),
        ("D_OP_ARITH", 3, "predicate"),
        ("D_AGG_REDEF", 4, "action list"),
    ]
    assert str(ei.value) == "identifier redeclared: x"


def test_cli_reports_only_the_first_of_several_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydtrace.cli import main

    script = tmp_path / "x.d"
    script.write_text("BEGIN\n{\n\ttrace(1, 2);\n}\n\nEND\n{\n\ttrace(nope);\n}\n")
    assert main(["-e", "-xerrtags", "-s", str(script)], prog="pydtrace") == 1
    err = capsys.readouterr().err
    assert err == (f"pydtrace: failed to compile script {script}: [D_PROTO_LEN] line 3: "
                   "trace( ) prototype mismatch: 2 args passed, 1 expected\n")
    src = "BEGIN { trace(1, 2); } END { trace(nope); }"
    assert main(["-e", "-n", src], prog="pydtrace") == 1
    assert capsys.readouterr().err == (f"pydtrace: invalid probe specifier {src}: in action "
                                       "list: trace( ) prototype mismatch: 2 args passed, "
                                       "1 expected\n")


def test_consumer_compile_exposes_every_error() -> None:
    from pydtrace.api import Consumer

    with pytest.raises(DError) as ei:
        Consumer().compile("BEGIN { trace(a); } END { trace(b); }")
    assert [(e.tag, e.message) for e in ei.value.errors] == [
        ("D_IDENT_UNDEF", "failed to resolve a: Unknown variable name"),
        ("D_IDENT_UNDEF", "failed to resolve b: Unknown variable name"),
    ]


def test_syntax_errors_stop_at_the_first() -> None:
    # the parser does not recover: one syntax error, even with more
    err = compile_error("BEGIN { x = ; } END { y = ; }")
    assert errors_of(err) == [("D_SYNTAX", 1, None)]
