"""dtrace(1)'s command line.  The surface (which flags exist) is
:mod:`pydtrace.cli_args`; this module only sequences dtrace(1)'s steps:
options in argv order, -c/-p processes, compile every program in argv order,
enable them with dtrace's notices, trace, and dtrace's messages and exit
statuses (0 ok, 1 failure, 2 usage, or exit()'s value).

Start-up matters (a one-liner must start quickly, also in the emulated test
guest): what only some commands need is imported where they need it: the
consumer side (device, tracing loop) when tracing or listing, the
preprocessor for -C, the -c/-p process handling, the -S listing.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from pydtrace import __version__
from pydtrace.api import Aborted, Consumer, crop_label, parse_probe_pattern, probe_matches
from pydtrace.cli_args import ProgramArg, UsageError, ordered_options, parse_args, program_args
from pydtrace.cli_spec import probe_source, split_head
from pydtrace.cli_stability import probe_info, program_info
from pydtrace.cli_usage import usage, version_line
from pydtrace.errors import DError, render_compile_error
from pydtrace.options import Options

if TYPE_CHECKING:
    from pydtrace.compiler import Program
    from pydtrace.target import Targets

__all__ = ["E_ERROR", "E_SUCCESS", "E_USAGE", "ProgramArg", "main", "program_args"]

E_SUCCESS, E_ERROR, E_USAGE = 0, 1, 2

# Flags that exist in dtrace(1) but not (yet) here: refused with a reason.
_REFUSED = {
    "a": "anonymous tracing is not supported yet",
    "A": "anonymous tracing is not supported yet",
    "G": "USDT provider ELF objects are not supported yet",
    "h": "USDT provider headers are not supported yet",
}
_STDC = "acst"


class _Fail(Exception):
    """Stop with dtrace's message (and the usage text for usage errors)."""

    def __init__(self, message: str, status: int = E_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class _Cpp:
    """The preprocessor flags: -C, -D, -U, -I and -H."""

    enabled: bool = False
    defines: list[str] = field(default_factory=list)
    undefs: list[str] = field(default_factory=list)
    incdirs: list[str] = field(default_factory=list)
    show_includes: bool = False


def _parse(argv: list[str]) -> dict[str, object]:
    try:
        return parse_args(argv)
    except UsageError as e:
        raise _Fail(str(e), E_USAGE) from None


class _NoTargets:
    """The -c/-p processes when there are none (pydtrace.target unimported)."""

    first_pid = 0

    def __bool__(self) -> bool:
        return False

    def release(self) -> None:
        pass

    def __enter__(self) -> _NoTargets:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _targets(ordered: list[tuple[str, str]]) -> Targets | _NoTargets:
    if not any(letter in ("c", "p") for letter, _ in ordered):
        return _NoTargets()
    from pydtrace.target import Targets

    return Targets()


def _setopt(opts: Options, name: str, value: str | None, how: str) -> None:
    try:
        opts.set(name, value)
    except DError as e:
        reason = getattr(e, "reason", e.message)
        raise _Fail(f"failed to set {how}: {reason}") from None


def _set_options(opts: Options, ordered: list[tuple[str, str]], cpp: _Cpp) -> list[str]:
    """dtrace(1)'s option pass, in argv order; the notices it produces."""
    notes: list[str] = []
    flags = {"q": "quiet", "w": "destructive", "F": "flowindent", "Z": "zdefs"}
    for letter, value in ordered:
        if letter in flags:
            _setopt(opts, flags[letter], None, f"-{letter}")
        elif letter == "b":
            _setopt(opts, "bufsize", value, "-b")
        elif letter == "x":
            name, eq, val = value.partition("=")
            _setopt(opts, name, val if eq else None, f"-x {name}")
        elif letter == "O":
            try:
                opts.set("oformat", value)
            except DError as e:
                if not (value == "text" and getattr(e, "reason", "") == "Invalid option name"):
                    raise _Fail(f"failed to set -O {value}: {getattr(e, 'reason', e)}") from None
        elif letter == "X":
            if len(value) != 1 or value not in _STDC:
                raise _Fail(f"failed to set -X {value}: Invalid value for specified option")
            _setopt(opts, "stdc", value, f"-X {value}")
            notes.append(f"-X {value} ignored: cpp(1) runs in its default mode")
        elif letter == "L":
            _setopt(opts, "libdir", value, "-L")
        elif letter == "C":
            cpp.enabled = True
        elif letter == "D":
            cpp.defines.append(value)
        elif letter == "U":
            cpp.undefs.append(value)
        elif letter == "I":
            cpp.incdirs.append(value)
        elif letter == "H":
            cpp.show_includes = True
    cpp.enabled = cpp.enabled or opts.is_set("cpp")
    return notes


def _read_script(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError as e:
        raise _Fail(f"failed to open {path}: {os.strerror(e.errno or 0)}") from None


def _open_output(path: str | None) -> BinaryIO | None:
    if path is None:
        return None
    try:
        return open(path, "ab")  # noqa: SIM115 - closed by _run
    except OSError as e:
        raise _Fail(f"failed to open output file '{path}': {os.strerror(e.errno or 0)}") from None


class _Run:
    """One dtrace(1) invocation after its options are set."""

    def __init__(self, prog: str, kw: dict[str, object], consumer: Consumer, cpp: _Cpp) -> None:
        self.prog = prog
        self.kw = kw
        self.c = consumer
        self.cpp = cpp
        self.trees: dict[int, object] = {}  # id(Program) -> its parse tree

    def notice(self, msg: str) -> None:
        """dtrace(1)'s notice(): suppressed in quiet mode (-q or the pragma)."""
        if not self.c.quiet:
            self.warn(msg)

    def warn(self, msg: str) -> None:
        sys.stderr.write(f"{self.prog}: {msg}\n")
        sys.stderr.flush()

    # -- sources ----------------------------------------------------------
    def source(self, p: ProgramArg) -> str:
        if p.kind == "script":
            text = _read_script(p.text)
            if self.cpp.enabled:
                from pydtrace.lang.cpp import preprocess

                text = preprocess(
                    text,
                    defines=self.cpp.defines,
                    undefs=self.cpp.undefs,
                    incdirs=self.cpp.incdirs,
                    show_includes=self.cpp.show_includes,
                )
            return text
        return probe_source(p.text, p.spec, self.c.describe_probe)

    def compile(self, p: ProgramArg) -> Program | None:
        trees: list[object] = []

        def dump(name: str, state: object) -> None:
            if name == "parse":
                trees.append(state)

        self.c.compiler.dump = dump
        try:
            prog = self.c.compile(self.source(p), kind=p.kind, label=p.text)
        except DError as e:
            self.compile_error(p, e)
            return None
        finally:
            self.c.compiler.dump = None
        self.trees[id(prog)] = trees[0] if trees else None
        return prog

    def desc_line(self, prog: Program, fields: str) -> int | None:
        """The line of the first probe description of prog that reads fields."""
        tree = self.trees.get(id(prog))
        for item in getattr(tree, "items", []):
            for d in getattr(item, "descs", []):
                if ":".join((d.provider, d.module, d.function, d.name)) == fields:
                    return int(d.line)
        return None

    def compile_error(self, p: ProgramArg, e: DError) -> None:
        errtags = self.c.options.is_set("errtags")
        msg = render_compile_error(
            e, progname=self.prog, kind=p.kind, label=p.text, errtags=errtags
        )
        sys.stderr.write(msg + "\n")

    # -- -l -----------------------------------------------------------------
    def list_patterns(self, programs: list[ProgramArg]) -> list[tuple[str, str, str, str]] | None:
        """The descriptions to list (None: every probe)."""
        if not programs:
            return None
        pats: list[tuple[str, str, str, str]] = []
        for p in programs:
            try:
                if p.kind == "script":
                    compiled = self.compile(p)
                    if compiled is None:
                        raise _Fail("", E_ERROR)
                    pats.extend(self.c.descriptions(compiled))
                else:
                    src = probe_source(p.text, p.spec, self.c.describe_probe)
                    pats.extend(parse_probe_pattern(d) for d in split_head(src)[0])
            except DError as e:
                raise _Fail(e.message) from None
            except ValueError as e:
                raise _Fail(str(e)) from None
        return pats

    def list_probes(self, programs: list[ProgramArg]) -> int:
        pats = self.list_patterns(programs)
        if pats is not None:
            self.c.provide(pats, listing=True)  # fbt globs and exact names
        else:
            self.c.provide([("", "", "", "")], listing=True)  # every function and tracepoint
        info = None
        if self.kw["verbose"]:
            from pydtrace.sema.probeargs import probe_args

            def info(p: object) -> str:
                fields = (p.provider, p.mod, p.func, p.name)  # type: ignore[attr-defined]
                args = probe_args(*fields)
                shown = [a.shown for a in args] if args is not None else None
                return probe_info(p.provider, fields, shown)  # type: ignore[attr-defined]

        if info is None:
            n = self.c.print_probe_rows(self.c.open().probe_rows(pats))
        else:
            n = self.c.print_probes(self.c.open().probes(pats), info)
        if pats is not None and n == 0:
            first = programs[0]
            label = crop_label(first.text) if first.kind == "probe" else first.text
            raise _Fail(f"failed to match {label}: No probe matches description")
        return E_SUCCESS

    # -- tracing --------------------------------------------------------------
    def enable(self, programs: list[ProgramArg], compiled: list[Program]) -> int | None:
        """Enable every program; check zdefs; the notices.  A status on failure."""
        counts = [self.c.enable(prog) for prog in compiled]
        if not self.c.options.is_set("zdefs"):
            for p, prog, n in zip(programs, compiled, counts, strict=True):
                bad = self.c.unmatched(prog, n)
                if bad:
                    err = DError(
                        "D_PDESC_ZERO",
                        f"probe description {bad[0]} does not match any probes",
                        self.desc_line(prog, bad[0]),
                    )
                    self.compile_error(p, err)
                    return E_ERROR
        probes = list(self.c.open().probes()) if self.kw["verbose"] else []
        for p, prog, n in zip(programs, compiled, counts, strict=True):
            desc = "description" if p.kind == "probe" else "script"
            label = crop_label(p.text) if p.kind == "probe" else p.text
            self.notice(f"{desc} '{label}' matched {n} probe{'' if n == 1 else 's'}")
            if self.kw["verbose"]:
                descs = self.c.descriptions(prog)
                pairs = [(pr.provider, d) for d in descs for pr in probes if probe_matches(pr, d)]
                self.c.out.write(program_info(desc, label, pairs).encode())
                self.c.out.flush()
        if self.c.options.is_set("destructive"):
            self.notice("allowing destructive actions")
        return None

    def trace(self, targets: Targets | _NoTargets) -> int:
        def done() -> bool:
            for msg in targets.poll():
                self.notice(msg)
            return targets.all_gone()

        def go() -> None:
            if not targets:
                return
            from pydtrace.target import TargetError

            try:
                targets.release()
            except TargetError as e:
                raise _Fail(str(e)) from None

        return self.c.run(done=done if targets else None, on_go=go)


def _reported_errors() -> tuple[type[Exception], ...]:
    """The device's and the consumer loop's errors, whose message is printed
    after the program's name: looked up when an exception reaches main, among
    the modules imported (one not imported raised nothing)."""
    found = []
    for module, name in (
        ("pydtrace.runtime.kernel", "DeviceError"),
        ("pydtrace.consume.loop", "ConsumeError"),
    ):
        mod = sys.modules.get(module)
        if mod is not None:
            found.append(getattr(mod, name))
    return tuple(found)


def _run(argv: list[str], prog: str) -> int:
    if not argv:
        sys.stderr.write(usage(prog))
        return E_USAGE
    kw = _parse(argv)
    if kw["show_help"]:
        sys.stdout.write(usage(prog))
        return E_SUCCESS
    ordered = ordered_options(argv)
    if kw["version"]:
        sys.stdout.write(version_line(prog, __version__))
        return E_SUCCESS
    for letter, _ in ordered:
        if letter in _REFUSED:
            raise _Fail(f"-{letter}: {_REFUSED[letter]}")
    programs = program_args(argv)
    opts = Options()
    cpp = _Cpp()
    notes = _set_options(opts, ordered, cpp)
    out = _open_output(kw["outfile"][-1] if kw["outfile"] else None)  # type: ignore[index]
    try:
        with _targets(ordered) as targets:
            return _trace(prog, kw, programs, opts, cpp, notes, ordered, targets, out)
    finally:
        if out is not None:
            out.close()


def _trace(
    prog: str,
    kw: dict[str, object],
    programs: list[ProgramArg],
    opts: Options,
    cpp: _Cpp,
    notes: list[str],
    ordered: list[tuple[str, str]],
    targets: Targets | _NoTargets,
    out: BinaryIO | None,
) -> int:
    run: _Run | None = None

    def warn(msg: str) -> None:
        sys.stderr.write(f"{prog}: {msg}\n")
        sys.stderr.flush()

    # -c and -p first, in argv order: $target is the first of them
    for letter, value in ordered:
        if letter not in ("c", "p"):
            continue
        from pydtrace.target import TargetError, Targets

        assert isinstance(targets, Targets)
        try:
            if letter == "c":
                targets.create(value)
            else:
                targets.grab(value)
        except TargetError as e:
            raise _Fail(str(e)) from None
    with Consumer(opts, out=out, warn=warn) as c:
        run = _Run(prog, kw, c, cpp)
        for note in notes:
            run.notice(note)
        if targets:
            c.compiler.macro_values["target"] = targets.first_pid
        if kw["args"]:  # $1..$n; $0 is the first program's name, as dtrace
            first = programs[0].text if programs else prog
            c.compiler.macro_args = [first, *map(str, kw["args"])]  # type: ignore[call-overload]
        if kw["list_mode"]:
            return run.list_probes(programs)
        if not programs:
            raise _Fail("no probes specified", E_USAGE)
        if not kw["compile_only"]:
            c.open()
        compiled: list[Program] = []
        for p in programs:
            prog_obj = run.compile(p)
            if prog_obj is None:
                return E_ERROR
            compiled.append(prog_obj)
            if kw["show_dif"]:
                from pydtrace.program.listing import program_listing

                sys.stderr.write(program_listing(prog_obj.data))
        if kw["compile_only"]:
            if kw["verbose"]:
                for p in programs:
                    desc = "description" if p.kind == "probe" else "script"
                    label = crop_label(p.text) if p.kind == "probe" else p.text
                    c.out.write(program_info(desc, label, []).encode())
                c.out.flush()
            return E_SUCCESS
        status = run.enable(programs, compiled)
        if status is not None:
            return status
        return run.trace(targets)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The ``pydtrace`` command; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    if prog is None:
        prog = os.path.basename(sys.argv[0]) or "pydtrace"
    try:
        return _run(argv, prog)
    except _Fail as e:
        if e.message:
            sys.stderr.write(f"{prog}: {e.message}\n")
        if e.status == E_USAGE:
            sys.stderr.write(usage(prog))
        return e.status
    except _reported_errors() as e:
        sys.stderr.write(f"{prog}: {e}\n")
        return E_ERROR
    except Aborted:  # a second SIGINT: no draining
        return E_ERROR
    except BrokenPipeError:
        return E_ERROR
    except KeyboardInterrupt:  # before tracing started (then SIGINT stops cleanly)
        return E_ERROR
