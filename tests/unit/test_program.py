import pytest

from pydtrace.abi import ffi, lib
from pydtrace.compiler import Compiler
from pydtrace.dif.assemble import assemble
from pydtrace.dif.disasm import listing
from pydtrace.dif.ir import DifoIR, DifType, Instr, Label
from pydtrace.program import ActDesc, EcbDesc
from pydtrace.program.decode import decode
from pydtrace.program.serialize import serialize


def compile_(src: str, c: Compiler | None = None):
    return (c or Compiler()).compile(src, kind="probe", label="p")


def test_brief_example() -> None:
    c = Compiler()
    p = compile_('BEGIN { printf("%d %s\\n", 6 * 7, "ok"); exit(3); }', c)
    assert (p.kind, p.label, p.necbs) == ("probe", "p", 1)
    d = decode(p.data)
    (ecb,) = d.ecbs
    assert ecb.probe == ("", "", "", "BEGIN") and ecb.pred is None
    kinds = [(a.kind, a.format) for a in ecb.acts]
    assert kinds == [(lib.DTRACEACT_PRINTF, 1), (lib.DTRACEACT_PRINTF, 0),
                     (lib.DTRACEACT_EXIT, 0)]
    assert c.formats[0].text == "%d %s\n"
    exit_difo = d.difos[ecb.acts[2].difo]
    assert exit_difo.rtype == DifType(lib.DIF_TYPE_KIND_CTF, 1, 0, 4)
    assert d.difos[ecb.acts[1].difo].rtype.flags == lib.DIF_TF_BYREF


def test_header_and_alignment() -> None:
    p = compile_('BEGIN { trace("hello"); exit(0); }')
    h = ffi.new("struct dtrace_prog *")
    ffi.memmove(h, p.data[:ffi.sizeof(h[0])], ffi.sizeof(h[0]))
    assert h.dp_magic == lib.DTRACE_PROG_MAGIC and h.dp_version == lib.DTRACE_PROG_VERSION
    assert h.dp_size == len(p.data) and len(p.data) % 8 == 0
    assert h.dp_flags == 0 and list(h.dp_reserved) == [0] * 4
    for off in (h.dp_ecboff, h.dp_actoff, h.dp_difooff, h.dp_optoff):
        assert off % 8 == 0 and off <= len(p.data)
    dsize = ffi.sizeof("struct dtrace_difodesc")
    for i in range(h.dp_ndifos):
        dd = ffi.new("struct dtrace_difodesc *")
        off = h.dp_difooff + i * dsize
        ffi.memmove(dd, p.data[off:off + dsize], dsize)
        assert dd.dd_textoff % 4 == 0 and dd.dd_intoff % 8 == 0 and dd.dd_varoff % 4 == 0
        if dd.dd_strlen:
            assert p.data[dd.dd_stroff + dd.dd_strlen - 1] == 0
        assert dd.dd_textoff + 4 * dd.dd_textlen <= len(p.data)


def test_end_printf_without_arguments_and_two_clauses() -> None:
    c = Compiler()
    d = decode(compile_('END { printf("end\\n"); } BEGIN { exit(0); }', c).data)
    assert [e.probe[3] for e in d.ecbs] == ["END", "BEGIN"]
    (act,) = d.ecbs[0].acts
    assert (act.kind, act.format) == (lib.DTRACEACT_PRINTF, 1)
    zero = d.difos[act.difo]
    assert zero.text == [0x23000000] and zero.rtype.size == 8  # records, so it prints


def test_shared_predicate_and_separate_action_runs() -> None:
    d = decode(compile_("a:b:c:d, e:f:g:h /pid == 1/ { trace(1); x = 2; }").data)
    e1, e2 = d.ecbs
    assert e1.probe == ("a", "b", "c", "d") and e2.probe == ("e", "f", "g", "h")
    assert e1.pred == e2.pred is not None
    assert [a.difo for a in e1.acts] == [a.difo for a in e2.acts]
    assert e1.acts[1].kind == lib.DTRACEACT_DIFEXPR
    assert d.difos[e1.acts[1].difo].rtype.size == 0        # assignments record nothing


def test_empty_clause_has_no_actions() -> None:
    d = decode(compile_("BEGIN").data)
    assert d.ecbs[0].acts == [] and d.difos == []


def test_pragma_options_travel_with_the_program() -> None:
    c = Compiler()
    d = decode(compile_("#pragma D option quiet\n#pragma D option bufsize=1m\nBEGIN", c).data)
    opts = dict(d.options)
    assert opts[lib.DTRACEOPT_QUIET] == 0 and opts[lib.DTRACEOPT_BUFSIZE] == 1 << 20
    assert c.options.is_set("quiet")


def test_strsize_option_sizes_strings() -> None:
    d = decode(compile_('#pragma D option strsize=64\nBEGIN { trace(execname); }').data)
    assert d.difos[0].rtype.size == 64


def test_round_trip_of_hand_built_program() -> None:
    done = Label()
    ir = DifoIR([Instr("setx", (0x123456789,  1)), Instr("sets", ("abc", 2)),
                 Instr("tst", (1,)), Instr("be", (done,)), Instr("setx", (0x123456789, 1)),
                 Instr("label", (done,)), Instr("ret", (1,))],
                rtype=DifType(0, 1, 0, 8))
    difo = assemble(ir)
    assert difo.inttab == [0x123456789]            # de-duplicated
    assert difo.strtab == b"abc\0"
    assert difo.text[3] == (lib.DIF_OP_BE << 24) | 5
    ecbs = [EcbDesc(("p", "m", "f", "n"), 0, [ActDesc(0, lib.DTRACEACT_DIFEXPR, 0, 0, 7, 9)],
                    uarg=42)]
    blob = serialize(ecbs, [difo], [(lib.DTRACEOPT_STRSIZE, 128)])
    d = decode(blob)
    assert d.ecbs == ecbs
    assert d.difos == [difo]
    assert d.options == [(lib.DTRACEOPT_STRSIZE, 128)]
    assert "setx" in listing(d.difos[0]) and '"abc"' in listing(d.difos[0])


def test_too_long_probe_component() -> None:
    from pydtrace.errors import DError
    with pytest.raises(DError) as ei:
        compile_("x" * 70 + ":::BEGIN")
    assert ei.value.tag == "D_PDESC_INVAL"
