"""-v: dtrace(1)'s stability reports (print_probe_info for -l, the "Stability
attributes for ..." block for programs).

The module has no DTRACEIOC_PROVIDER yet, so the attributes of each provider
are declared here: pydtrace's providers take those of the illumos providers
they reproduce (dtrace, syscall, profile/tick, fbt, proc, sched, io); any other provider is
reported Private/Private/Unknown.  Argument types come from
pydtrace.sema.probeargs (BTF prototypes for fbt and sdt, a table for proc,
sched and io); "None" for untyped probes, as dtrace(1) prints.  The minimum
statement attributes are not computed per identifier: they are reported Stable/Stable/Common.
"""

from __future__ import annotations

from collections.abc import Iterable

STABILITY = (
    "Internal",
    "Private",
    "Obsolete",
    "External",
    "Unstable",
    "Evolving",
    "Stable",
    "Standard",
)
CLASS = ("Unknown", "CPU", "Platform", "Group", "ISA", "Common")

Attr = tuple[int, int, int]  # (name stability, data stability, dependency class)

_S = {name: i for i, name in enumerate(STABILITY)}
_C = {name: i for i, name in enumerate(CLASS)}


def _a(name: str, data: str, cls: str) -> Attr:
    return (_S[name], _S[data], _C[cls])


STABLE = _a("Stable", "Stable", "Common")
_UNKNOWN = _a("Private", "Private", "Unknown")

# provider -> attributes of (provider, module, function, name, arguments)
PROVIDERS: dict[str, tuple[Attr, Attr, Attr, Attr, Attr]] = {
    "dtrace": (STABLE, STABLE, STABLE, STABLE, STABLE),
    "syscall": (
        _a("Evolving", "Evolving", "Common"),
        _a("Private", "Private", "Unknown"),
        _a("Private", "Private", "ISA"),
        _a("Evolving", "Evolving", "Common"),
        _a("Private", "Private", "ISA"),
    ),
    "profile": (
        _a("Evolving", "Evolving", "Common"),
        _a("Unstable", "Unstable", "Unknown"),
        _a("Private", "Private", "Unknown"),
        _a("Evolving", "Evolving", "Common"),
        _a("Evolving", "Evolving", "Common"),
    ),
    "fbt": (
        _a("Evolving", "Evolving", "ISA"),
        _a("Private", "Private", "Unknown"),
        _a("Private", "Private", "Unknown"),
        _a("Evolving", "Evolving", "ISA"),
        _a("Private", "Private", "ISA"),
    ),
}
# illumos's proc, sched and io providers: Evolving names and arguments (ISA)
for _name in ("proc", "sched", "io"):
    PROVIDERS[_name] = (
        _a("Evolving", "Evolving", "ISA"),
        _a("Private", "Private", "Unknown"),
        _a("Private", "Private", "Unknown"),
        _a("Evolving", "Evolving", "ISA"),
        _a("Evolving", "Evolving", "ISA"),
    )


def attr_min(*attrs: Attr) -> Attr:
    return (min(a[0] for a in attrs), min(a[1] for a in attrs), min(a[2] for a in attrs))


def probe_attrs(provider: str, fields: tuple[str, str, str, str]) -> tuple[Attr, Attr]:
    """dt_probe_info: the description attributes (the minimum over the fields
    that are given) and the argument attributes."""
    table = PROVIDERS.get(provider, (_UNKNOWN,) * 5)
    given = [table[i] for i, f in enumerate(fields) if f]
    return (attr_min(*given) if given else STABLE), table[4]


def _block(title: str, a: Attr) -> str:
    return (
        f"\n\t{title}\n"
        f"\t\tIdentifier Names: {STABILITY[a[0]]}\n"
        f"\t\tData Semantics:   {STABILITY[a[1]]}\n"
        f"\t\tDependency Class: {CLASS[a[2]]}\n"
    )


def probe_info(
    provider: str, fields: tuple[str, str, str, str], argtypes: list[str] | None = None
) -> str:
    """print_probe_info() after a -lv row; argtypes: the types of args[]
    as dtrace prints them (translated), None or [] for "None"."""
    desc, args = probe_attrs(provider, fields)
    types = "".join(f"\t\targs[{i}]: {t}\n" for i, t in enumerate(argtypes or []))
    return (
        _block("Probe Description Attributes", desc)
        + _block("Argument Attributes", args)
        + "\n\tArgument Types\n"
        + (types or "\t\tNone\n")
        + "\n"
    )


Fields = tuple[str, str, str, str]


def program_info(desc: str, name: str, matched: Iterable[tuple[str, Fields]]) -> str:
    """The -v block for one program: desc is "description" or "script", name
    its label; matched: (provider, description fields) of what it enabled."""
    attrs = [probe_attrs(p, f)[0] for p, f in matched]
    return (
        f"\nStability attributes for {desc} {name}:\n"
        + _block("Minimum Probe Description Attributes", attr_min(*attrs) if attrs else STABLE)
        + _block("Minimum Statement Attributes", STABLE)
        + "\n"
    )
