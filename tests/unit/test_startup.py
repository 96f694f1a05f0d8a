"""Start-up: a command imports only what it needs, the prebuilt parser tables
are the grammar's (so nothing is regenerated at start), and the getopt-style
parse the CLI uses agrees with the click command built from the same table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ply import yacc

from pydtrace import cli_args
from pydtrace.cli_args import UsageError, parse_args
from pydtrace.lang import parser as P
from pydtrace.lang import parsetab

_SHOW_MODULES = """
import sys
from pydtrace.cli import main
rc = main(sys.argv[1:])
print(rc, " ".join(sorted(sys.modules)))
"""


def _modules_after(*argv: str) -> tuple[int, set[str]]:
    res = subprocess.run(
        [sys.executable, "-c", _SHOW_MODULES, *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    rc, _, names = res.stdout.strip().partition(" ")
    return int(rc), set(names.split())


# modules a compile-only run (-e) of a one-liner must not import
_NOT_FOR_COMPILING = (
    "click",
    "pydtrace.consume.loop",
    "pydtrace.consume.aggregate",
    "pydtrace.consume.jsonout",
    "pydtrace.consume.output",
    "pydtrace.runtime.kernel",
    "pydtrace.runtime.fbtnames",
    "pydtrace.target",
    "pydtrace.lang.cpp",
    "pydtrace.program.listing",
    "pydtrace.program.decode",
    "pydtrace.sema.btf",
)


def test_compile_only_imports_only_the_compiler():
    rc, mods = _modules_after("-e", "-n", "BEGIN { exit(0); }")
    assert rc == 0
    assert "pydtrace.compiler" in mods
    assert sorted(m for m in _NOT_FOR_COMPILING if m in mods) == []
    # inspect stays a stand-in: its body (and ast, dis, tokenize) never runs
    assert sorted(m for m in _INSPECTS_IMPORTS if m in mods) == []


# what importing inspect for real imports (~12 ms on the host, most of a
# second under emulation)
_INSPECTS_IMPORTS = ("ast", "dis", "tokenize", "linecache")

_DEFERRED = """
import sys
import pydtrace  # noqa: F401
import inspect
print(type(inspect).__name__, "ast" in sys.modules)
print(inspect.signature(divmod))
print(sys.modules["inspect"] is not inspect, type(sys.modules["inspect"]).__name__,
      inspect.getsource is sys.modules["inspect"].getsource, "ast" in sys.modules)
from inspect import isfunction
print(isfunction(print), isfunction(lambda: 0))
"""


def test_inspect_is_loaded_on_first_use():
    out = subprocess.run([sys.executable, "-c", _DEFERRED], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == [
        "_Deferred False",
        "(x, y, /)",
        "True module True True",
        "False True",
    ]


def test_every_dataclass_has_a_docstring():
    # dataclasses writes a signature into a class's missing __doc__ with
    # inspect.signature(): one such class imports inspect at every start
    import ast
    from pathlib import Path

    root = Path(P.__file__).resolve().parents[1]
    missing = []
    for f in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "dataclass" in ast.unparse(d) for d in node.decorator_list
            ):
                if ast.get_docstring(node) is None:
                    missing.append(f"{f.relative_to(root)}:{node.lineno} {node.name}")
    assert missing == []


def test_the_parsers_getmodule_is_inspects():
    import inspect

    funcs = [getattr(P, n) for n in dir(P) if n.startswith("p_")]
    assert len(funcs) > 50
    shim = P._Inspect()
    assert all(shim.getmodule(f) is inspect.getmodule(f) for f in funcs)
    assert shim.getmodule(P) is P and shim.getsourcefile is inspect.getsourcefile
    assert yacc.inspect is inspect or type(yacc.inspect).__name__ == "_Deferred"


_MAKE_PRINTER = """
import io, sys
from pydtrace.consume.loop import make_printer
p = make_printer(sys.argv[1], None, [], io.BytesIO())
print(type(p).__name__, "json" in sys.modules, "pydtrace.consume.jsonout" in sys.modules)
"""


def test_text_output_does_not_import_json():
    rc, mods = _modules_after("-e", "-n", "BEGIN { exit(0); }")
    assert rc == 0 and "json" not in mods
    got = {}
    for oformat in ("text", "json"):
        res = subprocess.run(
            [sys.executable, "-c", _MAKE_PRINTER, oformat],
            capture_output=True,
            text=True,
            check=True,
        )
        got[oformat] = res.stdout.split()
    assert got["text"] == ["Printer", "False", "False"]
    assert got["json"] == ["JsonPrinter", "True", "True"]


def test_each_option_imports_its_part():
    rc, mods = _modules_after("-Se", "-n", "BEGIN { exit(0); }")
    assert rc == 0 and "pydtrace.program.listing" in mods
    rc, mods = _modules_after("-Ce", "-n", "BEGIN { exit(0); }")
    assert rc == 0 and "pydtrace.lang.cpp" not in mods  # -n is never preprocessed
    # a program naming an identifier the lexer must check against kernel typedefs
    rc, mods = _modules_after("-e", "-n", "BEGIN { x = 1; exit(0); }")
    assert rc == 0 and "pydtrace.sema.btf" in mods


def test_prebuilt_parser_tables_are_the_grammars():
    pdict = {k: getattr(P, k) for k in dir(P)}
    pinfo = yacc.ParserReflect(pdict, log=yacc.NullLogger())
    pinfo.get_all()
    assert not pinfo.error
    assert parsetab._tabversion == yacc.__tabversion__
    assert parsetab._lr_signature == pinfo.signature(), (
        "stale pydtrace/lang/parsetab.py: run python -m pydtrace.lang.parser --write-tables"
    )


_ARGVS = [
    [],
    ["-n", "BEGIN"],
    ["-qn", "BEGIN", "-xbufsize=4m", "-c", "ls -l", "a"],
    ["-n", "BEGIN", "a", "-q", "b"],
    ["-eqSn", "BEGIN { exit(0); }"],
    ["-n", "-q"],
    ["-nBEGIN", "-s", "x.d", "-P", "syscall", "-i42", "-o", "out"],
    ["-n", "A", "--", "-q", "--help"],
    ["--help"],
    ["-n", "A", "--help", "x"],
    ["-", "-n", "A", ""],
    ["-n=foo"],
    ["-x", "quiet", "-xdefaultargs", "-Zw", "-b", "1m", "-D", "X=1", "-I/tmp", "-U", "Y"],
    ["-n", "A", "-x"],
    ["-n"],
    ["-z"],
    ["-qz"],
    ["-1"],
    ["--foo"],
    ["--foo=bar"],
    ["--hel"],
    ["---"],
    ["--help=1"],
    ["-n", "A", "-p"],
]


@pytest.mark.parametrize("argv", _ARGVS, ids=[" ".join(a) or "(none)" for a in _ARGVS])
def test_parse_args_matches_the_click_command(argv):
    import click

    try:
        want: object = dict(cli_args.command.main(list(argv), standalone_mode=False))
    except click.NoSuchOption as e:
        want = f"illegal option -- {e.option_name.lstrip('-')[:1] or e.option_name}"
    except click.BadOptionUsage as e:
        want = f"option requires an argument -- {e.option_name.lstrip('-')}"
    try:
        got: object = parse_args(list(argv))
    except UsageError as e:
        got = str(e)
    assert got == want


_CONSUMER_IMPORTS = """
import sys
import pydtrace.consume.aggregate, pydtrace.consume.loop, pydtrace.consume.symbols
import pydtrace.runtime.kernel
print(" ".join(sorted(sys.modules)))
"""


def test_consumer_imports_leave_out_what_only_some_programs_use():
    # what Consumer._prepare_go imports before ENABLE: system() imports
    # subprocess (and threading), a quantize bar fractions (and decimal)
    out = subprocess.run([sys.executable, "-c", _CONSUMER_IMPORTS], capture_output=True,
                         text=True, check=True).stdout.split()
    assert "pydtrace.consume.histogram" in out
    assert [m for m in ("subprocess", "threading", "fractions", "decimal") if m in out] == []
    assert [m for m in _INSPECTS_IMPORTS if m in out] == []
