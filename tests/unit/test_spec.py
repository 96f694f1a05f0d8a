"""Speculations in the compiler (dtrace-internals.md 3.7): the actions, their
prototypes, and libdtrace's ordering rules (dt_stmt_append) with its tags,
messages and the line of the statement that broke them."""

from __future__ import annotations

import pytest

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.program.decode import decode


def compile_(src: str) -> bytes:
    return Compiler().compile(src, kind="script", label="t.d").data


def error(src: str) -> DError:
    with pytest.raises(DError) as ei:
        compile_(src)
    return ei.value


@pytest.mark.parametrize(
    "body,tag,message",
    [
        ("speculate(1);\nspeculate(2);", "D_SPEC_SPEC", "speculate( ) may not follow speculate( )"),
        ("commit(1);\nspeculate(1);", "D_SPEC_COMM", "speculate( ) may not follow commit( )"),
        ("trace(1);\nspeculate(1);", "D_SPEC_DREC",
         "speculate( ) may not follow data-recording action(s)"),
        ("@a = count();\nspeculate(1);", "D_SPEC_DREC",
         "speculate( ) may not follow data-recording action(s)"),
        ("commit(1);\ncommit(1);", "D_COMM_COMM", "commit( ) may not follow commit( )"),
        ('printf("x");\ncommit(1);', "D_COMM_DREC",
         "commit( ) may not follow data-recording action(s)"),
        ("commit(1);\ntrace(2);", "D_DREC_COMM",
         "data-recording actions may not follow commit( )"),
        ("commit(1);\nexit(0);", "D_DREC_COMM",
         "data-recording actions may not follow commit( )"),
        ("stack();\nspeculate(1);", "D_SPEC_DREC",
         "speculate( ) may not follow data-recording action(s)"),
        ("sym(0);\nspeculate(1);", "D_SPEC_DREC",
         "speculate( ) may not follow data-recording action(s)"),
        ("commit(1);\nufunc(0);", "D_DREC_COMM",
         "data-recording actions may not follow commit( )"),
        ("commit(1);\n@a = count();", "D_AGG_COMM",
         "aggregating actions may not follow commit( )"),
        ("speculate(1);\n@a[1] = sum(2);", "D_AGG_SPEC",
         "aggregating actions may not follow speculate( )"),
        ("speculate(1);\nexit(0);", "D_EXIT_SPEC", "exit( ) may not follow speculate( )"),
        ('speculate(1);\ncopyoutstr("a", 0, 2);', "D_ACT_SPEC",
         "destructive actions may not follow speculate( )"),
    ],
)
def test_ordering_errors(body: str, tag: str, message: str) -> None:
    e = error("BEGIN\n{\n" + body + "\n}\n")
    assert (e.tag, e.message) == (tag, message)
    assert e.line == 4  # the second statement, the one appended last


def test_ordering_is_per_clause() -> None:
    # each clause is its own ECB: speculate after a recording clause is fine
    compile_("BEGIN { trace(1); } BEGIN { speculate(1); trace(2); } BEGIN { commit(1); }")


@pytest.mark.parametrize(
    "body",
    [
        "speculate(1); trace(1); printf(\"%d\", 2); x = 3;",
        "speculate(1); discard(1);",
        "speculate(1); commit(1);",
        "discard(1); commit(1); x = 1;",
        "commit(1); discard(2);",
        "x = 1; speculate(x); y = 2;",
    ],
)
def test_allowed_orders(body: str) -> None:
    compile_("BEGIN { " + body + " }")


@pytest.mark.parametrize("name", ["speculate", "commit", "discard"])
def test_prototypes(name: str) -> None:
    e = error(f"BEGIN {{ {name}(); }}")
    assert (e.tag, e.message) == ("D_PROTO_LEN",
                                  f"{name}( ) prototype mismatch: 0 args passed, 1 expected")
    e = error(f'BEGIN {{ {name}("a"); }}')
    assert e.tag == "D_PROTO_ARG"
    assert e.message == (f"{name}( ) argument #1 is incompatible with prototype:\n"
                         "\tprototype: int\n\t argument: string")
    e = error(f"BEGIN {{ x = {name}(1); }}")
    assert e.tag == "D_CG_EXPR"


def test_speculation_returns_int() -> None:
    e = error('BEGIN { x = speculation(); x = "a"; }')
    assert e.tag == "D_OP_INCOMPAT"


def test_actions_in_the_program() -> None:
    d = decode(compile_("BEGIN { self->s = speculation(); } "
                        "BEGIN { speculate(self->s); trace(1); } "
                        "BEGIN { commit(self->s); discard(2); }"))
    kinds = [[a.kind for a in e.acts] for e in d.ecbs]
    assert kinds == [
        [lib.DTRACEACT_DIFEXPR],
        [lib.DTRACEACT_SPECULATE, lib.DTRACEACT_DIFEXPR],
        [lib.DTRACEACT_COMMIT, lib.DTRACEACT_DISCARD],
    ]
    for e in d.ecbs[1:]:
        difo = d.difos[e.acts[0].difo]
        assert difo.rtype.kind == lib.DIF_TYPE_KIND_CTF and difo.rtype.flags == 0


def test_nspec_and_specsize_options() -> None:
    d = decode(compile_("#pragma D option nspec=4\n#pragma D option specsize=1k\n"
                        "BEGIN { exit(0); }"))
    assert (int(lib.DTRACEOPT_NSPEC), 4) in d.options
    assert (int(lib.DTRACEOPT_SPECSIZE), 1024) in d.options
