"""The kernel tracepoints sdt can probe, and which of them an sdt description names.

A tracepoint's trace system ("sched" of sched:sched_switch) is not known to
the module (struct tracepoint holds only the event name), so user space reads
tracefs's ``available_events`` (lines ``system:event``), matches them with
DTrace's glob rules and names each probe ``sdt:<system>::<event>`` exactly
through DTRACEIOC_PROVIDE; the module creates the probe when a tracepoint of
that name exists.  The ``syscalls`` system is skipped: its events are ftrace
views of the raw ``sys_enter``/``sys_exit`` tracepoints (the syscall
provider), not tracepoints of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydtrace.runtime.fbtnames import Desc, field_matches, is_glob

AVAILABLE_EVENTS = (
    "/sys/kernel/tracing/available_events",
    "/sys/kernel/debug/tracing/available_events",
)
SDT = "sdt"
# ftrace events that are not tracepoints
NOT_TRACEPOINTS = frozenset({"syscalls"})


@dataclass(frozen=True)
class TraceEvent:
    """A kernel trace event (tracefs available_events)."""

    system: str
    event: str


def parse_available_events(text: str) -> list[TraceEvent]:
    """The lines "system:event", in order, each once, without the systems
    that are not tracepoints."""
    out: list[TraceEvent] = []
    seen: set[TraceEvent] = set()
    for line in text.splitlines():
        system, sep, event = line.strip().partition(":")
        if not sep or not system or not event or system in NOT_TRACEPOINTS:
            continue
        te = TraceEvent(system, event)
        if te not in seen:
            seen.add(te)
            out.append(te)
    return out


def read_available_events(paths: Iterable[str] = AVAILABLE_EVENTS) -> list[TraceEvent]:
    """The trace events of the running kernel; [] when tracefs is not readable."""
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return parse_available_events(f.read())
        except OSError:
            continue
    return []


# the dtrace provider's names: never looked up in tracefs
_DTRACE_NAMES = frozenset({"BEGIN", "END", "ERROR"})


def can_be_sdt(desc: Desc) -> bool:
    """Could the description match an sdt probe?  Its function field is
    empty, and an exact name is a C identifier (as tracepoint names are: no
    ``tick-1s``), not BEGIN, END or ERROR, so that ``BEGIN { }`` costs no
    reading of tracefs."""
    name = desc[3]
    if name and not is_glob(name) and (not name.isidentifier() or name in _DTRACE_NAMES):
        return False
    return field_matches(SDT, desc[0]) and field_matches("", desc[2])


def sdt_events(
    desc: Desc, events: Callable[[], list[TraceEvent]], *, listing: bool = False
) -> list[TraceEvent]:
    """The events to provide for desc, in the order of available_events.
    events() is called only when needed.  When enabling, a description
    naming provider, system and event exactly needs nothing: the module
    provides it from the description itself."""
    if not can_be_sdt(desc):
        return []
    prov, mod, _, name = desc
    exact = prov == SDT and mod and name and not is_glob(mod) and not is_glob(name)
    if exact and not listing:
        return []
    return [
        te for te in events() if field_matches(te.system, mod) and field_matches(te.event, name)
    ]
