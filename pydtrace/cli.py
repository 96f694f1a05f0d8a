"""dtrace(1)'s command line, with click.  No logic of its own: options into
:class:`pydtrace.options.Options`, programs into :class:`pydtrace.api.Consumer`,
dtrace's messages and exit statuses (0 ok, 1 failure, 2 usage, or exit()'s
value) out.
"""

from __future__ import annotations

import getopt
import os
import sys
from dataclasses import dataclass

import click

from pydtrace.api import Consumer, crop_label
from pydtrace.consume.loop import ConsumeError
from pydtrace.errors import DError, render_compile_error
from pydtrace.options import Options
from pydtrace.program.listing import program_listing
from pydtrace.runtime import DeviceError

E_SUCCESS, E_ERROR, E_USAGE = 0, 1, 2

# getopt's view of the options (for their order); click validates them.
_OPTSTRING = "b:elqn:s:Swx:"
_PROGRAM_OPTS = {"-n": "probe", "-s": "script"}

_USAGE = """\
Usage: {prog} [-elqw] [-b bufsz] [-s script] [-x opt[=val]]
\t[-n probe-description [[ predicate ] action ]] [args ...]

\t-b  set trace buffer size
\t-e  exit after compiling request but prior to enabling probes
\t-l  list probes matching specified criteria
\t-n  specify probe name
\t-q  set quiet mode (only output explicitly traced data)
\t-s  enable or list probes for the specified D program
\t-w  permit destructive actions
\t-x  enable or modify compiler and tracing options
"""


@dataclass(frozen=True)
class ProgramArg:
    kind: str  # "probe" (-n) or "script" (-s)
    text: str  # the argument as typed


@click.command(add_help_option=False)
@click.option("-b", "bufsize", default=None)
@click.option("-e", "compile_only", is_flag=True)
@click.option("-l", "list_mode", is_flag=True)
@click.option("-q", "quiet", is_flag=True)
@click.option("-n", "probes", multiple=True)
@click.option("-s", "scripts", multiple=True)
@click.option("-S", "show_dif", is_flag=True)
@click.option("-w", "destructive", is_flag=True)
@click.option("-x", "xopts", multiple=True)
@click.argument("args", nargs=-1)
def command(**kw: object) -> dict[str, object]:
    return kw


def program_args(argv: list[str]) -> list[ProgramArg]:
    """The -n and -s arguments in argv order (click groups them per option)."""
    opts, _ = getopt.gnu_getopt(argv, _OPTSTRING)
    return [ProgramArg(_PROGRAM_OPTS[o], v) for o, v in opts if o in _PROGRAM_OPTS]


class _Fail(Exception):
    """Stop with dtrace's message (and the usage text for usage errors)."""

    def __init__(self, message: str, status: int = E_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _usage(prog: str) -> str:
    return _USAGE.format(prog=prog)


def _parse(argv: list[str], prog: str) -> dict[str, object]:
    try:
        kw = command.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.NoSuchOption as e:
        opt = e.option_name.lstrip("-")[:1] or e.option_name
        raise _Fail(f"illegal option -- {opt}", E_USAGE) from None
    except click.BadOptionUsage as e:
        opt = e.option_name.lstrip("-")
        raise _Fail(f"option requires an argument -- {opt}", E_USAGE) from None
    except click.UsageError as e:
        raise _Fail(e.format_message(), E_USAGE) from None
    assert isinstance(kw, dict)
    return kw


def _set_options(opts: Options, kw: dict[str, object]) -> None:
    settings: list[tuple[str, str | None, str]] = []
    if kw["quiet"]:
        settings.append(("quiet", None, "-q"))
    if kw["destructive"]:
        settings.append(("destructive", None, "-w"))
    if kw["bufsize"] is not None:
        settings.append(("bufsize", str(kw["bufsize"]), "-b"))
    for x in kw["xopts"]:  # type: ignore[attr-defined]
        name, eq, value = str(x).partition("=")
        settings.append((name, value if eq else None, f"-x {name}"))
    for name, value, how in settings:
        try:
            opts.set(name, value)
        except DError as e:
            reason = getattr(e, "reason", e.message)
            raise _Fail(f"failed to set {how}: {reason}") from None


def _read_script(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError as e:
        raise _Fail(f"failed to open {path}: {os.strerror(e.errno or 0)}") from None


def _run(argv: list[str], prog: str) -> int:
    if not argv:
        sys.stderr.write(_usage(prog))
        return E_USAGE
    kw = _parse(argv, prog)
    programs = program_args(argv)
    opts = Options()
    _set_options(opts, kw)

    def warn(msg: str) -> None:
        sys.stderr.write(f"{prog}: {msg}\n")
        sys.stderr.flush()

    with Consumer(opts, warn=warn) as c:
        if kw["args"]:  # $1..$n; $0 is the first program's name, as dtrace
            first = programs[0].text if programs else prog
            c.compiler.macro_args = [first, *map(str, kw["args"])]  # type: ignore[call-overload]
        if kw["list_mode"]:
            pats = [p.text for p in programs if p.kind == "probe"]
            try:
                n = c.print_probes(c.list_probes(pats))
            except ValueError as e:
                raise _Fail(str(e)) from None
            if pats and n == 0:
                raise _Fail(f"failed to match {pats[0]}: No probe matches description")
            return E_SUCCESS
        if not programs:
            raise _Fail("no probes specified", E_USAGE)
        if not kw["compile_only"]:
            c.open()
        errtags = opts.is_set("errtags")
        for p in programs:
            source = _read_script(p.text) if p.kind == "script" else p.text
            try:
                compiled = c.compile(source, kind=p.kind, label=p.text)
            except DError as e:
                msg = render_compile_error(
                    e, progname=prog, kind=p.kind, label=p.text, errtags=errtags
                )
                sys.stderr.write(msg + "\n")
                return E_ERROR
            if kw["show_dif"]:
                sys.stderr.write(program_listing(compiled.data))
        if kw["compile_only"]:
            return E_SUCCESS
        quiet = c.quiet  # a '#pragma D option quiet' counts too
        for p, prog_obj in zip(programs, c.programs, strict=True):
            n = c.enable(prog_obj)
            if not quiet:
                desc = "description" if p.kind == "probe" else "script"
                label = crop_label(p.text) if p.kind == "probe" else p.text
                warn(f"{desc} '{label}' matched {n} probe{'' if n == 1 else 's'}")
        return c.run()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """The ``pydtrace`` command; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    if prog is None:
        prog = os.path.basename(sys.argv[0]) or "pydtrace"
    try:
        return _run(argv, prog)
    except _Fail as e:
        sys.stderr.write(f"{prog}: {e.message}\n")
        if e.status == E_USAGE:
            sys.stderr.write(_usage(prog))
        return e.status
    except (DeviceError, ConsumeError) as e:
        sys.stderr.write(f"{prog}: {e}\n")
        return E_ERROR
    except BrokenPipeError:
        return E_ERROR
    except KeyboardInterrupt:  # before tracing started (then SIGINT stops cleanly)
        return E_ERROR
