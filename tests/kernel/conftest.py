"""Guest-suite timing: each test's wall time, as the test ends.

pytest's --durations table is printed only when a run ends; a guest run
that times out never prints it.  With PYDTRACE_TEST_TIMES naming a file,
every test phase that took over a second appends a line
"<seconds> <phase> <node id>" to it (on the xdist controller, where the
reports arrive), so a cut run still shows where its time went."""

from __future__ import annotations

import os

import pytest

_TIMES = os.environ.get("PYDTRACE_TEST_TIMES")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _TIMES or report.duration < 1.0 or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    with open(_TIMES, "a") as f:
        f.write(f"{report.duration:7.1f} {report.when:8} {report.nodeid}\n")
