"""-F / flowindent output on synthetic buffers: dtrace(1)'s CPU/FUNCTION
header, "-> func" / "<- func" lines indented per CPU, "| func:name" for other
probes, and dt_flowindent()'s heuristics for several clauses of one probe."""

from __future__ import annotations

import io

from test_consume import DIFEXPR, EXIT, FakeDevice, ecb_bytes, i32, i64, layout

from pydtrace.consume import records
from pydtrace.consume.loop import Printer, Session
from pydtrace.consume.output import FLOW_HEADER, HEADER
from pydtrace.runtime import EProbe, ProbeDesc

FOO_IN = ProbeDesc(101, "fbt", "vmlinux", "foo", "entry")
FOO_OUT = ProbeDesc(102, "fbt", "vmlinux", "foo", "return")
BAR_IN = ProbeDesc(103, "fbt", "vmlinux", "bar", "entry")
BAR_OUT = ProbeDesc(104, "fbt", "vmlinux", "bar", "return")
SYS_IN = ProbeDesc(105, "syscall", "vmlinux", "getppid", "entry")
SYS_OUT = ProbeDesc(106, "syscall", "vmlinux", "getppid", "return")
MARK = ProbeDesc(107, "sdt", "vmlinux", "bar", "mark")
TICK = ProbeDesc(108, "profile", "", "", "tick-1s")
METHOD_IN = ProbeDesc(109, "usdt", "a.out", "run", "method-entry")
CARPENTRY = ProbeDesc(110, "usdt", "a.out", "wood", "carpentry")
RET_RET = ProbeDesc(111, "usdt", "a.out", "odd", "return-x-return")
PROBES = (FOO_IN, FOO_OUT, BAR_IN, BAR_OUT, SYS_IN, SYS_OUT, MARK, TICK, METHOD_IN)
PROBES += (CARPENTRY, RET_RET)


def row(cpu: int, text: str, tail: str = "") -> bytes:
    """One expected line, written out: "%3d %-41s " then the records."""
    return f"{cpu:>3} {text:<41} {tail}\n".encode()


def device(ncpus: int = 2) -> tuple[FakeDevice, dict[ProbeDesc, EProbe]]:
    """A fake device with one empty clause (EPID = probe id - 100) per probe."""
    eps = {p: layout(p.id - 100, p.id, []) for p in PROBES}
    dev = FakeDevice({ep.epid: ep for ep in eps.values()}, ncpus)
    dev.probes.update({p.id: p for p in PROBES})
    return dev, eps


def buf(eps: dict[ProbeDesc, EProbe], *probes: ProbeDesc) -> bytes:
    return b"".join(ecb_bytes(eps[p], []) for p in probes)


def flow_printer(dev: FakeDevice, quiet: bool = False) -> Printer:
    return Printer(dev, [], io.BytesIO(), quiet=quiet, flowindent=True)


def consume(p: Printer, dev: FakeDevice, cpu: int, data: bytes) -> bytes:
    p.ecbs(records.ecb_records(cpu, data, 0, dev.eprobe))
    assert isinstance(p.out, io.BytesIO)
    return p.out.getvalue()


def test_header_is_cpu_and_function():
    assert FLOW_HEADER == b"CPU FUNCTION" + b" " * 33 + b"\n"


def test_nested_entries_and_returns_indent_by_two():
    dev, eps = device()
    p = flow_printer(dev)
    out = consume(p, dev, 0, buf(eps, FOO_IN, BAR_IN, MARK, BAR_OUT, FOO_OUT))
    assert out == FLOW_HEADER + b"".join(
        [
            row(0, " -> foo"),
            row(0, "   -> bar"),
            row(0, "    | bar:mark"),
            row(0, "   <- bar"),
            row(0, " <- foo"),
        ]
    )
    assert p.flows[0].indent == 0


def test_syscall_uses_double_arrows_and_nests_fbt():
    dev, eps = device()
    p = flow_printer(dev)
    out = consume(p, dev, 1, buf(eps, SYS_IN, FOO_IN, FOO_OUT, SYS_OUT))
    assert out == FLOW_HEADER + b"".join(
        [
            row(1, " => getppid"),
            row(1, "   -> foo"),
            row(1, "   <- foo"),
            row(1, " <= getppid"),
        ]
    )


def test_returns_never_indent_below_zero():
    dev, eps = device()
    p = flow_printer(dev)
    out = consume(p, dev, 0, buf(eps, BAR_OUT, FOO_OUT, FOO_IN, BAR_IN, TICK))
    assert out == FLOW_HEADER + b"".join(
        [
            row(0, " <- bar"),
            row(0, " <- foo"),
            row(0, " -> foo"),
            row(0, "   -> bar"),
            row(0, "    | :tick-1s"),
        ]
    )
    assert p.flows[0].indent == 4


def test_other_probes_print_func_and_name_at_the_current_level():
    dev, eps = device()
    p = flow_printer(dev)
    out = consume(p, dev, 0, buf(eps, MARK, FOO_IN, MARK, TICK, CARPENTRY, RET_RET))
    assert out == FLOW_HEADER + b"".join(
        [
            row(0, "| bar:mark"),
            row(0, " -> foo"),
            row(0, "  | bar:mark"),
            row(0, "  | :tick-1s"),
            row(0, "  | wood:carpentry"),  # "entry" only as a whole word after '-'
            row(0, "  | odd:return-x-return"),  # the first "return" is not at the end
        ]
    )


def test_dash_entry_names_take_part():
    dev, eps = device()
    p = flow_printer(dev)
    out = consume(p, dev, 0, buf(eps, METHOD_IN, FOO_IN))
    assert out == FLOW_HEADER + row(0, " -> run") + row(0, "   -> foo")


def test_each_cpu_keeps_its_own_indentation():
    dev, eps = device()
    dev.on_go = {
        0: buf(eps, FOO_IN, BAR_IN),
        1: buf(eps, SYS_IN, MARK, SYS_OUT),
    }
    dev.exiting = True
    dev.end_cpu = 1  # so CPU 0 is consumed first
    status, out, warnings = run_flow_session(dev)
    assert (status, warnings) == (None, [])
    assert out == FLOW_HEADER + b"".join(
        [
            row(0, " -> foo"),
            row(0, "   -> bar"),
            row(1, " => getppid"),
            row(1, "  | bar:mark"),
            row(1, " <= getppid"),
        ]
    )


def run_flow_session(dev: FakeDevice) -> tuple[int | None, bytes, list[str]]:
    out = io.BytesIO()
    warnings: list[str] = []
    printer = Printer(dev, [], out, flowindent=True)
    s = Session(dev, printer, bufsize=4096, warn=warnings.append)
    s.go()
    status = s.run(lambda: False)
    return status, out.getvalue(), warnings


def test_indentation_carries_over_to_the_next_snapshot():
    dev, eps = device()
    p = flow_printer(dev)
    consume(p, dev, 0, buf(eps, FOO_IN, BAR_IN))
    out = consume(p, dev, 0, buf(eps, BAR_OUT, FOO_OUT))
    assert out.endswith(row(0, "   <- bar") + row(0, " <- foo"))


def test_second_clause_of_one_probe_neither_indents_nor_unindents_twice():
    # two clauses on foo:entry and two on foo:return, as dt_flowindent sees them
    dev, eps = device()
    in2 = layout(50, FOO_IN.id, [(DIFEXPR, 8, 0)])
    out2 = layout(51, FOO_OUT.id, [(DIFEXPR, 8, 0)])
    dev.eprobes.update({50: in2, 51: out2})
    data = (
        buf(eps, FOO_IN)
        + ecb_bytes(in2, [i64(7)])
        + buf(eps, BAR_IN, BAR_OUT, FOO_OUT)
        + ecb_bytes(out2, [i64(-1)])
    )
    p = flow_printer(dev)
    out = consume(p, dev, 0, data)
    assert out == FLOW_HEADER + b"".join(
        [
            row(0, " -> foo"),
            row(0, "  | foo:entry", f" {7:>16}"),
            row(0, "   -> bar"),
            row(0, "   <- bar"),
            row(0, "  | foo:return"),
            row(0, " <- foo", f" {-1:>16}"),
        ]
    )


def test_records_follow_the_flow_line_and_exit_is_kept():
    dev, eps = device()
    ep = layout(60, SYS_OUT.id, [(DIFEXPR, 4, 0), (EXIT, 4, 0)])
    dev.eprobes[60] = ep
    p = flow_printer(dev)
    out = consume(p, dev, 0, buf(eps, SYS_IN) + ecb_bytes(ep, [i32(42), i32(5)]))
    assert out == FLOW_HEADER + row(0, " => getppid") + row(0, " <= getppid", f" {42:>8}")
    assert p.exit_status == 5


def test_quiet_still_prints_the_flow_columns_without_newlines():
    # dtrace(1)'s chew() prints the flow header and columns whatever quiet
    # says; chewrec() leaves out the newline and trace() loses its padding
    dev, eps = device()
    ep = layout(60, FOO_IN.id, [(DIFEXPR, 4, 0)])
    dev.eprobes[60] = ep
    p = flow_printer(dev, quiet=True)
    out = consume(p, dev, 0, ecb_bytes(ep, [i32(3)]) + buf(eps, FOO_OUT))
    assert out == FLOW_HEADER + row(0, " -> foo", "3")[:-1] + row(0, " <- foo")[:-1]


def test_without_flowindent_the_default_header_and_lines_stay():
    dev, eps = device()
    p = Printer(dev, [], io.BytesIO())
    out = consume(p, dev, 0, buf(eps, FOO_IN, FOO_OUT))
    assert out == HEADER + b"".join(
        f"{0:>3} {pr.id:>6} {pr.func + ':' + pr.name:>32} \n".encode() for pr in (FOO_IN, FOO_OUT)
    )
    assert p.flows == {}
