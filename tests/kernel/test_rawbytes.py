"""-x rawbytes against the real module: trace() of a string prints the whole
string record as dt_print_bytes()'s hex dump; without it, the string."""

from __future__ import annotations

import os

import pytest
from kutil import pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

PROG = 'BEGIN { trace("hello, world"); exit(0); }'
# dt_print_bytes: a newline, the column header (a 5-space margin, 6 more
# spaces, "  0" .. "  f", the characters' header), then 16 bytes a row
HEAD = "\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"
# "hello, world" NUL-padded to strsize=32, written out by hand
DUMP = (
    HEAD
    + "         0: 68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 00 00 00 00  hello, world....\n"
    + "        10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n"
)


def test_rawbytes_dumps_a_traced_string_quiet():
    p = pydtrace("-q", "-x", "rawbytes", "-x", "strsize=32", "-n", PROG)
    assert p.returncode == 0, p.stderr
    assert p.stdout == DUMP + "\n"


def test_rawbytes_dumps_after_the_probe_line():
    p = pydtrace("-x", "rawbytes", "-x", "strsize=32", "-n", PROG)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n", 2)
    assert lines[0] == "CPU     ID                    FUNCTION:NAME"
    assert lines[1].endswith(":BEGIN ")
    # the dump, then the record's end of line, then dtrace's final newline
    assert "\n" + lines[2] == DUMP + "\n\n"


def test_without_rawbytes_the_string_is_printed():
    p = pydtrace("-q", "-x", "strsize=32", "-n", PROG)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello, world\n"
    p = pydtrace("-x", "strsize=32", "-n", PROG)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[1].endswith(":BEGIN   hello, world" + " " * 21)


def test_the_rawbytes_pragma_turns_it_on(tmp_path):
    script = tmp_path / "raw.d"
    script.write_text(f"#pragma D option rawbytes\n#pragma D option strsize=32\n{PROG}\n")
    p = pydtrace("-q", "-s", str(script))
    assert p.returncode == 0, p.stderr
    assert p.stdout == DUMP + "\n"
