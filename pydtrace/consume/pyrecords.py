"""Records as Python objects, for the scripting API (``Consumer.records()``).

The JSON printer (:mod:`pydtrace.consume.jsonout`) is the one place that
turns records into typed values; this sink stands where its output stream
would be and keeps each document as the Python object it encodes, so the
API yields exactly the records ``-O json`` prints (docs/json.md): dicts with
a ``type`` of ``probe``, ``error``, ``drop``, ``aggregation`` or ``exit``.
"""

from __future__ import annotations

import json


class RecordSink:
    """A binary output stream that collects NDJSON documents as objects."""

    def __init__(self) -> None:
        self._partial = b""
        self._records: list[dict[str, object]] = []

    def write(self, data: bytes) -> int:
        lines = (self._partial + bytes(data)).split(b"\n")
        self._partial = lines.pop()
        self._records += [json.loads(line) for line in lines if line]
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> list[dict[str, object]]:
        """The records collected since the last take(), oldest first."""
        out, self._records = self._records, []
        return out
