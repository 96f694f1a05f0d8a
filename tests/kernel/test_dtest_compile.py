"""`pydtrace -e` over every D program of examples/ and tests/dtest, in the
test VM: against the running kernel's BTF and kallsyms, and with every probe
description matched by the module (what a compile on the host cannot do).
tst.* drp.* and examples compile and each of their descriptions matches a
probe; err.D_TAG.* fail with D_TAG.  One process compiles them all (a
pydtrace start per file would cost minutes under emulation)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from pydtrace.api import Consumer
from pydtrace.errors import DError
from pydtrace.runtime import Device

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    p for p in (ROOT / "tests" / "dtest").glob("*.d") if p.name.startswith(("tst.", "drp.", "err."))
) + sorted((ROOT / "examples").glob("*.d"))


def directive(text: str, name: str) -> str | None:
    m = re.search(r"@" + name + r":\s*([^*\n]*)", text)
    return m.group(1).strip() if m else None


def outcome(path: Path, dev: Device) -> str:
    """ "ok", or the D_* tag of the error (compile, or a description that
    matches no probe: D_PDESC_ZERO)."""
    text = path.read_text()
    args = directive(text, "args")
    c = Consumer(out=io.BytesIO())
    c.compiler.macro_args = [path.name] + (args.split() if args else [])
    c.device = dev
    try:
        prog = c.compile(text, kind="script", label=path.name)
        descs = c.descriptions(prog)
        c.provide(descs, kind="script", label=path.name)  # fbt globs, sdt
        for d in descs:
            dev.provide(*d)  # exact names (tick-N, fbt functions), as ENABLE does
    except DError as e:
        return e.tag
    for d in descs:
        if dev.first_match(d) is None:
            return "D_PDESC_ZERO"
    return "ok"


def test_every_program_compiles_or_fails_as_its_name_says():
    assert len(FILES) > 100
    wrong = []
    with Device() as dev:
        for path in FILES:
            want = path.name.split(".")[1] if path.name.startswith("err.") else "ok"
            got = outcome(path, dev)
            if got != want:
                wrong.append(f"{path.name}: {got}")
    assert not wrong, wrong
