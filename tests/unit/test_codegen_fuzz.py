"""Random programs over subroutines, args[], thread-locals, associative
arrays, aggregations and the aggregation actions: the compiler either
raises a DError or produces DIFOs that all pass the C validator."""

from __future__ import annotations

import pytest
from difhost import dif_object
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.program.decode import decode
from pydtrace.sema.subrs import PROTOS

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

pytestmark = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")

ATOMS = ['"s"', "1", "-3", "0", "arg0", "args[1]", "execname", "self->t", "a[1]",
         "b[\"k\", 2]", "(char *)arg1", "NULL", "this->l", "@g", "pid"]
AGGS = ["count", "sum", "avg", "min", "max", "stddev", "quantize", "lquantize",
        "llquantize"]
ACTIONS = ["printa", "clear", "trunc", "normalize", "denormalize", "setopt", "trace"]


def _expr(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["atom", "atom", "call", "bin"] if depth < 3 else ["atom"]))
    if kind == "atom":
        return draw(st.sampled_from(ATOMS))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "==", "<", "&&", "*"]))
        return f"({_expr(draw, depth + 1)} {op} {_expr(draw, depth + 1)})"
    name = draw(st.sampled_from(sorted(PROTOS)))
    n = draw(st.integers(0, 4))
    return f"{name}({', '.join(_expr(draw, depth + 1) for _ in range(n))})"


@st.composite
def statements(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["asgn", "agg", "act", "expr", "op"]))
    if kind == "asgn":
        target = draw(st.sampled_from(["self->t", "a[1]", 'b["k", 2]', "this->l", "g",
                                       "a[arg0]", "self->m[execname]"]))
        return f"{target} = {_expr(draw)}"
    if kind == "op":
        target = draw(st.sampled_from(["self->t", "a[1]", 'b["k", 2]', "a[arg0, 1]"]))
        return draw(st.sampled_from([f"{target}++", f"--{target}", f"{target} += 2",
                                     f"{target} <<= {_expr(draw)}"]))
    if kind == "agg":
        name = draw(st.sampled_from(["@g", "@h[execname]", "@", "@k[1, pid]"]))
        func = draw(st.sampled_from(AGGS))
        n = draw(st.integers(0, 6))
        params = [draw(st.sampled_from(["0", "10", "2", "100", "arg0", '"x"', "65536",
                                        "-5", "1"])) for _ in range(n)]
        return f"{name} = {func}({', '.join(params)})"
    if kind == "act":
        act = draw(st.sampled_from(ACTIONS))
        n = draw(st.integers(0, 3))
        args = [draw(st.sampled_from(["@g", "@h", '"%s %@d"', "3", '"quiet"', "@k",
                                      "arg0"])) for _ in range(n)]
        return f"{act}({', '.join(args)})"
    return _expr(draw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=6))
def test_random_programs(stmts: list[str]) -> None:
    c = Compiler(kernel=None)
    src = "BEGIN { self->t = 1; a[1] = 2; b[\"k\", 2] = 3; this->l = 4; @g = count(); } " \
          "tick-1s { " + "; ".join(stmts) + "; }"
    try:
        blob = c.compile(src, kind="probe", label="fuzz").data
    except DError:
        return
    ffi, lib = _difhost.ffi, _difhost.lib
    keep: list[object] = []
    for difo in decode(blob).difos:
        obj = dif_object(ffi, difo, keep)
        err = ffi.new("struct dif_verr *")
        assert lib.dif_validate(obj, err) == 0, (src, err.err, err.pc)
