"""RecordSink: the JSON printer's output kept as Python objects."""

from __future__ import annotations

from pydtrace.consume.jsonout import dumps, exit_record
from pydtrace.consume.pyrecords import RecordSink


def test_documents_split_across_writes_come_out_whole_and_in_order() -> None:
    sink = RecordSink()
    data = dumps({"type": "probe", "output": [{"kind": "int", "value": 1 << 63}]})
    data += dumps(exit_record(3))
    sink.write(data[:7])
    assert sink.take() == []
    sink.write(data[7:])
    assert sink.take() == [
        {"type": "probe", "output": [{"kind": "int", "value": 1 << 63}]},
        {"type": "exit", "status": 3},
    ]
    assert sink.take() == []
