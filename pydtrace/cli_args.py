"""dtrace(1)'s options: one table drives click (the surface, validation)
and getopt (argv order, which click loses for repeated options).

Every flag dtrace(1) has is here, including the ones pydtrace refuses (-a -A
-G -h) so that they get a clear message rather than "illegal option".
"""

from __future__ import annotations

import getopt
from dataclasses import dataclass

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
    kind: str  # "probe" (-n -P -m -f -i) or "script" (-s)
    text: str  # the argument as typed
    spec: str = ""  # which flag's form: name provider mod func id script

    def __post_init__(self) -> None:
        if not self.spec:
            object.__setattr__(self, "spec", "script" if self.kind == "script" else "name")


def _build_command() -> click.Command:
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


command = _build_command()


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
