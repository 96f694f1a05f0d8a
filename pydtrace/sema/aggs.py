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
    for name in ("count", "sum", "avg", "min", "max", "stddev", "quantize",
                 "lquantize", "llquantize")
}

# dtad_arg of DTRACEACT_LIBACT actions (pydtrace's own codes; libdtrace keeps
# its DT_ACT_* private too).  Each library action is a pair of LIBACT
# records with the same code, except clear and denormalize (one record):
#   clear(@a)          LIBACT_CLEAR: aggregation variable id (8 bytes)
#   denormalize(@a)    LIBACT_DENORMALIZE: aggregation variable id
#   normalize(@a, n)   LIBACT_NORMALIZE: id, then LIBACT_NORMALIZE: n
#   trunc(@a[, n])     LIBACT_TRUNC: id, then LIBACT_TRUNC: n (0 = all)
#   setopt(o[, v])     LIBACT_SETOPT: option name (string), then
#                      LIBACT_SETOPT: value (string), or an 8-byte 0
#                      when no value was given
LIBACT_CLEAR = 1
LIBACT_NORMALIZE = 2
LIBACT_DENORMALIZE = 3
LIBACT_TRUNC = 4
LIBACT_SETOPT = 5


@dataclass
class AggVar:
    """One aggregation variable (@name) of a Compiler."""

    id: int                     # 1 upward per Compiler; recorded as tuple member 0
    name: str                   # without the '@'; "" for the anonymous @
    func: str                   # "count", "sum", ... "llquantize"
    kind: int                   # DTRACEAGG_* of func
    keys: list[T.DType] = field(default_factory=list)   # key types, in order
    arg: int = 0                # lquantize/llquantize encoded parameters, else 0
    line: int = 0               # line of the first use (for error messages)
