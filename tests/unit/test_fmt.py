import pytest

from pydtrace import fmt
from pydtrace.errors import DError


def conv(text: str) -> fmt.Conversion:
    (c,) = fmt.conversions(fmt.parse(text))
    return c


def test_pieces_and_literals() -> None:
    f = fmt.parse("a %d, 100%% %s\n")
    assert [p if isinstance(p, str) else p.text for p in f.pieces] == \
        ["a ", "%d", ", 100% ", "%s", "\n"]
    assert fmt.parse("plain\n").pieces == ("plain\n",)


@pytest.mark.parametrize("text,flags,width,prec,length,c", [
    ("%d", "", None, None, "", "d"),
    ("%-8.3lld", "-", 8, 3, "ll", "d"),
    ("%08x", "0", 8, None, "", "x"),
    ("%-08x", "0", 8, None, "", "x"),       # libdtrace: a later '0' cancels '-'
    ("%0-8x", "-", 8, None, "", "x"),
    ("%+ #'u", "+ #'", None, None, "", "u"),
    ("%*.*s", "", -1, -1, "", "s"),
    ("%.s", "", None, 0, "", "s"),
    ("%?p", "", 16, None, "", "p"),
    ("%hd", "", None, None, "h", "d"),
    ("%lu", "", None, None, "l", "u"),
    ("%Lf", "", None, None, "L", "f"),
    ("%ws", "", None, None, "w", "s"),
    ("%Y", "", None, None, "", "Y"),
])
def test_conversions(text: str, flags: str, width, prec, length: str, c: str) -> None:
    got = conv(text)
    assert (got.text, got.flags, got.width, got.precision, got.length, got.conv) == \
        (text, flags, width, prec, length, c)


@pytest.mark.parametrize("text,message", [
    ("%q", "format conversion #1 is undefined: %q"),
    ("%d %", "format conversion #2 name expected before end of format string"),
    ("%1$d", "format conversion #1 uses unsupported positional format (%n$)"),
    ("%5%", "format conversion #1 cannot be combined with other format flags: %%"),
    ("%1.2.3d", "format conversion #1 has more than one '.' specified"),
    ("%hhd", "format conversion #1 is undefined: %hhd"),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(DError) as ei:
        fmt.parse(text)
    assert (ei.value.tag, ei.value.message) == ("D_SYNTAX", message)


def test_compiler_fills_signed() -> None:
    from pydtrace.compiler import Compiler
    c = Compiler()
    c.compile('BEGIN { printf("%d %d %d %s", 1, 1u, (char)1, "x"); }', kind="probe",
              label="p")
    (f,) = c.formats
    assert [x.signed for x in fmt.conversions(f)] == [True, False, True, False]
