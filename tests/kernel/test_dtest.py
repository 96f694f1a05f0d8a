"""Run the tests/dtest programs that have expected output, in the test VM.

For every `tst.*.d` and `drp.*.d` with a sibling `<name>.r`, run
`pydtrace [flags] -s <name>.d [args]` from the corpus directory and compare
with what dtrace(1) prints:

* stdout byte for byte with `<name>.r`;
* stderr: with `<name>.r.err` when there is one (for `drp.*` files it is a
  Python regular expression that must match the whole of stderr, because
  drop counts vary; for `tst.*` files it is the exact text); without one,
  stderr must be empty once dtrace's "script '...' matched N probes"
  notice (printed when not quiet) is removed;
* the exit status is 0, or N with an `@status: N` directive.

Directives in the program's leading comment: `@args: a b` (macro arguments
$1.., as the host test reads them), `@flags: -x quiet` (command-line flags
before `-s`), `@status: N`, `@requires: btf`, `@xfail: reason` (a known
difference between pydtrace and dtrace: the .r stays what dtrace prints).

A program must end by itself (exit() from BEGIN, tick or END); a timeout
fails the test.  pydtrace runs pinned to CPU 0 so that the CPU column of
BEGIN and END probe lines (they fire on the consumer's CPU) is stable.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

CORPUS = Path(__file__).resolve().parents[1] / "dtest"
FILES = sorted(
    p
    for p in CORPUS.glob("*.d")
    if p.name.startswith(("tst.", "drp.")) and p.with_suffix(".r").exists()
)
HAVE_BTF = os.access("/sys/kernel/btf/vmlinux", os.R_OK)
TIMEOUT = 120
MATCHED = re.compile(r"pydtrace: script '[^'\n]*' matched \d+ probes?\n")


def _directive(text: str, name: str) -> str | None:
    m = re.search(r"@" + name + r":\s*([^*\n]*)", text)
    return m.group(1).strip() if m else None


def _pin_to_cpu0() -> None:
    os.sched_setaffinity(0, {0})


def run_program(path: Path) -> subprocess.CompletedProcess[str]:
    text = path.read_text()
    flags = shlex.split(_directive(text, "flags") or "")
    args = shlex.split(_directive(text, "args") or "")
    return subprocess.run(
        [sys.executable, "-m", "pydtrace", *flags, "-s", path.name, *args],
        cwd=CORPUS,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_pin_to_cpu0,
    )


def check_stderr(path: Path, stderr: str) -> None:
    err = Path(f"{path.with_suffix('.r')}.err")
    if not err.exists():
        assert MATCHED.sub("", stderr) == ""
    elif path.name.startswith("drp."):
        pattern = err.read_text()
        assert re.fullmatch(pattern, stderr), f"stderr {stderr!r} !~ {pattern!r}"
    else:
        assert stderr == err.read_text()


def _params() -> list[object]:
    params: list[object] = []
    for path in FILES:
        reason = _directive(path.read_text(), "xfail")
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, id=path.name, marks=marks))
    return params


def test_corpus_has_expected_outputs() -> None:
    assert len([f for f in FILES if f.name.startswith("tst.")]) >= 15
    assert [f for f in FILES if f.name.startswith("drp.")]


@pytest.mark.parametrize("path", _params())
def test_dtest_program(path: Path) -> None:
    text = path.read_text()
    if _directive(text, "requires") == "btf" and not HAVE_BTF:
        pytest.skip("needs kernel BTF")
    try:
        p = run_program(path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name} did not end within {TIMEOUT} s")
    status = int(_directive(text, "status") or 0)
    expected = path.with_suffix(".r").read_text()
    assert p.stdout == expected, p.stderr
    check_stderr(path, p.stderr)
    assert p.returncode == status, p.stderr
