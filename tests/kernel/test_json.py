"""pydtrace -O json (docs/json.md) end to end: trace(), printf(), count() and
quantize() aggregations, printa(), a runtime fault and exit(), each line one
JSON document with exactly its documented fields.  Test VM, module loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

TIMEOUT = 120
DOC = Path(__file__).resolve().parents[2] / "docs" / "json.md"


def documented_fields() -> dict[str, set[str]]:
    """The first column of each '### `kind`' table of docs/json.md."""
    fields: dict[str, set[str]] = {}
    kind = None
    for line in DOC.read_text().splitlines():
        m = re.match(r"### `([a-z]+)`", line)
        if m:
            kind = m.group(1)
            fields[kind] = set()
        elif kind is not None and (m := re.match(r"\| `([a-z-]+)` \|", line)):
            fields[kind].add(m.group(1))
    return fields


FIELDS = documented_fields()


def check(obj: dict) -> dict:
    kind = obj["type"] if "type" in obj else obj["kind"]
    assert set(obj) == FIELDS[kind], (kind, sorted(obj))
    for v in obj.get("output", []) + obj.get("args", []):
        check(v)
    return obj


def pydtrace_json(*args: str) -> tuple[list[dict], str, int]:
    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-O", "json", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert p.stdout.endswith("\n"), (p.stdout, p.stderr)
    return [check(json.loads(line)) for line in p.stdout.splitlines()], p.stderr, p.returncode


def test_trace_printf_and_exit():
    recs, err, rc = pydtrace_json(
        "-n", 'BEGIN { trace(42); trace("hello"); printf("%d-%s\\n", -3, "x"); exit(5); }'
    )
    assert rc == 5
    assert err == "pydtrace: description 'BEGIN ' matched 1 probe\n"
    probe, ex = recs
    assert probe["type"] == "probe"
    assert probe["id"] == 1 and probe["enabled-probe-id"] >= 1
    assert probe["probe-description"] == {
        "provider": "dtrace",
        "module": "",
        "function": "",
        "name": "BEGIN",
    }
    assert isinstance(probe["cpu"], int)
    assert probe["output"] == [
        {"kind": "int", "size": 4, "signed": True, "value": 42},
        {"kind": "string", "value": "hello"},
        {
            "kind": "printf",
            "text": "-3-x\n",
            "args": [
                {"kind": "int", "size": 4, "signed": True, "value": -3},
                {"kind": "string", "value": "x"},
            ],
        },
    ]
    assert ex == {"type": "exit", "status": 5}


def test_oformat_option_is_the_same_as_dash_o():
    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-x", "oformat=json", "-qn", "BEGIN { exit(0); }"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (p.stdout, p.stderr, p.returncode) == ('{"type":"exit","status":0}\n', "", 0)


def test_aggregations_printa_and_a_fault():
    prog = (
        'BEGIN { @c["a"] = count(); @c["b"] = count(); @c["b"] = count();'
        " @q = quantize(0); @q = quantize(3); @q = quantize(3); @q = quantize(100);"
        ' @p[7] = sum(-4); printa("%d %@d\\n", @p); }'
        " BEGIN { trace(*(int *)8); }"
        " BEGIN { exit(0); }"
    )
    recs, err, rc = pydtrace_json("-q", "-n", prog)
    assert (err, rc) == ("", 0)
    types = [r["type"] for r in recs]
    assert types == ["probe", "error", "aggregation", "aggregation", "exit"], recs
    printa = recs[0]["output"]
    assert printa == [
        {
            "kind": "printa",
            "text": "7 -4\n",
            "names": ["p"],
            "data": [{"keys": [7], "values": [-4]}],
        }
    ]
    fault = recs[1]
    assert fault["fault-name"] == "invalid address" and fault["address"] == 8
    assert fault["id"] == 1 and fault["action"] >= 1 and fault["offset"] >= 0
    assert fault["message"] == (
        f"error on enabled probe ID {fault['enabled-probe-id']} (ID 1: dtrace:::BEGIN): "
        f"invalid address (0x8) in action #{fault['action']} at DIF offset {fault['offset']}"
    )
    assert fault["enabled-probe-id"] == recs[0]["enabled-probe-id"] + 1
    c, q = recs[2], recs[3]
    assert (c["name"], c["function"]) == ("c", "count")
    assert c["data"] == [{"keys": ["a"], "value": 1}, {"keys": ["b"], "value": 2}]
    assert (q["name"], q["function"]) == ("q", "quantize")
    assert q["data"] == [{"keys": [], "value": {"buckets": [[0, 0, 1], [2, 3, 2], [64, 127, 1]]}}]
    # @p was printed by printa(): not again at the end
    assert "p" not in {r.get("name") for r in recs}
