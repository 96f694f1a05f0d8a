"""Aggregation variables and library-action codes shared by the compiler and
the consumer (dtrace-internals.md 3.2, 3.6).

Compiler.aggregations lists one AggVar per @name, in order of first use;
its id is what the first tuple member (a constant DIFEXPR) of every
aggregating action and every printa()/clear()/... action records, so the
consumer can tell the variables apart and print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydtrace.abi import lib
from pydtrace.sema import types as T

# DTRACEAGG_* of each aggregating function.
AGG_KINDS: dict[str, int] = {
    name: int(getattr(lib, "DTRACEAGG_" + name.upper()))
    for name in (
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "stddev",
        "quantize",
        "lquantize",
        "llquantize",
    )
}

# dtad_arg of DTRACEACT_LIBACT actions: DTRACE_LIBACT_* in the uapi header.


@dataclass
class AggVar:
    """One aggregation variable (@name) of a Compiler."""

    id: int  # 1 upward per Compiler; recorded as tuple member 0
    name: str  # without the '@'; "" for the anonymous @
    func: str  # "count", "sum", ... "llquantize"
    kind: int  # DTRACEAGG_* of func
    keys: list[T.DType] = field(default_factory=list)  # key types, in order
    arg: int = 0  # lquantize/llquantize encoded parameters, else 0
    line: int = 0  # line of the first use (for error messages)
