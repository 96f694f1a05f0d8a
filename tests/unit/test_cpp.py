import shutil

import pytest

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.lang.cpp import preprocess

pytestmark = pytest.mark.skipif(shutil.which("cpp") is None, reason="no cpp")

SRC = """#!/usr/sbin/dtrace -Cs
#define LIMIT (N * 2)
#ifdef EXTRA
#error extra
#endif
BEGIN
{
	trace(LIMIT);
	trace(nosuch);
}
"""


def test_defines_reach_the_program_and_lines_survive() -> None:
    out = preprocess(SRC, defines=["N=21"], undefs=["EXTRA"])
    assert "trace((21 * 2));" in out
    with pytest.raises(DError) as ei:
        Compiler().compile(out, kind="script", label="c.d")
    # the error names the line of the original file, through cpp's line markers
    assert (ei.value.tag, ei.value.line) == ("D_IDENT_UNDEF", 9)


def test_include_directories(tmp_path: object) -> None:
    import pathlib

    d = pathlib.Path(str(tmp_path))
    (d / "defs.h").write_text("#define VALUE 7\n")
    out = preprocess('#include "defs.h"\nBEGIN { trace(VALUE); }\n', incdirs=[str(d)])
    assert "trace(7);" in out
    Compiler().compile(out, kind="script", label="c.d")


def test_preprocessor_failure_is_a_library_error() -> None:
    with pytest.raises(DError) as ei:
        preprocess(SRC, defines=["EXTRA"])
    assert (ei.value.tag, ei.value.message) == (
        "EDT_CPPERR", "Preprocessor failed to process input program")
