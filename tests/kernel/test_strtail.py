"""String records against the real module: it writes a string only up to
its NUL and leaves the rest of the record as the buffer had it.  What is left
there is this consumer's own (its DIF scratch and earlier records), and the
consumer still prints the string as a string."""

from __future__ import annotations

import json
import os

import pytest
from kutil import pydtrace

from pydtrace import api
from pydtrace.consume import loop, records

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

LONG = "abcdefghijklmnopqrstuvwxyz0123456789"
# Every other firing traces a long strjoin() result, built in scratch just
# past the record, where the next firing's record goes; that one traces "ab".
A, B, C = LONG[:10], LONG[10:26], LONG[26:]
PROG = (
    "BEGIN { n = 0; } "
    f'tick-1ms /n < 40/ {{ trace(n & 1 ? "ab" : strjoin(strjoin("{A}", "{B}"), "{C}")); n++; }} '
    "tick-1ms /n >= 40/ { exit(0); }"
)
OWN = set(LONG.encode()) | {0}


def test_tails_hold_only_the_consumers_own_bytes_and_print_as_strings(monkeypatch):
    snaps: list[tuple[loop.Printer, int, bytes, int]] = []
    original = loop.Printer.buffer

    def capture(self: loop.Printer, cpu: int, data: bytes, oldest: int = 0) -> None:
        snaps.append((self, cpu, bytes(data), oldest))
        original(self, cpu, data, oldest)

    monkeypatch.setattr(loop.Printer, "buffer", capture)
    status, out = api.trace(PROG, quiet=True, options={"strsize": "64"})
    assert status == 0
    assert out.strip() == (LONG.encode() + b"ab") * 20  # quiet: no separators
    tails = []
    for printer, cpu, data, oldest in snaps:
        for rec in records.ecb_records(cpu, data, oldest, printer.device.eprobe):
            for r in rec.eprobe.recs:
                if not records.is_string_trace(r):
                    continue
                start = rec.offset + r.offset
                raw = data[start : start + r.size]
                tails.append(raw[raw.index(b"\0") :])
    assert len(tails) == 40
    # the fill is skipped: some tail holds the previous firing's scratch ...
    assert any(t.strip(b"\0") for t in tails)
    # ... and nothing but it (no byte read past a NUL from elsewhere)
    assert all(set(t) <= OWN for t in tails), [t for t in tails if set(t) - OWN]


def test_json_output_has_the_strings():
    p = pydtrace("-q", "-O", "json", "-x", "strsize=64", "-n", PROG)
    assert p.returncode == 0, p.stderr
    outs = [json.loads(line) for line in p.stdout.splitlines()]
    values = [o["output"] for o in outs if o["type"] == "probe" and o["output"]]
    want = [[{"kind": "string", "value": v}] for v in (LONG, "ab")]
    assert values == want * 20


def test_printf_s_stops_at_the_nul():
    prog = PROG.replace("trace(", 'printf("<%s>", ')
    p = pydtrace("-q", "-x", "strsize=64", "-n", prog)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"<{LONG}><ab>" * 20
