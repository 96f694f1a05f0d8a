"""The consumer's side of the fill and ring buffer policies (dtrace-internals.md
4.5): a wrapped ring snapshot is read from dtbd_oldest to the end, then from 0;
fill and ring buffers are snapshotted once, after STOP, in dtrace's CPU order;
a BUFSNAP refused with EBUSY while tracing means the same."""

from __future__ import annotations

import errno
import io
import struct

import pytest

from pydtrace import fmt
from pydtrace.abi import ffi, lib
from pydtrace.consume import records
from pydtrace.consume.loop import ConsumeError, Printer, Session
from pydtrace.runtime import BufSnapshot, DeviceError, EProbe, ProbeDesc, RecDesc, Status

BEGIN = ProbeDesc(1, "dtrace", "", "", "BEGIN")
END = ProbeDesc(2, "dtrace", "", "", "END")
TICK = ProbeDesc(7, "profile", "", "", "tick-1ms")

PRINTF = lib.DTRACEACT_PRINTF
FMT = [fmt.parse("%d\n"), fmt.parse("%d %d\n"), fmt.parse("begin\n"), fmt.parse("end\n")]


def rec(size: int, offset: int, fmtidx: int) -> RecDesc:
    return RecDesc(PRINTF, size, offset, size or 4, fmtidx, 0, 0)


# Every record starts with the 12-byte header (struct dtrace_rechdr: EPID,
# timestamp).  EPID 1: printf("%d\n", u32) -> 16 bytes; EPID 2:
# printf("%d %d\n", u32, u64) -> 24 bytes, 8-aligned; EPID 3: BEGIN's
# printf("begin\n"); EPID 4: END's (the header alone).
HDR = ffi.sizeof("struct dtrace_rechdr")
EPROBES = {
    1: EProbe(1, TICK.id, 0, HDR + 4, (rec(4, HDR, 1),)),
    2: EProbe(2, TICK.id, 0, HDR + 12, (rec(4, HDR, 2), rec(8, HDR + 4, 0))),
    3: EProbe(3, BEGIN.id, 0, HDR, (rec(0, HDR, 3),)),
    4: EProbe(4, END.id, 0, HDR, (rec(0, HDR, 4),)),
}


def hdr(epid: int, timestamp: int = 0) -> bytes:
    h = ffi.new("struct dtrace_rechdr *")
    h.dtrh_epid = epid
    h.dtrh_timestamp_hi, h.dtrh_timestamp_lo = timestamp >> 32, timestamp & 0xFFFFFFFF
    return bytes(ffi.buffer(h))


def small(n: int) -> bytes:
    return hdr(1) + struct.pack("=I", n)


def large(a: int, b: int) -> bytes:
    return hdr(2) + struct.pack("=IQ", a, b)


def at(buf: bytearray, off: int, data: bytes) -> None:
    buf[off : off + len(data)] = data


def wrapped_ring() -> tuple[bytes, int]:
    """A 112-byte ring that wrapped: old records [48, 104) then a zeroed tail,
    new ones [0, 40), the half-overwritten record between them polished
    away.  Oldest first: 10, (11, 12), 13, 14, (15, 16)."""
    buf = bytearray(112)
    at(buf, 48, small(10))
    at(buf, 64, large(11, 12))
    at(buf, 88, small(13))
    at(buf, 0, small(14))
    at(buf, 16, large(15, 16))
    return bytes(buf), 48


@pytest.mark.parametrize(
    "walk", [records.py_walk] + ([records.walk] if records.walk is not records.py_walk else [])
)
def test_ring_snapshot_is_read_from_oldest_then_from_zero(walk, monkeypatch):
    monkeypatch.setattr(records, "walk", walk)
    data, oldest = wrapped_ring()
    recs = records.ecb_records(0, data, oldest, EPROBES.__getitem__)
    assert [(r.offset, r.eprobe.epid) for r in recs] == [(48, 1), (64, 2), (88, 1), (0, 1), (16, 2)]
    assert [r.integer(r.eprobe.recs[0], False) for r in recs] == [10, 11, 13, 14, 15]


def test_ring_snapshot_not_wrapped_starts_at_zero():
    data = small(1) + small(2) + large(3, 4)
    recs = records.ecb_records(0, data, 0, EPROBES.__getitem__)
    assert [r.offset for r in recs] == [0, 16, 32]


class RingDevice:
    """The module's side for fill/ring: BUFSNAP is EBUSY until STOP, then
    returns each CPU's whole buffer once (with its oldest offset)."""

    def __init__(self, buffers: dict[int, tuple[bytes, int]], *, filled_after: int = 1) -> None:
        self.buffers = buffers
        self.ncpus = 2
        self.filled_after = filled_after
        self.stopped = False
        self.log: list[str] = []
        self.begin_cpu = 1
        self.end_cpu = 1

    def conf(self):
        return type("Conf", (), {"maxcpus": self.ncpus})()

    def probe(self, probeid: int) -> ProbeDesc:
        return {p.id: p for p in (BEGIN, END, TICK)}[probeid]

    def eprobe(self, epid: int) -> EProbe:
        return EPROBES[epid]

    def go(self) -> int:
        self.log.append("go")
        return self.begin_cpu

    def stop(self) -> int:
        self.stopped = True
        self.log.append("stop")
        return self.end_cpu

    def status(self) -> Status:
        self.log.append("status")
        self.filled_after -= 1
        filled = int(self.filled_after <= 0)
        return Status(0, 0, 0, 0, 0, 0, 0, filled, 0, 0, False, False, 2)

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
        self.log.append(f"snap{cpu}")
        if not self.stopped:
            raise DeviceError("failed to snapshot buffer: Device or resource busy", errno.EBUSY)
        data, oldest = self.buffers.pop(cpu, (b"", 0))
        return BufSnapshot(cpu, data, 0, 0, oldest, 0)


def run(dev: RingDevice, bufpolicy: int | None) -> tuple[bytes, list[str]]:
    out = io.BytesIO()
    warnings: list[str] = []
    s = Session(
        dev,
        Printer(dev, FMT, out, quiet=True),
        bufsize=4096,
        switchrate=1,  # as often as possible: only the policy holds BUFSNAP back
        bufpolicy=bufpolicy,
        warn=warnings.append,
    )
    s.go()
    s.run(lambda: False)
    return out.getvalue(), warnings


def begin_ring_end() -> dict[int, tuple[bytes, int]]:
    """CPU 1 ran BEGIN and END, CPU 0 has the wrapped ring."""
    cpu1 = hdr(3) + small(100) + hdr(4)
    return {0: wrapped_ring(), 1: (cpu1, 0)}


EXPECTED = b"begin\n10\n11 12\n13\n14\n15 16\n100\nend\n"


@pytest.mark.parametrize("policy", [lib.DTRACEOPT_BUFPOLICY_RING, lib.DTRACEOPT_BUFPOLICY_FILL])
def test_fill_and_ring_are_read_once_after_stop_in_dtrace_order(policy):
    dev = RingDevice(begin_ring_end(), filled_after=3)
    out, warnings = run(dev, policy)
    assert out == EXPECTED
    assert warnings == []
    first_snap = min(i for i, e in enumerate(dev.log) if e.startswith("snap"))
    assert dev.log.index("stop") < first_snap
    # BEGIN's CPU (also END's) first, then CPU 0 (later snapshots are empty)
    assert [e for e in dev.log if e.startswith("snap")][:2] == ["snap1", "snap0"]


def test_ebusy_while_tracing_defers_reading_to_the_end():
    dev = RingDevice(begin_ring_end(), filled_after=3)
    out, warnings = run(dev, None)
    assert out == EXPECTED
    assert warnings == []
    snaps = [(i, e) for i, e in enumerate(dev.log) if e.startswith("snap")]
    stop = dev.log.index("stop")
    # the first pass learns from EBUSY; no more BUFSNAP until STOP
    assert [e for i, e in snaps if i < stop] == ["snap1"]
    assert [e for i, e in snaps if i > stop][:2] == ["snap1", "snap0"]


def test_ebusy_after_stop_is_an_error():
    class Busy(RingDevice):
        def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
            raise DeviceError("failed to snapshot buffer of CPU 0: busy", errno.EBUSY)

    dev = Busy({}, filled_after=1)
    with pytest.raises(ConsumeError, match="processing aborted"):
        run(dev, lib.DTRACEOPT_BUFPOLICY_FILL)


def test_switch_policy_polls_while_tracing():
    class Switch(RingDevice):
        def bufsnap(self, cpu: int, size: int) -> BufSnapshot | None:
            self.log.append(f"snap{cpu}")
            return BufSnapshot(cpu, b"", 0, 0, 0, 0)

    dev = Switch({}, filled_after=3)
    run(dev, lib.DTRACEOPT_BUFPOLICY_SWITCH)
    stop = dev.log.index("stop")
    assert any(e.startswith("snap") for e in dev.log[:stop])
