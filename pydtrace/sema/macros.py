"""Macro variables: $0..$n, $$n, $pid, $target, ... (dt_lex.l, dt_pcb).

Macros holds what the compiler knows about the process and its arguments;
lookup() turns a macro token into an integer, a string, or an identifier
(a positional argument that is not a number names a D identifier, as in
dtrace), and records which positional arguments were used so that unused
ones can be reported (D_MACRO_UNUSED).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pydtrace.errors import DError

_PROCESS = (
    "pid",
    "ppid",
    "uid",
    "gid",
    "euid",
    "egid",
    "sid",
    "pgid",
    "projid",
    "taskid",
    "target",
)


def process_values(target: int = 0) -> dict[str, int]:
    """The values dtrace(1) gives the process macro variables."""
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "euid": os.geteuid(),
        "egid": os.getegid(),
        "sid": os.getsid(0),
        "pgid": os.getpgrp(),
        "projid": 0,
        "taskid": 0,
        "target": target,
    }


@dataclass
class Macros:
    """Macro arguments ($1, $target, ...) and which of them were used."""

    args: list[str] = field(default_factory=list)  # $0 is args[0]
    values: dict[str, int] = field(default_factory=dict)
    defaultargs: bool = False
    used: set[int] = field(default_factory=set)

    def lookup(self, text: str, line: int | None) -> int | str | tuple[str]:
        """int, str (for $$n) or (identifier,) for the macro token text."""
        string = text.startswith("$$")
        name = text[2:] if string else text[1:]
        if name.isdigit():
            n = int(name)
            if n >= len(self.args):
                if self.defaultargs:
                    return "" if string else 0
                raise DError("D_MACRO_UNDEF", f"macro argument {text} is not defined", line)
            self.used.add(n)
            arg = self.args[n]
            if string:
                return arg
            value = _integer(arg)
            if value is not None:
                return value
            if _is_ident(arg):
                return (arg,)
            raise DError("D_SYNTAX", f'syntax error near "{arg}"', line)
        if name in self.values:
            v = self.values[name]
            return str(v) if string else v
        if name in _PROCESS:
            v = process_values().get(name, 0)
            return str(v) if string else v
        raise DError("D_MACRO_UNDEF", f"macro variable {text} is not defined", line)

    def expand_pdesc(self, text: str, line: int) -> str:
        """A probe description with its macros replaced by their text."""
        out: list[str] = []
        i = 0
        while i < len(text):
            if text[i] != "$":
                out.append(text[i])
                i += 1
                continue
            j = i + 1
            if j < len(text) and text[j] == "$":
                j += 1
            k = j
            while k < len(text) and (text[k].isalnum() or text[k] == "_"):
                k += 1
            if k == j:
                out.append(text[i:k])
                i = k
                continue
            v = self.lookup(text[i:k], line)
            out.append(v[0] if isinstance(v, tuple) else str(v))
            i = k
        return "".join(out)

    def check_unused(self) -> None:
        """D_MACRO_UNUSED for a positional argument no macro referenced."""
        if self.defaultargs:
            return
        for n in range(1, len(self.args)):
            if n not in self.used:
                raise DError("D_MACRO_UNUSED", f"macro argument ${n} is not referenced")


def _integer(text: str) -> int | None:
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16)
        if text.startswith("0") and len(text) > 1:
            return int(text[1:], 8)
        return int(text, 10)
    except ValueError:
        return None


def _is_ident(text: str) -> bool:
    return (
        bool(text)
        and (text[0].isalpha() or text[0] == "_")
        and all(c.isalnum() or c == "_" for c in text)
    )
