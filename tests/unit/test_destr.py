"""The destructive actions on the host: their compile errors, the actions
and records they compile to, and what the consumer does with system() and
freopen() records (a fake device; the guest tests are in
tests/kernel/test_destr.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_consume import FakeDevice, ecb_bytes, i32, layout, strrec

from pydtrace import fmt
from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.consume import records
from pydtrace.consume.loop import Printer
from pydtrace.errors import DError
from pydtrace.options import Options
from pydtrace.program.decode import decode

SYSTEM, FREOPEN = lib.DTRACEACT_SYSTEM, lib.DTRACEACT_FREOPEN


def compile_(src: str, c: Compiler | None = None):
    return (c or Compiler(kernel=None)).compile(src, kind="probe", label="p")


def error(src: str) -> DError:
    with pytest.raises(DError) as e:
        compile_(src)
    return e.value


# -- compile errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "tag", "text"),
    [
        ("BEGIN { panic(); }", "D_VAR_UNSUP", "panic( ) is not supported: it would crash"),
        ("BEGIN { breakpoint(); }", "D_VAR_UNSUP", "breakpoint( ) is not supported: it would stop"),
        ('BEGIN { freopen("."); }', "D_FREOPEN_INVALID", 'freopen( ) argument #1 cannot be "."'),
        ('BEGIN { freopen(".."); }', "D_FREOPEN_INVALID", 'cannot be ".."'),
        ('BEGIN { raise("x"); }', "D_PROTO_ARG", "raise( ) argument #1 is incompatible"),
        ("BEGIN { raise(); }", "D_PROTO_LEN", "raise( ) prototype mismatch: 0 args passed"),
        ('BEGIN { chill("x"); }', "D_PROTO_ARG", "chill( ) argument #1 is incompatible"),
        ("BEGIN { stop(1); }", "D_PROTO_LEN", "stop( ) prototype mismatch: 1 arg passed, 0"),
        ("BEGIN { system(); }", "D_PROTO_LEN", "system( ) prototype mismatch: 0 args passed"),
        ("BEGIN { system(1); }", "D_PRINTF_ARG_FMT", "system( ) argument #1 is incompatible"),
        ('BEGIN { system(""); }', "D_PRINTF_FMT_EMPTY", "system( ) format string is empty"),
        ('BEGIN { system("%d"); }', "D_PRINTF_ARG_PROTO", "system( ) prototype mismatch"),
        ('BEGIN { freopen("", 1); }', "D_PRINTF_ARG_EXTRA", "freopen( ) prototype mismatch"),
        ('BEGIN { speculate(1); system("x"); }', "D_ACT_SPEC",
         "destructive actions may not follow speculate( )"),
        ("BEGIN { speculate(1); raise(9); }", "D_ACT_SPEC", "may not follow speculate"),
        ("BEGIN { x = raise(9); }", None, None),
    ],
)
def test_compile_errors(src: str, tag: str | None, text: str | None) -> None:
    e = error(src)
    if tag is not None:
        assert e.tag == tag
        assert text in e.message


# -- actions and records --------------------------------------------------------------


def test_actions_and_their_difos() -> None:
    c = Compiler(kernel=None)
    p = compile_(
        'BEGIN { system("echo %s %d", "hi", 42); raise(10); stop(); chill(1000);'
        ' freopen("/tmp/x.%d", 1); freopen(""); }',
        c,
    )
    d = decode(p.data)
    (ecb,) = d.ecbs
    kinds = [(a.kind, a.format, a.difo is None) for a in ecb.acts]
    assert kinds == [
        (SYSTEM, 1, False),
        (SYSTEM, 0, False),
        (lib.DTRACEACT_RAISE, 0, False),
        (lib.DTRACEACT_STOP, 0, True),
        (lib.DTRACEACT_CHILL, 0, False),
        (FREOPEN, 2, False),
        (FREOPEN, 3, False),
    ]
    assert [f.text for f in c.formats] == ["echo %s %d", "/tmp/x.%d", ""]
    # the string argument by reference, the integers by value (records)
    assert d.difos[ecb.acts[0].difo].rtype.flags == lib.DIF_TF_BYREF
    assert d.difos[ecb.acts[1].difo].rtype.flags == 0
    raise_rt = d.difos[ecb.acts[2].difo].rtype
    assert raise_rt.kind == lib.DIF_TYPE_KIND_CTF and raise_rt.flags == 0
    # freopen(""): one zero record, as printf() without arguments
    assert d.difos[ecb.acts[6].difo].rtype.size == 8


def test_destructive_option_travels_with_the_program() -> None:
    o = Options()
    p = compile_('BEGIN { system("true"); }', Compiler(o, kernel=None))
    assert lib.DTRACEOPT_DESTRUCTIVE not in dict(decode(p.data).options)
    o.set("destructive", None)
    p = compile_('BEGIN { system("true"); }', Compiler(o, kernel=None))
    assert dict(decode(p.data).options)[lib.DTRACEOPT_DESTRUCTIVE] != lib.DTRACEOPT_UNSET


def test_pragma_destructive() -> None:
    c = Compiler(kernel=None)
    p = compile_('#pragma D option destructive\nBEGIN { raise(9); }', c)
    assert lib.DTRACEOPT_DESTRUCTIVE in dict(decode(p.data).options)


# -- the consumer ---------------------------------------------------------------------


def _printer(formats: list[fmt.Format], recs, out, quiet: bool = True, warn=None):
    ep = layout(1, 1, recs)
    dev = FakeDevice({1: ep})
    return ep, dev, Printer(dev, formats, out, quiet=quiet, warn=warn)


def test_system_runs_after_what_was_printed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    f_before = fmt.parse("before\n")
    f_sys = fmt.with_signs(fmt.parse(f"echo hi %d >> {log}"), [True])
    f_after = fmt.parse("after\n")
    recs = [(lib.DTRACEACT_PRINTF, 0, 1), (SYSTEM, 4, 2), (lib.DTRACEACT_PRINTF, 0, 3)]
    with open(log, "ab") as out:
        ep, dev, p = _printer([f_before, f_sys, f_after], recs, out)
        data = ecb_bytes(ep, [b"", i32(42), b""])
        for r in records.ecb_records(0, data, 0, dev.eprobe):
            p.ecb(r)
            p.ecb(r)
        p.finish(0)
    assert log.read_bytes() == b"before\nhi 42\nafter\nbefore\nhi 42\nafter\n\n"


def test_system_in_non_quiet_mode_follows_the_probe_line(tmp_path: Path) -> None:
    log = tmp_path / "log"
    recs = [(SYSTEM, 0, 1)]
    with open(log, "ab") as out:
        ep, dev, p = _printer([fmt.parse(f"echo ran >> {log}")], recs, out, quiet=False)
        (r,) = records.ecb_records(0, ecb_bytes(ep, [b""]), 0, dev.eprobe)
        p.ecb(r)
    text = log.read_bytes()
    assert text.endswith(b":BEGIN ran\n\n")


def _freopen_printer(out, paths: list[bytes], warn=None):
    """A printer of one ECB: printf("%s\\n", word), then freopen(path)."""
    f_word = fmt.parse("%s\n")
    f_path = fmt.parse("%s")
    recs = [(lib.DTRACEACT_PRINTF, 256, 1), (FREOPEN, 256, 2)]
    ep, dev, p = _printer([f_word, f_path], recs, out, warn=warn)

    def fire(word: bytes, path: bytes) -> None:
        data = ecb_bytes(ep, [strrec(word), strrec(path)])
        for r in records.ecb_records(0, data, 0, dev.eprobe):
            p.ecb(r)

    return p, fire


@pytest.mark.parametrize("with_fd", [False, True])
def test_freopen_redirects_and_restores(tmp_path: Path, with_fd: bool) -> None:
    a, b, orig = tmp_path / "a", tmp_path / "b", tmp_path / "orig"
    out = open(orig, "ab") if with_fd else io.BytesIO()  # noqa: SIM115
    try:
        p, fire = _freopen_printer(out, [])
        fire(b"one", str(a).encode())   # "one" before the switch
        fire(b"two", str(b).encode())
        fire(b"three", b"")             # back to the original
        fire(b"four", b"")              # nothing to restore
        p.finish(0)
        got = orig.read_bytes() if with_fd else out.getvalue()  # type: ignore[union-attr]
    finally:
        out.close()
    assert got == b"one\nfour\n\n"
    assert a.read_bytes() == b"two\n"
    assert b.read_bytes() == b"three\n"


def test_freopen_appends(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_bytes(b"old\n")
    p, fire = _freopen_printer(io.BytesIO(), [])
    fire(b"x", str(a).encode())
    fire(b"y", b"")
    p.finish(0)
    assert a.read_bytes() == b"old\ny\n"


def test_freopen_failure_is_a_library_error_on_the_probe(tmp_path: Path) -> None:
    warnings: list[str] = []
    out = io.BytesIO()
    bad = str(tmp_path / "no" / "such")
    p, fire = _freopen_printer(out, [], warn=warnings.append)
    fire(b"x", bad.encode())
    fire(b"y", b"")
    assert warnings == [
        f"error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): {bad}: No such file or directory"
    ]
    assert out.getvalue() == b"x\ny\n"
