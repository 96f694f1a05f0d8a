"""Running the pydtrace command in the kernel tests (the test VM)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def pydtrace(*args: str, timeout: float = 300, **kw: Any) -> subprocess.CompletedProcess:
    """`python -m pydtrace args...`, text output captured; never raises on a
    failure status (the tests look at returncode, stdout and stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "pydtrace", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kw,
    )
