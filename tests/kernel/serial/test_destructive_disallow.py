"""The module's destructive_disallow parameter (DTrace's
dtrace_destructive_disallow): while set, the destructive actions the kernel
performs are skipped even with -w: copyout()/copyoutstr() leave the target's
memory alone and raise() sends nothing.  Serial: it sets a module parameter."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kutil import pydtrace  # noqa: E402
from test_destr import COPYOUT_PROG, COPYOUT_TARGET  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

PARAM = Path("/sys/module/dtrace/parameters/destructive_disallow")


@pytest.fixture
def disallow() -> Iterator[None]:
    saved = PARAM.read_text()
    try:
        PARAM.write_text("1")
        yield
    finally:
        PARAM.write_text(saved)


def test_copyout_is_skipped(tmp_path: Path, disallow: None) -> None:
    script = tmp_path / "target.py"
    script.write_text(COPYOUT_TARGET)
    p = pydtrace(
        "-qw", "-c", f"{sys.executable} {script}", "-n", COPYOUT_PROG, timeout=120, cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    # both buffers as the target wrote them; the chdir to the original path failed
    assert p.stdout == f"/nonexistent/aaaaaaaaaaaa b'/nonex' -1 {tmp_path}\n\n"


def test_raise_is_skipped(disallow: None) -> None:
    # BEGIN fires in pydtrace itself: a raise(9) that was not skipped kills it
    p = pydtrace("-qwn", 'BEGIN { raise(9); } BEGIN { printf("alive\\n"); exit(0); }', timeout=120)
    assert (p.returncode, p.stdout, p.stderr) == (0, "alive\n\n", "")
