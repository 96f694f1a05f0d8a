"""Compile every program of the tests/dtest corpus on the host.

tst.*.d and drp.*.d must compile; err.D_TAG.*.d must fail with D_TAG (the second
dot-separated field of the name).  A leading comment may say
`@args: a b` (positional macro arguments $1..) or `@requires: btf` (needs
/sys/kernel/btf/vmlinux).  A print-and-reparse round trip checks the AST
printer against the parser on the whole corpus.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.lang.parser import parse
from pydtrace.lang.unparse import unparse
from pydtrace.sema.btf import kernel_types
from pydtrace.sema.types import TYPEDEFS

CORPUS = Path(__file__).resolve().parents[1] / "dtest"
FILES = sorted(p for p in CORPUS.glob("*.d") if p.name.startswith(("tst.", "drp.", "err.")))
HAVE_BTF = os.access("/sys/kernel/btf/vmlinux", os.R_OK)


def _directive(text: str, name: str) -> str | None:
    m = re.search(r"@" + name + r":\s*([^*\n]*)", text)
    return m.group(1).strip() if m else None


def compile_file(path: Path) -> object:
    text = path.read_text()
    args = _directive(text, "args")
    macro_args = [path.name] + (args.split() if args else [])
    return Compiler(macro_args=macro_args).compile(text, kind="script", label=path.name)


def test_corpus_is_there() -> None:
    assert len([f for f in FILES if f.name.startswith("tst.")]) >= 20
    assert len([f for f in FILES if f.name.startswith("err.")]) >= 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_program(path: Path) -> None:
    text = path.read_text()
    if _directive(text, "requires") == "btf" and not HAVE_BTF:
        pytest.skip("needs kernel BTF")
    if path.name.startswith(("tst.", "drp.")):
        compile_file(path)
        return
    tag = path.name.split(".")[1]
    with pytest.raises(DError) as ei:
        compile_file(path)
    assert ei.value.tag == tag, f"{ei.value.tag}: {ei.value.message}"
    assert ei.value.message and "\n" not in ei.value.message.split(":")[0]


@pytest.mark.parametrize("path", [f for f in FILES if not f.name.startswith("err.")],
                         ids=lambda p: p.name)
def test_print_and_reparse_round_trip(path: Path) -> None:
    text = unparse(parse(path.read_text(), _typename))
    assert unparse(parse(text, _typename)) == text


def _typename(name: str) -> bool:
    kernel = kernel_types()
    return name in TYPEDEFS and name != "string" or \
        kernel is not None and kernel.has_typedef(name)
