"""A compiled program as the kernel reads it (struct dtrace_prog), and back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ActDesc:
    """An action of an ECB description, as the enabling blob carries it."""

    difo: int | None  # DIFO index, or None (DTRACE_NONE)
    kind: int  # DTRACEACT_*
    format: int = 0  # Compiler.formats index + 1, 0 = none
    ntuple: int = 0
    arg: int = 0
    uarg: int = 0


@dataclass
class EcbDesc:
    """An ECB description: probe, predicate and actions."""

    probe: tuple[str, str, str, str]  # provider, module, function, name
    pred: int | None  # DIFO index, or None
    acts: list[ActDesc] = field(default_factory=list)
    uarg: int = 0
