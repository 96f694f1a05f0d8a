"""-P -m -f -i: their probe descriptions made full (provider:module:function:name)
as libdtrace's DTRACE_PROBESPEC_* forms read them, followed by the optional
'/predicate/ { actions }' tail as typed.

    -P syscall            syscall:::
    -m vmlinux            :vmlinux::          -m fbt:vmlinux   fbt:vmlinux::
    -f vfs_read           ::vfs_read:         -f vmlinux:vfs_read  :vmlinux:vfs_read:
    -i 42                 the description of probe 42
"""

from __future__ import annotations

from collections.abc import Callable

from pydtrace.errors import DError

# fields a description of each form may give, from the left
_FIELDS = {"provider": 1, "mod": 2, "func": 3, "name": 4}
_STOP = set("/{;")


def split_head(text: str) -> tuple[list[str], str]:
    """The comma-separated descriptions at the start of text, and the rest."""
    descs: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        start = i
        while i < n and not text[i].isspace() and text[i] not in _STOP and text[i] != ",":
            i += 1
        descs.append(text[start:i])
        j = i
        while j < n and text[j].isspace():
            j += 1
        if j < n and text[j] == ",":
            i = j + 1
            continue
        return descs, text[i:]


def full_description(desc: str, form: str) -> str:
    """desc (a -P/-m/-f/-n argument's description) in provider:mod:func:name form."""
    nfields = _FIELDS[form]
    parts = desc.split(":")
    if len(parts) > nfields:
        raise DError(
            "D_PDESC_INVAL", f'invalid probe description "{desc}": Overspecified probe description'
        )
    parts = [""] * (nfields - len(parts)) + parts + [""] * (4 - nfields)
    return ":".join(parts)


def probe_source(text: str, form: str, describe: Callable[[int], str] | None = None) -> str:
    """The D source for a probe-description argument of that form; describe
    maps a probe id to its full description (for -i)."""
    if form == "name":
        return text
    descs, rest = split_head(text)
    if form == "id":
        out = []
        for d in descs:
            if not d.isdigit() or describe is None:
                raise DError("D_PDESC_INVAL", f"invalid probe identifier {d}")
            out.append(describe(int(d)))
    else:
        out = [full_description(d, form) for d in descs]
    return ",".join(out) + rest
