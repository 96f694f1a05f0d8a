"""The consumer loop (dtrace-internals 4.4, 4.7): status, snapshots, output.

:class:`Printer` turns ECB records into dtrace(1)'s output; :class:`Session`
drives one device from GO to the final drain, consuming CPUs in dtrace's
order (BEGIN's CPU first on the first pass, END's CPU last once stopped).
"""

from __future__ import annotations

import dataclasses
import errno
import os
import select
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from pydtrace.abi import DTRACE_UARG_ERROR, lib
from pydtrace.consume import fastpath, records, stackfmt
from pydtrace.consume.aggregate import Aggregations, SortOptions
from pydtrace.consume.destr import KINDS as SHELL_KINDS
from pydtrace.consume.destr import Redirect, ShellItem, run_system
from pydtrace.consume.output import (
    FLOW_ENTRY,
    FLOW_HEADER,
    FLOW_NONE,
    FLOW_RETURN,
    HEADER,
    agg_drops,
    cpu_drops,
    fault_message,
    flow_kind,
    flow_line,
    probe_line,
    status_drops,
    trace_value,
    tracemem_value,
)
from pydtrace.consume.printf import PrintfError, format_printa, format_printf
from pydtrace.consume.records import EcbRecord, ecb_records, read_int
from pydtrace.fmt import Format
from pydtrace.runtime import (
    BufSnapshot,
    Device,
    DeviceError,
    EProbe,
    ProbeDesc,
    RecDesc,
    Status,
)

NANOSEC = 1_000_000_000

_FALSE = ("0", "false", "no", "off", "unset")
MAX_STATUSRATE = 10 * NANOSEC  # the kernel's cap on statusrate (4.9)
WAKE_NS = 20_000_000  # how often a sleep looks at interrupted() (dtrace's wakeups)
CHUNK = 1 << 16  # output is written in chunks of about this many bytes


class ConsumeError(Exception):
    """Processing failed; str() is the message dtrace(1) prints."""


@dataclasses.dataclass
class FlowState:
    """One CPU's flow indentation (dtpda_indent) and the EPID and probe of
    the last record consumed on it (dt_last_epid)."""

    indent: int = 0
    last_epid: int | None = None
    last_probe: int | None = None


@dataclasses.dataclass(frozen=True)
class TracememItem:
    """A tracemem() record and the value of the TRACEMEM_DYNSIZE record
    before it (0 when there is none)."""

    rec: RecDesc
    dynsize: int


@dataclasses.dataclass(frozen=True)
class PrintfItem:
    """A printf() action: its format and its records (the first carries the
    format index; argument records follow)."""

    fmt: Format
    recs: Sequence[RecDesc]


@dataclasses.dataclass(frozen=True)
class PrintaItem:
    """A printa() action: its format index (0: none) and aggregation ids."""

    fmtidx: int
    varids: list[int]


class Printer:
    """Writes the records of ECBs as dtrace(1) does (7.2-7.4)."""

    def __init__(
        self,
        device: Device,
        formats: Sequence[Format],
        out: BinaryIO,
        *,
        quiet: bool = False,
        rawbytes: bool = False,
        aggs: Aggregations | None = None,
        aggopts: SortOptions | None = None,
        warn: Callable[[str], None] | None = None,
        flowindent: bool = False,
    ) -> None:
        self.device = device
        self.warn = warn if warn is not None else _stderr_warn
        self.formats = formats
        self.out = out
        self.quiet = quiet
        self.rawbytes = rawbytes
        self.aggs = aggs
        self.aggopts = aggopts if aggopts is not None else SortOptions()
        self.heading = False
        self.exit_status: int | None = None
        self.flowindent = flowindent
        self.flows: dict[int, FlowState] = {}
        self._following: EcbRecord | None = None
        self.redirect = Redirect()  # freopen()
        self._pending: list[bytes] = []  # output not yet written to out
        self._npending = 0
        self._batching = False  # in buffer() or ecbs(): write in chunks
        # the drain loop's plans (consume.fastpath): CPU -> EPID -> plan or
        # None, for the printer state in _plan_state
        self._plans: dict[int, dict[int, object | None]] = {}
        self._plan_state: tuple[object, ...] = ()

    # the drain loop (_drain) renders the records of planned EPIDs; a
    # subclass that prints records differently turns it off
    fast = True

    # -- output --------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Output: written to out at once, or while printing a buffer
        (buffer(), ecbs()) queued and written in chunks, at the end of the
        buffer and on flush()."""
        if data:
            self._pending.append(data)
            self._npending += len(data)
            if self._npending >= CHUNK or not self._batching:
                self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._npending = 0
            self.out.write(data)

    def flush(self) -> None:
        """Write what is queued and flush out (the end of a pass, and before
        anything else writes: warnings, system(), freopen())."""
        self._write_pending()
        self.out.flush()

    # -- records -------------------------------------------------------------
    def buffer(self, cpu: int, data: bytes, oldest: int = 0) -> None:
        """Print one CPU's snapshot, oldest record first (a wrapped ring
        buffer starts at ``oldest``, runs to the end and resumes at 0).  Records of
        planned EPIDs are rendered by the drain loop in chunks; any other
        record by :meth:`ecb`.  Raises ValueError for a record that
        overruns the buffer and DeviceError for an unknown EPID."""
        if self.flowindent:  # flowindent looks at the record after each return
            self.ecbs(ecb_records(cpu, data, oldest, self.device.eprobe))
            return
        batching, self._batching = self._batching, True
        try:
            self._span(cpu, data, oldest, len(data))
            if oldest:
                self._span(cpu, data, 0, oldest)
        finally:
            self._batching = batching
            if not batching:
                self._write_pending()

    def _span(self, cpu: int, data: bytes, off: int, end: int) -> None:
        fast = self.fast and fastpath.AVAILABLE
        while off + 4 <= end:
            if fast:
                plans = self._cpu_plans(cpu)
                out, off, reason, _ = fastpath.render(data, off, end, plans, CHUNK)
                if out:
                    self.write(out)
                if reason != fastpath.SLOW:
                    if reason == fastpath.DONE:
                        return
                    continue
            epid = read_int(data, off, 4, False)
            if epid == 0:
                off += 4
                continue
            ep = self.device.eprobe(epid)
            if ep.size < records.RECHDR_SIZE or off + ep.size > end:
                raise ValueError(
                    f"EPID {epid} at offset {off}: record of {ep.size} bytes overruns the buffer"
                )
            if fast and epid not in plans:
                plans[epid] = self._plan(cpu, ep)
                if plans[epid] is not None:
                    continue  # the drain loop prints it
            self.ecb(EcbRecord(cpu, data, off, ep))
            off += ep.size

    def _cpu_plans(self, cpu: int) -> dict[int, object | None]:
        """The plans for records of this CPU in the printer's current state
        (quiet and rawbytes may change by setopt(), the header is printed once)."""
        formats = (id(self.formats), len(self.formats))
        state = (self.quiet, self.rawbytes, self.heading, self.flowindent, formats)
        if state != self._plan_state:
            self._plans = {}
            self._plan_state = state
        plans = self._plans.get(cpu)
        if plans is None:
            plans = self._plans[cpu] = {}
        return plans

    def _plan(self, cpu: int, ep: EProbe) -> object | None:
        """The drain loop's plan for an EPID's records on this CPU, or None:
        the printer prints them (also before the header is out)."""
        if self.flowindent or not (self.quiet or self.heading):
            return None
        try:
            prefix = b"" if self.quiet else probe_line(cpu, self.device.probe(ep.probeid))
        except DeviceError:
            return None  # ecb() reports it
        return fastpath.make_plan(ep, self.formats, self.quiet, self.rawbytes, prefix)

    def ecbs(self, recs: Sequence[EcbRecord]) -> None:
        """Print one CPU's records in buffer order; flowindent looks at the
        record after each return (dt_consume_cpu)."""
        batching, self._batching = self._batching, True
        try:
            for i, r in enumerate(recs):
                self._following = recs[i + 1] if i + 1 < len(recs) else None
                self.ecb(r)
        finally:
            self._following = None
            self._batching = batching
            if not batching:
                self._write_pending()

    def probe(self, rec: EcbRecord) -> ProbeDesc:
        return self.device.probe(rec.eprobe.probeid)

    def ecb(self, rec: EcbRecord) -> None:
        """Print one ECB record: probe line, each record, newline."""
        if rec.eprobe.uarg == DTRACE_UARG_ERROR:
            self.fault(rec)
            if self.flowindent:
                self._flow_seen(rec)
            return
        parts = []
        if self.flowindent:
            # dtrace(1)'s chew() prints the flow header and line in quiet mode too
            if not self.heading:
                parts.append(FLOW_HEADER)
                self.heading = True
            parts.append(self._flow(rec))
        elif not self.quiet:
            if not self.heading:
                parts.append(HEADER)
                self.heading = True
            parts.append(probe_line(rec.cpu, self.probe(rec)))
        for item in self.actions(rec):
            if isinstance(item, PrintfItem):
                parts.append(self._printf(rec, item))
            elif isinstance(item, PrintaItem):
                parts.append(self._printa(rec, item.fmtidx, item.varids))
            elif isinstance(item, TracememItem):
                parts.append(tracemem_value(rec.raw(item.rec), item.dynsize))
            elif isinstance(item, ShellItem):
                self.write(b"".join(parts))  # what came before goes first
                parts.clear()
                self.shell(rec, item)
            elif item.action in stackfmt.KINDS and item.size:
                parts.append(stackfmt.record_text(item.action, item.arg, rec.raw(item)))
            elif item.size:
                parts.append(trace_value(rec.raw(item), self.quiet, self.rawbytes))
        if not self.quiet:
            parts.append(b"\n")
        self.write(b"".join(parts))

    def finish(self, status: int) -> None:
        """The end of the run, after the final drain: dtrace(1)'s newline,
        then every aggregation not printed by printa()."""
        self.write(b"\n")
        if self.aggs is not None:
            self.write(self.aggs.print_unprinted(self.aggopts))
        self.flush()
        self.out = self.redirect.close(self.out)

    def actions(
        self, rec: EcbRecord
    ) -> Iterator[RecDesc | PrintfItem | PrintaItem | TracememItem | ShellItem]:
        """The clause's records grouped as dtrace consumes them: a printf()
        with its argument records, a printa() with its aggregations, else
        one record.  exit() and the library actions are done here."""
        recs = rec.eprobe.recs
        i = 0
        dynsize = 0
        while i < len(recs):
            r = recs[i]
            if r.action == lib.DTRACEACT_TRACEMEM_DYNSIZE and r.size == 8:
                dynsize = rec.integer(r, False)
                i += 1
            elif r.action == lib.DTRACEACT_TRACEMEM:
                yield TracememItem(r, dynsize)
                dynsize = 0
                i += 1
            elif r.action == lib.DTRACEACT_EXIT:
                self.exit_status = rec.integer(r, True)
                i += 1
            elif r.action == lib.DTRACEACT_PRINTF and 0 < r.format <= len(self.formats):
                j = i + 1
                while (
                    j < len(recs) and recs[j].action == lib.DTRACEACT_PRINTF and recs[j].format == 0
                ):
                    j += 1
                yield PrintfItem(self.formats[r.format - 1], recs[i:j])
                i = j
            elif r.action in SHELL_KINDS and 0 < r.format <= len(self.formats):
                j = i + 1
                while j < len(recs) and recs[j].action == r.action and recs[j].format == 0:
                    j += 1
                yield ShellItem(r.action, self.formats[r.format - 1], recs[i:j])
                i = j
            elif r.action == lib.DTRACEACT_PRINTA:
                j = i
                varids = []
                while j < len(recs) and recs[j].action == r.action and recs[j].uarg == r.uarg:
                    varids.append(rec.integer(recs[j], False))
                    j += 1
                yield PrintaItem(r.format, varids)
                i = j
            elif r.action == lib.DTRACEACT_LIBACT:
                i = self._libact(rec, i)
            else:
                yield r
                i += 1

    def shell(self, rec: EcbRecord, item: ShellItem) -> None:
        """system() or freopen() (consume.destr), with its formatted text."""
        try:
            text = format_printf(item.fmt, [rec.raw(x) for x in item.recs])
        except PrintfError as e:
            raise ConsumeError(self._fault(rec, str(e))) from e
        self._write_pending()  # our output comes first
        if item.action == lib.DTRACEACT_SYSTEM:
            run_system(text, self.out)
            return
        try:
            self.out = self.redirect.freopen(self.out, text)
        except OSError as e:
            self.warn(self._fault(rec, f"{os.fsdecode(text)}: {os.strerror(e.errno or 0)}"))

    def _printf(self, rec: EcbRecord, item: PrintfItem) -> bytes:
        try:
            return format_printf(item.fmt, [rec.raw(x) for x in item.recs])
        except PrintfError as e:
            raise ConsumeError(self._fault(rec, str(e))) from e

    def _flow(self, rec: EcbRecord) -> bytes:
        """dt_flowindent() and chew() for one record: its flow line; the
        CPU's indentation moves as dtrace's does.

        Followed: illumos libdtrace/common/dt_consume.c (dt_flowindent,
        dt_consume_cpu) and cmd/dtrace/dtrace.c (chew).  An entry record
        whose probe is that of the previous record but whose EPID differs (a
        second clause of the same firing) is not an entry; a return record
        followed by another clause of the same probe is not a return yet.
        The indentation grows by 2 after an entry and shrinks by 2 (never
        below 0) before a return.  One state per CPU, kept across snapshots:
        illumos keeps one for all CPUs, Solaris and Oracle reset it per
        buffer snapshot; per CPU matches both whenever a CPU's calls fit in
        one snapshot, and a thread's calls do not mix with another CPU's.
        """
        probe = self.probe(rec)
        state = self.flows.setdefault(rec.cpu, FlowState())
        epid = rec.eprobe.epid
        kind = flow_kind(probe)
        if (
            kind == FLOW_ENTRY
            and state.last_epid is not None
            and state.last_epid != epid
            and state.last_probe == probe.id
        ):
            kind = FLOW_NONE
        nxt = self._following
        if (
            kind == FLOW_RETURN
            and nxt is not None
            and nxt.eprobe.epid != epid
            and nxt.eprobe.probeid == probe.id
        ):
            kind = FLOW_NONE
        if kind == FLOW_RETURN and state.indent > 0:
            state.indent -= 2
        line = flow_line(rec.cpu, probe, state.indent, kind)
        if kind == FLOW_ENTRY:
            state.indent += 2
        self._flow_seen(rec)
        return line

    def _flow_seen(self, rec: EcbRecord) -> None:
        state = self.flows.setdefault(rec.cpu, FlowState())
        state.last_epid = rec.eprobe.epid
        state.last_probe = rec.eprobe.probeid

    def fault(self, rec: EcbRecord) -> None:
        """A record of the library's own ERROR clause (arg1..arg5): report
        the fault as dt_handle_err() does; tracing goes on."""
        epid, probe, action, offset, code, addr = self.fault_args(rec)
        self.flush()  # what was printed before the fault comes first
        self.warn(fault_message(epid, probe, action, offset, code, addr))

    def fault_args(self, rec: EcbRecord) -> tuple[int, ProbeDesc, int, int, int, int]:
        """The ERROR clause's record: the faulting EPID, its probe, the
        action, the DIF offset, the fault code and the address."""
        recs = rec.eprobe.recs
        if len(recs) != 5:
            raise ConsumeError(self._fault(rec, "malformed ERROR record"))
        epid, action, offset, code, addr = (rec.integer(r, True) for r in recs)
        try:
            probe = self.device.probe(self.device.eprobe(epid).probeid)
        except DeviceError as e:
            raise ConsumeError(f"processing aborted: {e.message}") from e
        return epid, probe, action, offset, code, addr

    def _printa(self, rec: EcbRecord, fmtidx: int, varids: list[int]) -> bytes:
        """printa() of those aggregation variables, with or without a format."""
        if self.aggs is None or not varids:
            return b""
        try:
            if 0 < fmtidx <= len(self.formats):
                return self.aggs.printa_format(
                    self.formats[fmtidx - 1], varids, self.aggopts, format_printa
                )
            return self.aggs.printa(varids, self.aggopts)
        except (PrintfError, ValueError, KeyError) as e:
            raise ConsumeError(self._fault(rec, str(e))) from e

    def _libact(self, rec: EcbRecord, i: int) -> int:
        """clear, trunc, normalize, denormalize, setopt at record i; the
        index of the record after it."""
        recs = rec.eprobe.recs
        r = recs[i]
        arg: RecDesc | None = None
        paired = (lib.DTRACE_LIBACT_NORMALIZE, lib.DTRACE_LIBACT_TRUNC, lib.DTRACE_LIBACT_SETOPT)
        if r.arg in paired:
            if i + 1 >= len(recs) or recs[i + 1].action != r.action or recs[i + 1].arg != r.arg:
                raise ConsumeError(self._fault(rec, "library action without its argument"))
            arg = recs[i + 1]
        if r.arg == lib.DTRACE_LIBACT_SETOPT and arg is not None:
            name = rec.cstr(r).decode("utf-8", "replace")
            value = rec.cstr(arg).decode("utf-8", "replace") if arg.size > 8 else None
            self.setopt(name, value)
            return i + 2
        aggs = self.aggs
        if aggs is not None and r.size == 8:
            varid = rec.integer(r, False)
            if r.arg == lib.DTRACE_LIBACT_CLEAR:
                aggs.clear(varid)
            elif r.arg == lib.DTRACE_LIBACT_DENORMALIZE:
                aggs.denormalize(varid)
            elif arg is not None and arg.size in (1, 2, 4, 8):
                n = rec.integer(arg, r.arg == lib.DTRACE_LIBACT_TRUNC)
                if r.arg == lib.DTRACE_LIBACT_TRUNC:
                    aggs.trunc(varid, n)
                else:
                    aggs.normalize(varid, n)
        return i + (2 if arg is not None else 1)

    def setopt(self, name: str, value: str | None) -> None:
        """setopt() of a runtime option the printer honours."""
        on = value is None or value.lower() not in _FALSE
        if name == "quiet":
            self.quiet = on
        elif name == "rawbytes":
            self.rawbytes = on
        elif name in ("aggsortkey", "aggsortrev"):
            field = "key" if name == "aggsortkey" else "rev"
            self.aggopts = dataclasses.replace(self.aggopts, **{field: on})
        elif name in ("agghist", "aggpack", "aggzoom"):
            field = {"agghist": "hist", "aggpack": "pack", "aggzoom": "zoom"}[name]
            self.aggopts = dataclasses.replace(self.aggopts, **{field: on})
        elif name == "encoding" and value in ("ascii", "utf8"):
            self.aggopts = dataclasses.replace(self.aggopts, encoding=value)
        elif name in ("aggsortpos", "aggsortkeypos") and value is not None and value.isdigit():
            field = "pos" if name == "aggsortpos" else "keypos"
            self.aggopts = dataclasses.replace(self.aggopts, **{field: int(value)})

    def _fault(self, rec: EcbRecord, text: str) -> str:
        p = self.probe(rec)
        return f"error on enabled probe ID {rec.eprobe.epid} (ID {p.id}: {p.fullname}): {text}"


def make_printer(
    oformat: object,
    device: Device,
    formats: Sequence[Format],
    out: BinaryIO,
    **kw: object,
) -> Printer:
    """The printer of an oformat option value: JsonPrinter for "json", else
    dtrace(1)'s text Printer.  ``kw`` are Printer's keyword arguments.
    pydtrace.consume.jsonout (and the json module) is imported only for
    "json", so text output does not pay for it."""
    cls: type[Printer] = Printer
    if oformat == "json":
        from pydtrace.consume.jsonout import JsonPrinter

        cls = JsonPrinter
    return cls(device, formats, out, **kw)  # type: ignore[arg-type]


class _Deferred(Exception):
    """BUFSNAP said EBUSY: the buffers are fill or ring, read after STOP."""


_READ_AT_END = (lib.DTRACEOPT_BUFPOLICY_FILL, lib.DTRACEOPT_BUFPOLICY_RING)


class Session:
    """One tracing session on an open device, GO to the final drain.

    With the ``fill`` and ``ring`` buffer policies (``bufpolicy``, a
    DTRACEOPT_BUFPOLICY_* value) the principal buffers are read once, after
    STOP; a ring's snapshot starts at its oldest record.  When the policy is
    not given, a BUFSNAP refused with EBUSY while tracing tells the same.
    """

    def __init__(
        self,
        device: Device,
        printer: Printer,
        *,
        bufsize: int,
        switchrate: int = NANOSEC,
        aggsize: int = 4 << 20,
        aggrate: int = NANOSEC,
        bufpolicy: int | None = None,
        statusrate: int = NANOSEC,
        warn: Callable[[str], None],
        droptags: bool = False,
        cpu: int | None = None,
    ) -> None:
        self.device = device
        self.droptags = droptags
        # the cpu option: the only CPU traced, where GO and STOP run so
        # that BEGIN and END (they fire where the ioctl runs) are traced
        self.cpu = cpu
        self.printer = printer
        self.bufsize = bufsize
        self.switchrate = max(switchrate, 1)
        self.aggsize = max(aggsize, 8)
        self.aggrate = max(aggrate, 1)
        self.statusrate = min(max(statusrate, 1), MAX_STATUSRATE)
        self._last_agg = 0
        self._last_status = 0
        self.warn = warn
        self.ncpus = 0
        self.began_on: int | None = None
        self.ended_on: int | None = None
        self.stopped = False
        self._last_switch = 0
        # a pass found a buffer at least half full (or dropping): the next
        # one is due at once, not a switchrate later
        self._hurry = False
        self._poller: select.poll | None = None
        self._status: Status | None = None
        self._drops: list[str] = []
        self.read_at_end = bufpolicy in _READ_AT_END

    # -- steps --------------------------------------------------------------
    def go(self) -> None:
        self.ncpus = self.device.conf().maxcpus
        self.began_on = _on_cpu(self.cpu, self.device.go)

    def stop(self) -> None:
        """STOP (END fires), then status one final time (dtrace_stop)."""
        if not self.stopped:
            self.ended_on = _on_cpu(self.cpu, self.device.stop)
            self.stopped = True
            self._poll()

    def _poll(self) -> Status:
        """STATUS: report what is new since the last poll."""
        st = self.device.status()
        for msg in status_drops(self._status, st, self.droptags):
            self.warn(msg)
        self._status = st
        if st.killed:
            raise ConsumeError("processing aborted: Abort due to systemic unresponsiveness")
        return st

    def status(self) -> bool:
        """dtrace_status(): at most once per statusrate (on a fixed grid from
        the first poll, which is at once), poll status, report new drops and
        stop on exit() or a full fill buffer.  True once tracing has stopped."""
        if self.stopped:
            return True
        now = time.monotonic_ns()
        if self._last_status:
            if now - self._last_status < self.statusrate:
                return False
            self._last_status += self.statusrate
        else:
            self._last_status = now
        st = self._poll()
        if st.exiting or st.filled:
            self.stop()
        return self.stopped

    def _wake(self) -> int:
        """dtrace_sleep()'s deadline: the earliest of the next status poll,
        buffer switch and aggregation snapshot (only the status poll while
        fill and ring buffers wait for the end)."""
        wake = self._last_status + self.statusrate
        if not self.read_at_end:
            wake = min(wake, self._next_switch())
            if self.printer.aggs is not None:
                wake = min(wake, self._last_agg + self.aggrate)
        return wake

    def sleep(self, interrupted: Callable[[], bool]) -> None:
        """Sleep until the next deadline, waking early once interrupted()
        (dtrace(1) is woken by its signal handler and by process exits) or
        once the device says a principal buffer is past half full: then the
        next pass is due at once (dtrace(1) waits for its switchrate and
        drops what does not fit in the meantime)."""
        wake = self._wake()
        waiter = self._waiter()
        while not interrupted():
            left = wake - time.monotonic_ns()
            if left <= 0:
                return
            step = min(left, WAKE_NS)
            if waiter is None:
                time.sleep(step / NANOSEC)
            elif waiter.poll(-(-step // 1_000_000)):
                self._hurry = True
                return

    def _waiter(self) -> select.poll | None:
        """A poll object on the device while switch buffers are read as
        they fill; None: sleep on the clock alone."""
        fileno = getattr(self.device, "fileno", None)
        if self.read_at_end or fileno is None:
            return None
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(fileno(), select.POLLIN)
        return self._poller

    def step(self, interrupted: Callable[[], bool]) -> bool:
        """One turn of dtrace(1)'s loop (dtrace_sleep, then dtrace_work): sleep
        until the next deadline, poll, snapshot, print.  True once tracing has
        stopped and everything is drained."""
        self.sleep(interrupted)
        if interrupted():
            self.stop()
        done = self.status()
        self.snap_aggregations(force=done)
        self.consume(force=done)
        return done

    def run(self, interrupted: Callable[[], bool]) -> int | None:
        """Trace until exit(), a full fill buffer or an interrupt; the exit()
        value."""
        while not self.step(interrupted):
            pass
        return self.printer.exit_status

    # -- consuming ------------------------------------------------------------
    def snap_aggregations(self, force: bool = False) -> None:
        """Every aggrate: snapshot each CPU's aggregation buffer and merge it
        (dtrace_aggregate_snap); report aggregation drops."""
        aggs = self.printer.aggs
        if aggs is None:
            return
        now = time.monotonic_ns()
        if not force and now - self._last_agg < self.aggrate:
            return
        self._last_agg = now
        for cpu in range(self.ncpus):
            try:
                snap = self.device.aggsnap(cpu, self.aggsize)
            except DeviceError as e:
                raise ConsumeError(f"processing aborted: {e.message}") from e
            if snap is None:
                continue
            if snap.drops:
                self.warn(agg_drops(snap.drops, cpu, self.droptags))
            try:
                aggs.merge(snap.data)
            except (ValueError, DeviceError) as e:
                raise ConsumeError(f"processing aborted: {e}") from e

    def consume(self, force: bool = False) -> None:
        """One pass over every CPU's buffer, in dtrace's order; fill and ring
        buffers only once tracing has stopped."""
        if self.read_at_end and not self.stopped:
            return
        now = time.monotonic_ns()
        if not force and now < self._next_switch():
            return
        self._last_switch = now
        self._hurry = False
        began = self.began_on
        try:
            self._consume_pass()
        except _Deferred:
            self.read_at_end = True
            self.began_on = began
        self.printer.flush()

    def _next_switch(self) -> int:
        """When the next pass is due: a switchrate after the last one, at
        once after a pass that found a buffer half full or dropping (the
        buffers are filling faster than switchrate allows for; dtrace(1)
        waits the switchrate regardless)."""
        return self._last_switch if self._hurry else self._last_switch + self.switchrate

    def _consume_pass(self) -> None:
        if self.began_on is not None:
            self._consume_begin()
        for cpu in range(self.ncpus):
            if self.stopped and cpu == self.ended_on:
                continue
            self._consume_cpu(self._snapshot(cpu))
        if self.stopped and self.ended_on is not None:
            self._consume_cpu(self._snapshot(self.ended_on))

    def _consume_begin(self) -> None:
        """First pass: BEGIN's CPU first; if END ran there too, BEGIN's records
        first, then the other CPUs, then the rest of that CPU."""
        cpu, self.began_on = self.began_on, None
        snap = self._snapshot(cpu)
        if not self.stopped or cpu != self.ended_on:
            self._consume_cpu(snap)
            return
        recs = self._records(snap) if snap is not None else []

        def is_begin(r: EcbRecord) -> bool:
            p = self.printer.probe(r)
            return p.provider == "dtrace" and p.name == "BEGIN"

        self._print_records([r for r in recs if is_begin(r)], report=False)
        for other in range(self.ncpus):
            if other != cpu:
                self._consume_cpu(self._snapshot(other))
        self._print_records([r for r in recs if not is_begin(r)])

    def _snapshot(self, cpu: int) -> BufSnapshot | None:
        """BUFSNAP of one CPU; its drops are reported after its records."""
        try:
            snap = self.device.bufsnap(cpu, self.bufsize)
        except DeviceError as e:
            if e.errno == errno.EBUSY and not self.stopped:
                raise _Deferred from e
            raise ConsumeError(f"processing aborted: {e.message}") from e
        if snap is not None:
            if snap.drops:
                self._drops.append(cpu_drops(snap.drops, cpu, self.droptags))
            if snap.drops or 2 * len(snap.data) >= self.bufsize:
                self._hurry = True
        return snap

    def _records(self, snap: BufSnapshot) -> list[EcbRecord]:
        try:
            return ecb_records(snap.cpu, snap.data, snap.oldest, self.device.eprobe)
        except (ValueError, DeviceError) as e:
            raise ConsumeError(f"processing aborted: {e}") from e

    def _consume_cpu(self, snap: BufSnapshot | None, report: bool = True) -> None:
        """Print one CPU's snapshot, then report its drops."""
        if snap is not None:
            try:
                self.printer.buffer(snap.cpu, snap.data, snap.oldest)
            except (ValueError, DeviceError) as e:
                raise ConsumeError(f"processing aborted: {e}") from e
        self._report(report)

    def _print_records(self, recs: list[EcbRecord], report: bool = True) -> None:
        self.printer.ecbs(recs)
        self._report(report)

    def _report(self, report: bool) -> None:
        if report and self._drops:
            self.printer.flush()
            for msg in self._drops:
                self.warn(msg)
            self._drops.clear()


def _on_cpu(cpu: int | None, call: Callable[[], int]) -> int:
    """call() with this thread bound to cpu (None: where it is), then
    unbound again.  A CPU the thread may not use is left to the module."""
    if cpu is None:
        return call()
    try:
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
    except OSError:
        return call()
    try:
        return call()
    finally:
        os.sched_setaffinity(0, old)


def _stderr_warn(msg: str) -> None:
    sys.stderr.write(f"pydtrace: {msg}\n")
    sys.stderr.flush()
