"""tracemem(): its checks (libdtrace's dt_action_tracemem), the actions it
compiles to, the consumer's hex dump, and the -S listing's DIFO header."""

from __future__ import annotations

import io

import pytest
from test_codegen import Runner, _difhost
from test_consume import FakeDevice, ecb_bytes, i32, layout

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.consume import records
from pydtrace.consume.loop import Printer
from pydtrace.consume.output import hexdump, tracemem_value
from pydtrace.errors import DError
from pydtrace.program.decode import decode
from pydtrace.program.listing import program_listing, typestr

TRACEMEM, DYNSIZE = lib.DTRACEACT_TRACEMEM, lib.DTRACEACT_TRACEMEM_DYNSIZE


def compile_(src: str) -> bytes:
    return Compiler(kernel=None).compile(src, kind="probe", label="x").data


def error(src: str) -> DError:
    with pytest.raises(DError) as e:
        compile_(src)
    return e.value


# -- checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,tag,text",
    [
        ("arg0", "D_PROTO_LEN", "tracemem( ) prototype mismatch: 1 arg passed, 2 expected"),
        ("", "D_PROTO_LEN", "tracemem( ) prototype mismatch: 0 args passed, 2 expected"),
        (
            '"abc", 8',
            "D_TRACEMEM_ADDR",
            "tracemem( ) argument #1 is incompatible with "
            "prototype:\n\tprototype: pointer or integer\n\t argument: string",
        ),
        (
            "arg0, arg1",
            "D_TRACEMEM_SIZE",
            "tracemem( ) argument #2 must be a non-zero positive integral constant expression",
        ),
        ("arg0, 0", "D_TRACEMEM_SIZE", None),
        ("arg0, -8", "D_TRACEMEM_SIZE", None),
        ("arg0, 2 - 2", "D_TRACEMEM_SIZE", None),
        (
            'arg0, "x"',
            "D_PROTO_ARG",
            "tracemem( ) argument #2 is incompatible with "
            "prototype:\n\tprototype: size_t\n\t argument: string",
        ),
    ],
)
def test_bad_arguments(args: str, tag: str, text: str | None) -> None:
    e = error(f"BEGIN {{ tracemem({args}); }}")
    assert e.tag == tag
    if text is not None:
        assert e.message == text


def test_bad_dynamic_size_and_too_many_args() -> None:
    e = error('BEGIN { tracemem(arg0, 8, "x"); }')
    assert e.tag in ("D_TRACEMEM_DYNSIZE", "D_PROTO_ARG")
    assert e.message == "tracemem ( ) dynamic size (argument #3) must be of scalar type"
    e = error("BEGIN { tracemem(arg0, 8, 4, 2); }")
    assert e.tag in ("D_TRACEMEM_ARGS", "D_PROTO_LEN")
    assert e.message == "tracemem ( ) prototype mismatch: expected at most 3 args"


def test_not_an_expression() -> None:
    assert error("BEGIN { x = tracemem(arg0, 8); }").tag == "D_CG_EXPR"


# -- actions -----------------------------------------------------------------------------


def test_two_argument_form_is_one_by_ref_action_of_the_constant_size() -> None:
    prog = decode(compile_("BEGIN { tracemem(arg0 + 8, 4 * 4); }"))
    (act,) = prog.ecbs[0].acts
    assert act.kind == TRACEMEM
    rt = prog.difos[act.difo].rtype
    assert rt.flags & lib.DIF_TF_BYREF and rt.size == 16
    assert rt.kind == lib.DIF_TYPE_KIND_CTF


def test_three_argument_form_puts_the_dynamic_size_first() -> None:
    prog = decode(compile_("BEGIN { tracemem(arg0, 32, arg1 * 2); }"))
    dyn, mem = prog.ecbs[0].acts
    assert (dyn.kind, mem.kind) == (DYNSIZE, TRACEMEM)
    dt = prog.difos[dyn.difo].rtype
    assert not dt.flags & lib.DIF_TF_BYREF and dt.size == 8
    assert prog.difos[mem.difo].rtype.size == 32


@pytest.mark.skipif(_difhost is None, reason="host DIF build not available")
def test_the_difos_compute_the_address_and_the_dynamic_size() -> None:
    prog = decode(compile_("BEGIN { tracemem(arg0 + 8, 32, arg1 * 2); }"))
    dyn, mem = prog.ecbs[0].acts
    r = Runner(prog.difos[mem.difo])
    assert r.validate() == (0, 0)
    assert r.run([0x1000, 5]).value == 0x1008
    r = Runner(prog.difos[dyn.difo])
    assert r.validate() == (0, 0)
    assert r.run([0x1000, 5]).value == 10


# -- output --------------------------------------------------------------------------------

HEAD = b"\n" + b" " * 11 + b"".join(b"  %x" % i for i in range(16)) + b"  0123456789abcdef\n"


def test_hexdump_is_dtrace_rawbytes_format() -> None:
    assert HEAD == (
        b"\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n"
    )
    data = bytes(range(0x3E, 0x3E + 18))
    assert hexdump(data) == HEAD + (
        b"         0: 3e 3f 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d  >?@ABCDEFGHIJKLM\n"
        b"        10: 4e 4f" + b"   " * 14 + b"  NO\n"
    )


def test_tracemem_value_is_always_raw_and_clamped_by_the_dynamic_size() -> None:
    text = b"hello, world...."  # printable: trace() would print it as a string
    assert tracemem_value(text) == hexdump(text)
    assert tracemem_value(text, 5) == hexdump(b"hello")
    assert tracemem_value(text, 0) == hexdump(text)  # 0: the whole record
    assert tracemem_value(text, 1 << 63) == hexdump(text)  # larger: the whole record
    assert tracemem_value(b"\x00\xff\x7f", 0).endswith(b" 00 ff 7f" + b"   " * 13 + b"  ...\n")


@pytest.mark.parametrize("quiet", [False, True])
def test_printer_prints_tracemem_records(quiet: bool) -> None:
    ep = layout(1, 1, [(DYNSIZE, 8, 0), (TRACEMEM, 16, 0), (lib.DTRACEACT_DIFEXPR, 4, 0)])
    dev = FakeDevice({1: ep})
    out = io.BytesIO()
    p = Printer(dev, [], out, quiet=quiet)
    mem = bytes(range(0x41, 0x51))
    data = ecb_bytes(ep, [(3).to_bytes(8, "little"), mem, i32(7)])
    p.ecbs(records.ecb_records(0, data, 0, dev.eprobe))
    dump = hexdump(b"ABC")
    if quiet:
        assert out.getvalue() == dump + b"7"
    else:
        assert out.getvalue().endswith(b":BEGIN " + dump + b"        7\n")


# -- -S ---------------------------------------------------------------------------------------


def test_listing_header_is_dt_dis() -> None:
    text = program_listing(compile_("BEGIN { tracemem(arg0, 16); trace(1); }"))
    assert text.startswith(
        "\nDIFO 0x0 returns D type (integer) by ref (size 16)\nOFF OPCODE      INSTRUCTION\n00: "
    )
    assert "\nDIFO 0x1 returns D type (integer) (size 4)\n" in text
    assert "RETURN" not in text


def test_typestr() -> None:
    from pydtrace.dif.ir import DifType

    assert typestr(DifType(1, 0, 1, 256)) == "string (unknown) by ref (size 256)"
    assert typestr(DifType(0, 3, 0, 8)) == "D type (pointer) (size 8)"
    assert typestr(DifType(0, 1, 2, 4)) == "D type (integer) by user ref (size 4)"
    assert typestr(DifType(5, 42, 0, 0)) == "0x5 (0x2a) (size 0)"
