"""printf()'s floating-point and time conversions: what dtrace checks at
compile time (pfcheck_fp, pfcheck_type) and prints (pfprint_fp, pfprint_time)."""

from __future__ import annotations

import struct
import time

import pytest

from pydtrace import fmt
from pydtrace.consume.printf import PrintfError, format_printf
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.sema.check import Checker, Scope
from pydtrace.sema.decl import TypeEnv
from pydtrace.sema.macros import Macros


def check(src: str) -> list[ast.Expr]:
    """Declarations of src, then its clauses' statements, checked."""
    env = TypeEnv()
    checker = Checker(Scope(), env, Macros(["t.d"], {}, False))
    prog = parse(src, lambda n: env.is_typename(n))
    stmts: list[ast.Expr] = []
    for item in prog.items:
        if isinstance(item, ast.Clause):
            checker.check_clause(item)
            stmts += [s for s in item.stmts if isinstance(s, ast.Expr)]
        else:
            checker.declare(item)
    return stmts


def refusal(src: str) -> DError:
    with pytest.raises(DError) as info:
        check(src)
    return info.value


DECLS = "float f; double d; long double ld; typedef double real_t; real_t r; "


# -- compile time -------------------------------------------------------------------


@pytest.mark.parametrize("conv", ["e", "E", "f", "g", "G"])
@pytest.mark.parametrize(
    ("arg", "argtype"),
    [("3", "int"), ("3LL", "long long"), ('"x"', "string"), ("(double *)0", "double *")],
)
def test_floating_conversions_refuse_other_types(conv, arg, argtype):
    e = refusal(DECLS + f'BEGIN {{ printf("%{conv}", {arg}); }}')
    assert e.tag == "D_PRINTF_ARG_TYPE"
    assert e.message == (
        "printf( ) argument #2 is incompatible with conversion #1 prototype:\n"
        f"\tconversion: %{conv}\n\t prototype: float, double, or long double\n"
        f"\t  argument: {argtype}"
    )


@pytest.mark.parametrize("conv", ["e", "E", "f", "g", "G"])
def test_floating_conversions_take_float_double_and_long_double(conv):
    stmts = check(DECLS + f'BEGIN {{ printf("%{conv} %{conv} %{conv} %{conv}", f, d, ld, r); }}')
    call = stmts[0]
    assert isinstance(call, ast.Call)
    assert [c.conv for c in fmt.conversions(call.format)] == [conv] * 4  # type: ignore[attr-defined]


def test_the_L_modifier_takes_only_long_double():
    check(DECLS + 'BEGIN { printf("%Lf %Le %LG", ld, ld, ld); }')
    for arg, argtype in (("d", "double"), ("f", "float"), ("1", "int")):
        e = refusal(DECLS + f'BEGIN {{ printf("%Lf", {arg}); }}')
        assert e.tag == "D_PRINTF_ARG_TYPE"
        assert e.message.endswith(
            f"\tconversion: %Lf\n\t prototype: long double\n\t  argument: {argtype}"
        )


# -- output -----------------------------------------------------------------------


def pf(text: str, args: list[bytes]) -> bytes:
    return format_printf(fmt.parse(text), args)


def dbl(v: float) -> bytes:
    return struct.pack("=d", v)


def flt(v: float) -> bytes:
    return struct.pack("=f", v)


def i32(v: int) -> bytes:
    return struct.pack("=i", v)


def i64(v: int) -> bytes:
    return struct.pack("=q", v)


# x86-64's long double: a 64-bit mantissa with its integer bit, a 15-bit
# exponent and the sign, in 16 bytes (6 of them padding)
LD_THIRD = struct.pack("<QH6x", 0xAAAAAAAAAAAAAAAB, 0x3FFD)  # 1/3
LD_MINUS_TWO = struct.pack("<QH6x", 1 << 63, 0xC000)  # -2


@pytest.mark.parametrize(
    ("text", "value", "want"),
    [
        ("%f", 3.0, b"3.000000"),
        ("%f", -1.5, b"-1.500000"),
        ("%.2f", 2.675, b"2.67"),  # 2.675 is 2.67499999... in binary
        ("%.0f", 2.5, b"2"),  # round half to even
        ("%e", 1234.5, b"1.234500e+03"),
        ("%E", 1e-300, b"1.000000E-300"),
        ("%g", 0.0001, b"0.0001"),
        ("%g", 1e-5, b"1e-05"),
        ("%G", 1e20, b"1E+20"),
        ("%g", 100000.0, b"100000"),
        ("%g", 1000000.0, b"1e+06"),
        ("%#g", 1.0, b"1.00000"),
        ("%10.3f|", 3.14159, b"     3.142|"),
        ("%-10.3e|", 3.14159, b"3.142e+00 |"),
        ("%010.2f", -3.5, b"-000003.50"),
        ("%+f", 1.0, b"+1.000000"),
        ("% e", 1.0, b" 1.000000e+00"),
        ("%f", float("inf"), b"inf"),
        ("%E", float("-inf"), b"-INF"),
        ("%f", float("nan"), b"nan"),
        ("%f", -float("nan"), b"-nan"),
        ("%f", 2.0**100, b"1267650600228229401496703205376.000000"),
        ("%.3e", 2.0**-1074, b"4.941e-324"),
    ],
)
def test_doubles_print_as_the_c_library_prints_them(text, value, want):
    assert pf(text, [dbl(value)]) == want


def test_a_float_record_is_promoted_to_double():
    assert pf("%f %e", [flt(0.1), flt(-2.5)]) == b"0.100000 -2.500000e+00"
    # the float nearest 0.1, printed with double precision
    assert pf("%.12f", [flt(0.1)]) == b"0.100000001490"


def test_a_long_double_record_keeps_its_precision():
    assert pf("%.20Lf", [LD_THIRD]) == b"0.33333333333333333334"
    # as a double it would be 0.33333333333333331483: the record's size decides
    assert pf("%.20f", [LD_THIRD]) == b"0.33333333333333333334"
    assert pf("%.20f", [dbl(1 / 3)]) == b"0.33333333333333331483"
    assert pf("%Le|%LG", [LD_MINUS_TWO, LD_MINUS_TWO]) == b"-2.000000e+00|-2"


def test_star_width_and_precision_apply_to_floating_conversions():
    assert pf("%*.*f|", [i32(8), i32(1), dbl(2.25)]) == b"     2.2|"
    assert pf("%*e|", [i32(-14), dbl(1.0)]) == b"1.000000e+00  |"


def test_a_floating_record_of_another_size_is_a_fault():
    with pytest.raises(PrintfError):
        pf("%f", [i32(3)[:2]])


# -- %Y -------------------------------------------------------------------------------


@pytest.fixture
def tz(monkeypatch):
    """Set TZ for the test (time.tzset), restored afterwards."""

    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


NS = 1_000_000_000


def test_Y_prints_walltimestamp_as_year_month_day_time(tz):
    tz("UTC")
    # 1700000000 s is 2023-11-14 22:13:20 UTC; the nanoseconds are dropped
    assert pf("%Y", [i64(1700000000 * NS + 999_999_999)]) == b"2023 Nov 14 22:13:20"
    # the day of the month is padded with a space, as ctime does
    assert pf("[%Y]", [i64(0)]) == b"[1970 Jan  1 00:00:00]"
    assert pf("%Y", [i64(951782400 * NS)]) == b"2000 Feb 29 00:00:00"


def test_Y_takes_width_and_precision_as_a_string(tz):
    tz("UTC")
    assert pf("%22Y|%-22Y|", [i64(0), i64(0)]) == (
        b"  1970 Jan  1 00:00:00|1970 Jan  1 00:00:00  |"
    )
    assert pf("%.8Y|", [i64(0)]) == b"1970 Jan|"


def test_Y_is_local_time(tz):
    tz("JST-9")  # nine hours east of UTC
    assert pf("%Y", [i64(0)]) == b"1970 Jan  1 09:00:00"
    tz("EST5")
    assert pf("%Y", [i64(1700000000 * NS)]) == b"2023 Nov 14 17:13:20"


def test_Y_divides_a_negative_time_as_c_does(tz):
    tz("UTC")
    # hrtime_t / NANOSEC truncates toward zero: -1 ns is second 0
    assert pf("%Y", [i64(-1)]) == b"1970 Jan  1 00:00:00"
    assert pf("%Y", [i64(-NS)]) == b"1969 Dec 31 23:59:59"
