"""Source text of one D program and positions inside it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A position in a source: 1-based line and column."""

    line: int
    column: int = 0


@dataclass(frozen=True)
class Source:
    """One D program as handed to the compiler.

    kind is "probe" (-n/-P/-m/-f/-i) or "script" (-s); label is the text the
    user typed (the specifier, or the file name).
    """

    text: str
    kind: str = "probe"
    label: str = ""

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1
