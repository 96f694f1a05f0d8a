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
