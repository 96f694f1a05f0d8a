"""The scripting API: compile D programs, enable them, trace, get the output.

    >>> from pydtrace.api import trace
    >>> status, out = trace('BEGIN { printf("%d\\n", 6 * 7); exit(0); }', quiet=True)

:class:`Consumer` is one DTrace consumer (one open /dev/dtrace), used by the
CLI step by step so it can print dtrace(1)'s notices between the steps.

Only the compiler is imported with this module: the device, the fbt function
list and the consumer loop are imported by the steps that use them, so that
compiling (``pydtrace -e``) starts quickly.
"""

from __future__ import annotations

import errno
import io
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, BinaryIO

from pydtrace.abi import DTRACE_UARG_ERROR
from pydtrace.compiler import Compiler, Program
from pydtrace.errors import DError, errmsg
from pydtrace.options import Options

if TYPE_CHECKING:
    from pydtrace.consume.aggregate import Aggregations, SortOptions
    from pydtrace.consume.loop import Session
    from pydtrace.runtime.fbtaddrs import Blacklist
    from pydtrace.runtime.fbtnames import KernelFunction, TooManyFunctions
    from pydtrace.runtime.kernel import Device, ProbeDesc, ProbeRow
    from pydtrace.runtime.sdtnames import TraceEvent

# libdtrace's own ERROR clause (2.9): its records are turned into fault reports.
ERROR_CLAUSE = "dtrace:::ERROR { trace(arg1); trace(arg2); trace(arg3); trace(arg4); trace(arg5); }"


def crop_label(text: str) -> str:
    """A -n argument as dtrace(1) reports it: cut before its first '{', '/' or ';'."""
    for i, ch in enumerate(text):
        if ch in "{/;":
            return text[:i]
    return text


def strip_interpreter_line(source: str) -> str:
    """Blank out a first line starting with '#!' (keeps line numbers)."""
    if source.startswith("#!"):
        nl = source.find("\n")
        return "" if nl < 0 else source[nl:]
    return source


def parse_probe_pattern(text: str) -> tuple[str, str, str, str]:
    """provider:module:function:name from a description; missing fields are
    on the left and match anything."""
    parts = crop_label(text).strip().split(":")
    if len(parts) > 4:
        raise ValueError(f'invalid probe description "{text}": Overspecified probe description')
    parts = [""] * (4 - len(parts)) + parts
    return parts[0], parts[1], parts[2], parts[3]


def probe_matches(probe: ProbeDesc, pattern: tuple[str, str, str, str]) -> bool:
    """Does the probe match the description (DTrace's globs, as the module)?"""
    from pydtrace.runtime.fbtnames import field_matches

    fields = (probe.provider, probe.mod, probe.func, probe.name)
    pairs = zip(fields, pattern, strict=True)
    return all(field_matches(f, pat) for f, pat in pairs)


def _provide_error_class() -> type[Exception]:
    """ProvideError, a DeviceError: defined on first use, so that importing
    this module does not import the device's."""
    cls = globals().get("ProvideError")
    if cls is None:
        from pydtrace.runtime.kernel import DeviceError

        class ProvideError(DeviceError):
            """A description fbt cannot provide (too many functions); the message is
            dtrace(1)'s compile-error text after its ``dtrace: `` prefix."""

        ProvideError.__module__ = __name__
        globals()["ProvideError"] = cls = ProvideError
    return cls


def __getattr__(name: str) -> object:
    if name == "ProvideError":
        return _provide_error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _read_filter_functions() -> list[KernelFunction]:
    from pydtrace.runtime.fbtnames import read_filter_functions

    return read_filter_functions()


def _read_fbt_symbols() -> tuple[dict[tuple[str, str], int], Blacklist]:
    from pydtrace.runtime.fbtaddrs import read_blacklist, read_text_symbols

    return read_text_symbols(), read_blacklist()


def _read_available_events() -> list[TraceEvent]:
    from pydtrace.runtime.sdtnames import read_available_events

    return read_available_events()


class Aborted(Exception):
    """A second SIGINT/SIGTERM: tracing is abandoned without draining."""


def full_name(fields: tuple[str, str, str, str]) -> str:
    return ":".join(fields)


class Consumer:
    """One DTrace consumer: a compiler, and the device once opened."""

    def __init__(
        self,
        options: Options | None = None,
        *,
        device: str | None = None,
        out: BinaryIO | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.compiler = Compiler(options)
        self.device_path = device  # None: the module's (/dev/dtrace)
        self.out = out if out is not None else sys.stdout.buffer
        self.warn = warn if warn is not None else _stderr_warn
        self.programs: list[Program] = []
        self.device: Device | None = None
        self.session: Session | None = None
        self.aggs: Aggregations | None = None
        self._interrupted = False
        # the kernel's probeable functions (tracefs), read once when an fbt
        # glob needs them; replaceable (tests)
        self.kernel_functions: Callable[[], list[KernelFunction]] = _read_filter_functions
        self._functions: list[KernelFunction] | None = None
        # where they start (kallsyms) and the kprobes blacklist, read once
        # when many are provided at once; replaceable (tests)
        self.fbt_symbols: Callable[[], tuple[dict[tuple[str, str], int], Blacklist]] = (
            _read_fbt_symbols
        )
        self._fbt_syms: tuple[dict[tuple[str, str], int], Blacklist] | None = None
        # the kernel's trace events (tracefs), read once when sdt needs them
        self.trace_events: Callable[[], list[TraceEvent]] = _read_available_events
        self._events: list[TraceEvent] | None = None
        self._error_prog: Program | None = None

    # -- options --------------------------------------------------------------
    @property
    def options(self) -> Options:
        return self.compiler.options

    def setopt(self, name: str, value: str | None = None) -> None:
        self.options.set(name, value)

    def _flag(self, name: str) -> bool:
        return self.options.is_set(name)

    @property
    def quiet(self) -> bool:
        return self._flag("quiet")

    # -- steps ----------------------------------------------------------------
    def compile(self, source: str, *, kind: str = "probe", label: str | None = None) -> Program:
        """Compile one program (raises DError); it is enabled by :meth:`enable`."""
        if kind == "script":
            source = strip_interpreter_line(source)
        prog = self.compiler.compile(source, kind=kind, label=source if label is None else label)
        self.programs.append(prog)
        return prog

    def open(self) -> Device:
        if self.device is None:
            from pydtrace.runtime.kernel import DEFAULT_DEVICE, Device

            self.device = Device(self.device_path or DEFAULT_DEVICE)
        return self.device

    def enable(self, program: Program) -> int:
        """Enable one compiled program; the number of probes it matched.
        The fbt probes its globs name are provided first."""
        label = crop_label(program.label) if program.kind == "probe" else program.label
        self.provide(self.descriptions(program), kind=program.kind, label=label)
        self._prepare_go()
        return self.open().enable(program.data, label)

    def _prepare_go(self) -> None:
        """What :meth:`go` needs that takes time (the consumer's imports, the
        ERROR clause's compilation), done before the first enabling: probes
        are live from ENABLE (a tick-N timer starts then, as illumos's cyclic),
        so the time from ENABLE to GO must be short, or a program's first
        tick-N comes at a random point of its first interval after BEGIN."""
        if self._error_prog is not None:
            return
        import pydtrace.consume.aggregate  # noqa: F401
        import pydtrace.consume.loop  # noqa: F401
        import pydtrace.consume.symbols  # noqa: F401

        if str(self.options.get("oformat")) == "json":
            import pydtrace.consume.jsonout  # noqa: F401
        # the command line's $1..$n are not its arguments (it references none)
        saved, self.compiler.macro_args = self.compiler.macro_args, []
        try:
            self._error_prog = self.compiler.compile(
                ERROR_CLAUSE, kind="probe", label=ERROR_CLAUSE, uarg=DTRACE_UARG_ERROR
            )
        finally:
            self.compiler.macro_args = saved

    def _kernel_functions(self) -> list[KernelFunction]:
        if self._functions is None:
            self._functions = self.kernel_functions()
        return self._functions

    def provide(
        self,
        descs: list[tuple[str, str, str, str]],
        *,
        listing: bool = False,
        kind: str = "probe",
        label: str | None = None,
    ) -> int:
        """Create the fbt and sdt probes the descriptions name.  The module
        creates those of an exact function itself (at ENABLE; for listing,
        through PROVIDE), but the functions of a glob come from tracefs (see
        pydtrace.runtime.fbtnames) and are provided together with their
        addresses (pydtrace.runtime.fbtaddrs).  listing: for -l, where no
        description is too wide.  Raises ProvideError when a description to
        enable names too many functions.  How many functions and events were
        provided."""
        from pydtrace.runtime.fbtnames import (
            MAX_FUNCTIONS,
            TooManyFunctions,
            fbt_functions,
            is_glob,
        )

        batch: dict[KernelFunction, None] = {}
        n = 0
        for desc in descs:
            try:
                funcs = fbt_functions(
                    desc,
                    self._kernel_functions,
                    limit=None if listing else MAX_FUNCTIONS,
                )
            except TooManyFunctions as e:
                raise self._provide_error(e, kind, label) from None
            if desc[2] and not is_glob(desc[2]):  # one exact function
                if listing and funcs:
                    n += self._provide_named(funcs)
                continue  # else ENABLE provides it
            batch.update(dict.fromkeys(funcs))
        return n + self._provide_fbt(list(batch)) + self.provide_sdt(descs, listing=listing)

    def _provide_named(self, funcs: list[KernelFunction]) -> int:
        """Provide functions by name alone: the module tries a kprobe on
        each (slow: for a few functions)."""
        from pydtrace.runtime.kernel import DeviceError

        device = self.open()
        n = 0
        for kf in funcs:
            try:
                device.provide("fbt", kf.module, kf.name, "")
            except DeviceError as e:
                if e.errno != errno.ENAMETOOLONG:
                    raise
                continue  # no probe can carry that name
            n += 1
        return n

    def _provide_fbt(self, funcs: list[KernelFunction]) -> int:
        """Provide the functions of globs: with their addresses, many per
        call; by name when kallsyms hides the addresses."""
        from pydtrace.runtime.fbtaddrs import with_addresses
        from pydtrace.runtime.fbtnames import MAX_FUNCTIONS

        if not funcs:
            return 0
        if self._fbt_syms is None:
            self._fbt_syms = self.fbt_symbols()
        symbols, blacklist = self._fbt_syms
        if not symbols:
            return self._provide_named(funcs[:MAX_FUNCTIONS])
        pairs = with_addresses(funcs, symbols, blacklist)
        self.open().fbt_provide([(kf.name, addr) for kf, addr in pairs])
        return len(pairs)

    def _trace_events(self) -> list[TraceEvent]:
        if self._events is None:
            self._events = self.trace_events()
        return self._events

    def provide_sdt(self, descs: list[tuple[str, str, str, str]], *, listing: bool = False) -> int:
        """Create the sdt probes the descriptions name (sdt:<system>::<event>
        from tracefs's available_events, see pydtrace.runtime.sdtnames); each
        event once.  How many were provided."""
        from pydtrace.runtime.kernel import DeviceError
        from pydtrace.runtime.sdtnames import sdt_events

        device = self.open()
        done: set[TraceEvent] = set()
        for desc in descs:
            for te in sdt_events(desc, self._trace_events, listing=listing):
                if te not in done:
                    done.add(te)
                    try:
                        device.provide("sdt", te.system, "", te.event)
                    except DeviceError as e:
                        if e.errno != errno.ENAMETOOLONG:
                            raise
        return len(done)

    def _provide_error(self, e: TooManyFunctions, kind: str, label: str | None) -> Exception:
        if label is None:
            label = full_name(e.desc)
        if kind == "script":
            head = f"failed to compile script {label}"
        else:
            head = f"invalid probe specifier {label}"
        err = DError("D_PDESC_INVAL", str(e))
        text = errmsg(err, kind=kind, errtags=self._flag("errtags"))
        return _provide_error_class()(f"{head}: {text}", errno.E2BIG)

    def list_probes(self, patterns: list[str] | None = None) -> Iterator[ProbeDesc]:
        """Probes in id order, those matching any pattern if patterns are given
        (fbt probes the patterns name are provided first)."""
        pats = [parse_probe_pattern(p) for p in patterns or []]
        if pats:
            self.provide(pats, listing=True)
        yield from self.open().probes(pats or None)

    def describe_probe(self, probeid: int) -> str:
        """provider:module:function:name of the probe with that id (-i)."""
        from pydtrace.runtime.kernel import DeviceError

        try:
            p = self.open().probe(probeid)
        except DeviceError:
            p = None
        if p is None:
            raise DError("D_PDESC_INVAL", f"invalid probe identifier {probeid}")
        return full_name((p.provider, p.mod, p.func, p.name))

    @staticmethod
    def descriptions(program: Program) -> list[tuple[str, str, str, str]]:
        """The probe descriptions of a compiled program, one per ECB, in order."""
        from pydtrace.program.decode import decode

        seen: dict[tuple[str, str, str, str], None] = {}
        for ecb in decode(program.data).ecbs:
            seen[tuple(ecb.probe)] = None  # type: ignore[index]
        return list(seen)

    def unmatched(self, program: Program, nmatched: int) -> list[str]:
        """The descriptions of an enabled program that match no probe (for
        zdefs); nmatched is what enabling it reported."""
        pats = self.descriptions(program)
        if nmatched == 0:
            return [full_name(d) for d in pats]
        if len(pats) == 1:
            return []
        device = self.open()
        return [full_name(d) for d in pats if device.first_match(d) is None]

    def print_probes(
        self, probes: Iterator[ProbeDesc], info: Callable[[ProbeDesc], str] | None = None
    ) -> int:
        """dtrace -l: the header, then one row per probe (followed by info's
        text, for -v); how many."""
        from pydtrace.consume.output import LIST_HEADER, list_line

        self.open()
        self.out.write(LIST_HEADER)
        n = 0
        for p in probes:
            self.out.write(list_line(p))
            if info is not None:
                self.out.write(info(p).encode())
            n += 1
        self.out.flush()
        return n

    def print_probe_rows(self, rows: Iterable[ProbeRow]) -> int:
        """print_probes() without -v, from Device.probe_rows(): the fast
        path of a listing of every probe.  How many."""
        from pydtrace.consume.output import LIST_FMT, LIST_HEADER

        self.out.write(LIST_HEADER)
        n = 0
        lines: list[bytes] = []
        for row in rows:
            lines.append(LIST_FMT % row)
            if len(lines) == 4096:
                self.out.write(b"".join(lines))
                n += len(lines)
                lines.clear()
        self.out.write(b"".join(lines))
        self.out.flush()
        return n + len(lines)

    def sort_options(self) -> SortOptions:
        """The aggregation printing options (aggsort*, agghist, aggpack,
        aggzoom, encoding)."""
        from pydtrace.consume.aggregate import SortOptions

        def number(name: str) -> int:
            v = self.options.get(name)
            return v if self._flag(name) and isinstance(v, int) else 0

        return SortOptions(
            key=self._flag("aggsortkey"),
            rev=self._flag("aggsortrev"),
            pos=number("aggsortpos"),
            keypos=number("aggsortkeypos"),
            hist=self._flag("agghist"),
            pack=self._flag("aggpack"),
            zoom=self._flag("aggzoom"),
            encoding=str(self.options.get("encoding")) if self._flag("encoding") else "",
        )

    def enable_error_handler(self) -> None:
        """Enable the library's ERROR clause (not counted in any notice), so
        faults are reported; done by :meth:`go` before tracing starts."""
        self._prepare_go()
        assert self._error_prog is not None
        self.open().enable(self._error_prog.data, crop_label(ERROR_CLAUSE))

    def _policy(self) -> int | None:
        """The bufpolicy option's DTRACEOPT_BUFPOLICY_* value, if set."""
        return int(self.options.get("bufpolicy")) if self.options.is_set("bufpolicy") else None

    def _cpu(self) -> int | None:
        """The cpu option: the only CPU traced, or None for all."""
        value = self.options.get("cpu")
        return value if isinstance(value, int) and value >= 0 else None

    def go(self) -> None:
        """Start tracing (BEGIN fires)."""
        self._go(str(self.options.get("oformat")), self.out)

    def _go(self, oformat: str, out: BinaryIO) -> None:
        from pydtrace.consume.aggregate import Aggregations
        from pydtrace.consume.loop import Session, make_printer

        device = self.open()
        self.enable_error_handler()
        self.aggs = Aggregations(device.aggdesc, {v.id: v for v in self.compiler.aggregations})
        warn = self.warn
        if oformat == "json":  # jsonout (and json) only for JSON output
            from pydtrace.consume.jsonout import json_warn

            warn = json_warn(out, self.warn)
        from pydtrace.consume import symbols

        syms = symbols.default()
        if self.options.is_set("stackindent"):
            syms.indent = int(self.options.get("stackindent"))
        # %A of a plain integer names the -c/-p process, as dtrace's
        syms.target = int(self.compiler.macro_values.get("target", 0))
        printer = make_printer(
            oformat,
            device,
            self.compiler.formats,
            out,
            quiet=self.quiet,
            rawbytes=self._flag("rawbytes"),
            flowindent=self._flag("flowindent"),
            aggs=self.aggs,
            aggopts=self.sort_options(),
            warn=warn,
        )
        self.session = Session(
            device,
            printer,
            bufsize=int(self.options.get("bufsize")),
            switchrate=int(self.options.get("switchrate")),
            aggsize=int(self.options.get("aggsize")),
            aggrate=int(self.options.get("aggrate")),
            bufpolicy=self._policy(),
            statusrate=int(self.options.get("statusrate")),
            warn=warn,
            cpu=self._cpu(),
            droptags=self.options.is_set("droptags"),
        )
        self.session.go()
        self._chosen(device, warn)

    def _chosen(self, device: Device, warn: Callable[[str], None]) -> None:
        """After GO, as dtrace(1)'s go(): say which sizes bufresize=auto
        lowered and which rates the module changed; snapshot with the
        buffer sizes the module allocated."""
        from pydtrace.consume.resize import go_messages
        from pydtrace.options import TABLE, UNSET

        got = device.options()

        def optid(name: str) -> int:
            return int(TABLE[name].optid or 0)

        def asked(name: str) -> int:
            value = self.options.get(name)
            return value if isinstance(value, int) else UNSET

        for msg in go_messages(asked, got, optid, UNSET):
            warn(msg)
        assert self.session is not None
        # (0: no such buffer; never snapshot with the size asked for, which
        # may be far more than was allocated, or than this process can hold)
        for name in ("bufsize", "aggsize"):
            i = optid(name)
            if i < len(got) and got[i] >= 0:
                setattr(self.session, name, max(got[i], 8))

    def aggregations(self) -> dict[str, dict[tuple[object, ...], object]]:
        """The merged aggregations as of the last snapshot: variable name ("" for
        @) -> {key tuple: value}; quantize-family values are lists of
        (bucket lower bound, count), None standing for "below the range"."""
        from pydtrace.consume.aggregate import python_key, python_value

        out: dict[str, dict[tuple[object, ...], object]] = {}
        if self.aggs is None:
            return out
        variables = {v.id: v for v in self.compiler.aggregations}
        for e in self.aggs.sorted(self.sort_options()):
            var = variables.get(e.varid)
            name = var.name if var is not None else f"<{e.varid}>"
            types = list(getattr(var, "keys", []) or [])
            key = tuple(
                python_key(rec, raw, getattr(types[i], "signed", True) if i < len(types) else True)
                for i, (rec, raw) in enumerate(zip(e.keyrecs, e.keys, strict=True))
            )
            out.setdefault(name, {})[key] = python_value(e)
        return out

    def interrupt(self) -> None:
        """Ask a running :meth:`run` to stop (END fires); safe in a signal handler."""
        self._interrupted = True

    def run(
        self,
        handle_signals: bool = True,
        *,
        done: Callable[[], bool] | None = None,
        on_go: Callable[[], None] | None = None,
    ) -> int:
        """Trace until exit(), an interrupt, SIGINT/SIGTERM or done() (polled
        often, e.g. "the -c/-p processes are gone"); then the final drain and
        dtrace(1)'s final newline.  on_go is called once tracing has started.
        A second signal raises :class:`Aborted` at once.  The exit status."""
        old: dict[int, object] = {}
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) == signal.SIG_IGN:
                    continue  # as dtrace(1): an ignored SIGINT stays ignored
                old[sig] = signal.signal(sig, self._on_signal)
        try:
            if self.session is None:
                self.go()
            assert self.session is not None
            if on_go is not None:
                on_go()

            def stop() -> bool:
                return self._interrupted or (done is not None and done())

            status = self.session.run(stop)
            self.session.printer.finish(0 if status is None else status & 0xFF)
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
        return 0 if status is None else status & 0xFF

    def records(self, *, done: Callable[[], bool] | None = None) -> Iterator[dict[str, object]]:
        """Start tracing and yield what it produces as Python objects, the
        records ``-O json`` prints (docs/json.md): ``probe`` firings with their
        typed ``output`` values and ``timestamp`` (D's ``timestamp`` of the
        firing, ns), ``error`` and ``drop`` records as they happen;
        when tracing stops (exit(), :meth:`interrupt`, or done() returning
        true, polled at every turn of the loop) the ``aggregation`` records
        not printed by printa(), and last an ``exit`` record with the status.
        Instead of :meth:`go` and :meth:`run`; the output stream is not used.
        """
        from pydtrace.consume.pyrecords import RecordSink

        if self.session is not None:
            raise RuntimeError("records(): tracing has already started")
        sink = RecordSink()
        self._go("json", sink)  # type: ignore[arg-type]
        session = self.session
        assert session is not None

        def stop() -> bool:
            return self._interrupted or (done is not None and done())

        while not session.step(stop):
            yield from sink.take()
        yield from sink.take()
        status = session.printer.exit_status
        session.printer.finish(0 if status is None else status & 0xFF)
        yield from sink.take()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._interrupted:
            raise Aborted
        self.interrupt()

    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None

    def __enter__(self) -> Consumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stderr_warn(msg: str) -> None:
    sys.stderr.write(f"pydtrace: {msg}\n")
    sys.stderr.flush()


def trace(
    *sources: str,
    quiet: bool = False,
    options: dict[str, str | None] | None = None,
    device: str | None = None,
) -> tuple[int, bytes]:
    """Compile and run D programs (probe-specifier text) until they exit;
    the exit status and everything written to the output."""
    out = io.BytesIO()
    with Consumer(device=device, out=out) as c:
        if quiet:
            c.setopt("quiet")
        for name, value in (options or {}).items():
            c.setopt(name, value)
        for src in sources:
            c.compile(src)
        c.open()
        for prog in c.programs:
            c.enable(prog)
        status = c.run(handle_signals=False)
    return status, out.getvalue()
