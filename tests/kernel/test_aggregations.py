"""Aggregations end to end: D programs through the pydtrace command (and the
scripting API) against the real module, output as dtrace(1) prints it
(dtrace-internals 7.5-7.10).  Run in the test VM as root."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
HEADER = f"\n{'value':>16} {'------------- Distribution -------------':>41} {'count':<9}\n"


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def quiet(program: str) -> str:
    p = pydtrace("-qn", program)
    assert (p.stderr, p.returncode) == ("", 0), p.stderr
    return p.stdout


def value(v: int) -> str:
    """The default value format " %16lld"."""
    return f" {v:16d}"


def key(k: int) -> str:
    """The default format of a 4-byte key, " %8d"."""
    return f" {k:8d}"


def row(label: str, bar: int, count: int) -> str:
    return f"{label:>16} |{'@' * bar}{' ' * (40 - bar)} {count:<9d}\n"


def test_count_twice_quiet_reference_example():
    # 7.9: the final newline, then the unprinted aggregation
    assert quiet("BEGIN { @a = count(); @a = count(); exit(0); }") == "\n" + value(2) + "\n"


def test_count_keyed_by_execname():
    out = quiet("BEGIN { @c[execname] = count(); exit(0); }")
    name = os.path.basename(sys.executable)[:15]
    # string keys "  %-50s" then the value
    assert out == "\n" + f"  {name:<50}" + value(1) + "\n"


def test_count_keyed_by_pid_from_a_timer():
    out = quiet("tick-10ms { @p[pid] = count(); } tick-300ms { exit(0); }")
    lines = out.split("\n")
    assert lines[0] == "" and lines[-1] == ""
    rows = [ln for ln in lines[1:-1]]
    assert rows, out
    counts = []
    for ln in rows:
        # a 4-byte pid key " %8d", then " %16lld"
        m = re.fullmatch(r" ( {0,7}-?\d+) ( {0,15}\d+)", ln)
        assert m and len(m.group(1)) == 8 and len(m.group(2)) == 16, ln
        counts.append(int(m.group(2)))
    assert counts == sorted(counts) and sum(counts) > 0


def test_string_keys_of_different_lengths_in_one_clause_stay_apart():
    # The clause's key record is reused from firing to firing and a string
    # key is not padded past its NUL: "abc" after "abcdefgh" leaves "defgh"
    # behind it, which must not reach the hash, the match or the output.
    out = quiet(
        "tick-1ms /i < 40/ { i++; @[i % 2 ? \"abcdefgh\" : \"abc\", "
        "i % 4 < 2 ? \"x\" : \"xyzzy\"] = count(); } "
        "tick-1ms /i == 40/ { exit(0); }"
    )
    rows = sorted(ln.split() for ln in out.split("\n") if ln.strip())
    assert rows == [
        ["abc", "x", "10"],
        ["abc", "xyzzy", "10"],
        ["abcdefgh", "x", "10"],
        ["abcdefgh", "xyzzy", "10"],
    ], out


def test_sum_avg_min_max_stddev_in_variable_order():
    out = quiet(
        "BEGIN { @s = sum(5); @s = sum(-2); @a = avg(3); @a = avg(4); "
        "@mn = min(4); @mn = min(-2); @mx = max(7); @mx = max(1); "
        "@sd = stddev(2); @sd = stddev(4); exit(0); }"
    )
    assert out == "\n" + "".join(value(v) + "\n" for v in (3, 3, -2, 7, 1))


def test_quantize_histogram():
    out = quiet(
        "BEGIN { @q = quantize(3); @q = quantize(0); @q = quantize(1); @q = quantize(1); exit(0); }"
    )
    # 0: 1, 1: 2, 2..3: 1 of 4 -> bars 10, 20, 10
    want = (
        HEADER
        + row("-1", 0, 0)
        + row("0", 10, 1)
        + row("1", 20, 2)
        + row("2", 10, 1)
        + row("4", 0, 0)
    )
    assert out == "\n" + want + "\n"


def test_lquantize_with_printa_format():
    out = quiet(
        "BEGIN { @l[1] = lquantize(3, 0, 10, 2); @l[2] = lquantize(12, 0, 10, 2); "
        'printa("%d %@d\\n", @l); exit(0); }'
    )
    # sorted by value: key 1 (value 2) before key 2 (overflow, weighted 11)
    want = (
        "1 " + HEADER + row("0", 0, 0) + row("2", 40, 1) + row("4", 0, 0) + "\n"
        "2 " + HEADER + row("8", 0, 0) + row(">= 10", 40, 1) + "\n"
    )
    assert out == want + "\n"


def test_printa_during_the_run_is_not_repeated_at_the_end():
    out = quiet("BEGIN { @a = count(); printa(@a); exit(0); }")
    assert out == "\n" + value(1) + "\n" + "\n"


def test_printa_joins_several_aggregations_by_key():
    out = quiet(
        'BEGIN { @c["a"] = count(); @c["b"] = count(); @c["b"] = count(); '
        '@s["b"] = sum(5); @s["c"] = sum(7); printa("%s %@d %@d\\n", @c, @s); exit(0); }'
    )
    assert out == "c 0 7\na 1 0\nb 2 5\n" + "\n"


def test_trunc_keeps_the_largest():
    out = quiet(
        "BEGIN { @a[1] = sum(10); @a[2] = sum(30); @a[3] = sum(20); trunc(@a, 2); exit(0); }"
    )
    assert out == "\n" + key(3) + value(20) + "\n" + key(2) + value(30) + "\n"


def test_clear_keeps_the_keys():
    out = quiet("BEGIN { @a[1] = sum(10); @a[2] = sum(30); clear(@a); exit(0); }")
    assert out == "\n" + key(1) + value(0) + "\n" + key(2) + value(0) + "\n"


def test_non_quiet_printa_follows_the_probe_line():
    p = pydtrace("-n", "BEGIN { @a = count(); printa(@a); exit(0); }")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[1].endswith(":BEGIN ")
    assert lines[2:] == [value(1).lstrip("\n"), "", "", ""]


def test_scripting_api_returns_aggregations_as_dicts():
    from pydtrace.api import Consumer

    out = io.BytesIO()
    with Consumer(out=out) as c:
        c.setopt("quiet")
        c.compile(
            'BEGIN { @n[1, "x"] = count(); @n[1, "x"] = count(); @q = quantize(5); '
            "@avg = avg(10); @avg = avg(20); exit(0); }"
        )
        c.open()
        for prog in c.programs:
            c.enable(prog)
        assert c.run(handle_signals=False) == 0
        aggs = c.aggregations()
    assert aggs["n"] == {(1, "x"): 2}
    assert aggs["q"] == {(): [(4, 1)]}
    assert aggs["avg"] == {(): 15}


def test_printa_basics_as_oracle():
    # Oracle's test/unittest/printa/tst.basics.d and its .r (the @a..@g part)
    out = quiet(
        "BEGIN { @a = avg(1); @b = count(); @c = lquantize(1, 1, 10); @d = max(1); "
        "@e = min(1); @f = sum(1); @g = quantize(1); "
        'printa("@a = %@u\\n", @a); printa("@b = %@u\\n", @b); '
        'printa("@c = %@d\\n", @c); printa("@d = %@u\\n", @d); '
        'printa("@e = %@u\\n", @e); printa("@f = %@u\\n", @f); '
        'printa("@g = %@d\\n", @g); exit(0); }'
    )
    want = (
        "@a = 1\n@b = 1\n@c = \n"
        "           value  ------------- Distribution ------------- count    \n"
        "             < 1 |                                         0        \n"
        "               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n"
        "               2 |                                         0        \n"
        "\n@d = 1\n@e = 1\n@f = 1\n@g = \n"
        "           value  ------------- Distribution ------------- count    \n"
        "               0 |                                         0        \n"
        "               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n"
        "               2 |                                         0        \n"
        "\n"
    )
    assert out == want + "\n"


def test_aggregation_drops_are_reported():
    # a 1k aggregation buffer cannot hold 100 keys: the drops are reported
    # per CPU in dtrace(1)'s words.  Counted ticks, not a time limit: a slow
    # guest loses ticks.
    p = pydtrace(
        "-q",
        "-x",
        "aggsize=1k",
        "-n",
        "BEGIN { n = 0; } tick-1ms { @[timestamp] = count(); n++; }"
        " tick-1ms /n == 100/ { exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    msgs = p.stderr.splitlines()
    assert msgs, p.stdout
    for m in msgs:
        assert re.fullmatch(r"pydtrace: \d+ aggregation drops? on CPU \d+", m), m
