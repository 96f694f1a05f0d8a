"""Every drop and error counter message in dtrace(1)'s words (4.5), in
libdtrace's order, singular and plural, only for what grew."""

from __future__ import annotations

from pydtrace.consume.output import agg_drops, cpu_drops, status_drops
from pydtrace.runtime import Status


def status(**kw: int) -> Status:
    fields = dict.fromkeys(
        (
            "dyndrops dyndrops_rinsing dyndrops_dirty specdrops specdrops_busy "
            "specdrops_unavail errors filled stkstroverflows dblerrors"
        ).split(),
        0,
    )
    fields.update(kw)
    return Status(**fields, killed=False, exiting=False, activity=2)  # type: ignore[arg-type]


def test_every_status_counter_singular() -> None:
    one = status(
        dyndrops=1, dyndrops_rinsing=1, dyndrops_dirty=1, specdrops=1, specdrops_busy=1,
        specdrops_unavail=1, stkstroverflows=1, dblerrors=1, errors=1, filled=1,
    )
    assert status_drops(None, one) == [
        "1 dynamic variable drop",
        "1 dynamic variable drop with non-empty rinsing list",
        "1 dynamic variable drop with non-empty dirty list",
        "1 speculative drop",
        "1 failed speculation (available buffer(s) still busy)",
        "1 failed speculation (no speculative buffer available)",
        "1 jstack()/ustack() string table overflow",
        "1 error in ERROR probe enabling",
    ]  # errors and filled are not drops: each error is reported by itself


def test_plural_and_only_the_growth() -> None:
    old = status(dyndrops=2, specdrops_busy=1, dblerrors=4)
    new = status(dyndrops=7, specdrops_busy=1, dblerrors=6, stkstroverflows=3)
    assert status_drops(old, new) == [
        "5 dynamic variable drops",
        "3 jstack()/ustack() string table overflows",
        "2 errors in ERROR probe enabling",
    ]
    assert status_drops(new, new) == []


def test_buffer_drops() -> None:
    assert cpu_drops(1, 0) == "1 drop on CPU 0"
    assert cpu_drops(12, 3) == "12 drops on CPU 3"
    assert agg_drops(1, 1) == "1 aggregation drop on CPU 1"
    assert agg_drops(2, 0) == "2 aggregation drops on CPU 0"
