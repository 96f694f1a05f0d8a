"""dtrace(1)'s options: one table drives the parse (:func:`parse_args`, the
surface and its usage errors, as the click command :data:`command` built from
the same table parses it) and getopt (argv order, which a per-flag result
loses for repeated options).  click is imported only when :data:`command` is
used: the command line itself never needs it (it costs a start-up).

Every flag dtrace(1) has is here, including the ones pydtrace refuses (-a -A
-G -h) so that they get a clear message rather than "illegal option".
"""

from __future__ import annotations

import getopt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

# (letter, takes a value, click destination)
FLAGS: tuple[tuple[str, bool, str], ...] = (
    ("a", False, "grab_anon"),
    ("A", False, "anon_conf"),
    ("b", True, "bufsize"),
    ("c", True, "commands"),
    ("C", False, "cpp"),
    ("D", True, "defines"),
    ("e", False, "compile_only"),
    ("f", True, "funcs"),
    ("F", False, "flowindent"),
    ("G", False, "elf"),
    ("h", False, "header"),
    ("H", False, "show_includes"),
    ("i", True, "ids"),
    ("I", True, "incdirs"),
    ("l", False, "list_mode"),
    ("L", True, "libdirs"),
    ("m", True, "modules"),
    ("n", True, "probes"),
    ("o", True, "outfile"),
    ("O", True, "oformat"),
    ("p", True, "pids"),
    ("P", True, "providers"),
    ("q", False, "quiet"),
    ("s", True, "scripts"),
    ("S", False, "show_dif"),
    ("U", True, "undefs"),
    ("v", False, "verbose"),
    ("V", False, "version"),
    ("w", False, "destructive"),
    ("x", True, "xopts"),
    ("X", True, "stdc"),
    ("Z", False, "zdefs"),
)

OPTSTRING = "".join(f"{c}:" if arg else c for c, arg, _ in FLAGS)

# Program sources: the letter -> the probe-description form it gives
# (dtrace's DTRACE_PROBESPEC_*), "script" for -s.
SOURCES = {"n": "name", "P": "provider", "m": "mod", "f": "func", "i": "id", "s": "script"}


@dataclass(frozen=True)
class ProgramArg:
    """One program source from the command line, in argv order."""

    kind: str  # "probe" (-n -P -m -f -i) or "script" (-s)
    text: str  # the argument as typed
    spec: str = ""  # which flag's form: name provider mod func id script

    def __post_init__(self) -> None:
        if not self.spec:
            object.__setattr__(self, "spec", "script" if self.kind == "script" else "name")


class UsageError(Exception):
    """A command line dtrace(1) rejects; str() is its message."""


_TAKES_VALUE = {letter: arg for letter, arg, _ in FLAGS}
_DEST = {letter: dest for letter, _, dest in FLAGS}


def parse_args(argv: list[str]) -> dict[str, object]:
    """Every flag's value by its destination name (a tuple of values for a
    flag taking one, a bool otherwise), ``show_help`` and the operands as
    ``args``; raises :class:`UsageError`.  The same result and errors as
    :data:`command` (click's parser: operands may come between options,
    ``--`` ends them, a value is attached or the next argument)."""
    values: dict[str, list[str]] = {dest: [] for _, arg, dest in FLAGS if arg}
    kw: dict[str, object] = {dest: False for _, arg, dest in FLAGS if not arg}
    kw["show_help"] = False
    args: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            args.extend(rest)
            break
        if arg[:1] != "-" or len(arg) == 1:
            args.append(arg)
        elif arg[:2] == "--":
            name, eq, _ = arg.partition("=")
            if name != "--help":
                raise UsageError(f"illegal option -- {name.lstrip('-')[:1] or name}")
            if eq:
                raise UsageError("option requires an argument -- help")
            kw["show_help"] = True
        else:
            for i, letter in enumerate(arg[1:], start=2):
                if letter not in _TAKES_VALUE:
                    raise UsageError(f"illegal option -- {letter}")
                if not _TAKES_VALUE[letter]:
                    kw[_DEST[letter]] = True
                    continue
                if i < len(arg):
                    values[_DEST[letter]].append(arg[i:])
                elif rest:
                    values[_DEST[letter]].append(rest.pop(0))
                else:
                    raise UsageError(f"option requires an argument -- {letter}")
                break
    for dest, vals in values.items():
        kw[dest] = tuple(vals)
    kw["args"] = tuple(args)
    return kw


def _build_command() -> click.Command:
    import click

    def callback(**kw: object) -> dict[str, object]:
        return kw

    params: list[click.Parameter] = []
    for letter, arg, dest in FLAGS:
        if arg:
            params.append(click.Option([f"-{letter}", dest], multiple=True))
        else:
            params.append(click.Option([f"-{letter}", dest], is_flag=True))
    params.append(click.Option(["--help", "show_help"], is_flag=True))
    params.append(click.Argument(["args"], nargs=-1))
    return click.Command("pydtrace", params=params, callback=callback, add_help_option=False)


def __getattr__(name: str) -> object:
    """``command``: the click command over FLAGS, built on first use."""
    if name == "command":
        globals()["command"] = cmd = _build_command()
        return cmd
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ordered_options(argv: list[str]) -> list[tuple[str, str]]:
    """Every option as (letter, value) in argv order, as getopt(3) sees them
    (stacked flags, attached values, options after operands)."""
    argv = [a for a in argv if a != "--help"]
    opts, _ = getopt.gnu_getopt(argv, OPTSTRING)
    return [(o[1:], v) for o, v in opts]


def program_args(argv: list[str]) -> list[ProgramArg]:
    """The program sources (-n -P -m -f -i -s) in argv order."""
    out = []
    for letter, value in ordered_options(argv):
        spec = SOURCES.get(letter)
        if spec is not None:
            out.append(ProgramArg("script" if spec == "script" else "probe", value, spec))
    return out
