"""The README's "Python API" example, run as it is against the real module:
each ```python block of that section is run in a fresh interpreter and must
print exactly the ```text block that follows it, so the README cannot rot.
Run in the test VM as root."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Python API"
TIMEOUT = 120

needs_module = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)


def section(text: str, title: str) -> str:
    """The body of a level-2 section, up to the next level-2 heading."""
    start = text.index(f"\n{title}\n") + len(title) + 2
    end = text.find("\n## ", start)
    return text[start:] if end < 0 else text[start:end]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block: (language, body)."""
    return [(m[1], m[2]) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)]


def examples() -> list[tuple[str, str]]:
    """(python code, the text it prints) for each python block of the section."""
    blocks = fenced_blocks(section(README.read_text(), SECTION))
    pairs = []
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        assert i + 1 < len(blocks) and blocks[i + 1][0] == "text", "no output block follows"
        pairs.append((body, blocks[i + 1][1]))
    return pairs


def test_readme_has_the_example() -> None:
    pairs = examples()
    assert len(pairs) == 2, "the Python API section has two python blocks"
    for code, _ in pairs:
        ast.parse(code)  # a syntax error shows here, on the host too
    assert "Consumer" in pairs[0][0] and "trace(" in pairs[0][0]
    assert ".aggregations()" in pairs[0][0]
    assert ".records()" in pairs[1][0]


@needs_module
def test_readme_example_prints_what_the_readme_says(tmp_path: Path) -> None:
    printed = []
    for code, want in examples():
        p = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=tmp_path,
            check=False,
        )
        assert (p.returncode, p.stderr) == (0, ""), p.stderr
        assert p.stdout == want, f"it printed:\n{p.stdout}"
        printed.append(p.stdout)
    # what the examples do, independently of the README's text.  The first:
    # five getppid() calls counted (n++ gives 0..4: buckets 0, 1, 2 (twice),
    # 4), END's printf, and trace()'s exit(7) after three ticks counted
    lines = printed[0].split("\n")
    assert lines[0] == "0 {('getppid',): 5} {(): [(0, 1), (1, 1), (2, 2), (4, 1)]}"
    assert "5 calls" in lines
    assert re.search(r"^7 b'\\n\s+3\\n'$", printed[0], re.M), printed[0]
    # the second: BEGIN's two values, the one getppid() call it made after
    # BEGIN's record, counted, and exit(3)'s status last
    lines = printed[1].splitlines()
    assert lines[0] == "BEGIN ['hello', 42]"
    assert lines[1] == "calls count [{'keys': [], 'value': 1}]"
    assert lines[-1] == "{'type': 'exit', 'status': 3}"
