#!/usr/bin/env python3
"""The consumer's drain rate on the host, from synthetic full buffers.

Builds principal-buffer snapshots as the module writes them (record header,
then the clause's records at the module's offsets) for a few common clauses,
and runs them through the real consumer (``Session.consume``: snapshot walk,
decode, format, write) into /dev/null, with a fake device that hands out
the same full buffer on every snapshot.  Prints records per second of CPU time per
clause; ``--profile`` runs cProfile over the printf case.

    .venv/bin/python bench/drain_host.py [--seconds 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any

from pydtrace import fmt
from pydtrace.abi import ffi, lib
from pydtrace.consume.loop import Printer, Session
from pydtrace.runtime import BufSnapshot, EProbe, ProbeDesc, RecDesc

RECHDR = ffi.sizeof("struct dtrace_rechdr")
PROBE = ProbeDesc(42, "syscall", "vmlinux", "getppid", "entry")
BUFSIZE = 4 << 20


def _layout(epid: int, recs: list[tuple[int, int, int]]) -> EProbe:
    """(action, size, format) records after the header, each aligned to the
    largest of 8/4/2/1 dividing its size, as the module lays them out."""
    off, out = RECHDR, []
    for action, size, fmtidx in recs:
        align = next((a for a in (8, 4, 2, 1) if size and size % a == 0), 1)
        if size:
            off = (off + align - 1) // align * align
        out.append(RecDesc(action, size, off, align, fmtidx, 0, 0))
        off += size
    return EProbe(epid, PROBE.id, 0, (off + 7) // 8 * 8, tuple(out))


def _buffer(ep: EProbe, values: Any, size: int) -> bytes:
    """A buffer of ``size`` bytes full of records of ``ep`` (values(i) gives
    the i-th record's values as bytes)."""
    out = bytearray()
    i = 0
    while len(out) + ep.size <= size:
        rec = bytearray(ep.size)
        ts = 1_000_000_000 + i * 1000
        hdr = ffi.new("struct dtrace_rechdr *")
        hdr.dtrh_epid = ep.epid
        hdr.dtrh_timestamp_hi, hdr.dtrh_timestamp_lo = ts >> 32, ts & 0xFFFFFFFF
        rec[:RECHDR] = bytes(ffi.buffer(hdr))
        for r, v in zip(ep.recs, values(i), strict=True):
            rec[r.offset : r.offset + r.size] = v
        out += rec
        i += 1
    return bytes(out)


def _i(v: int, n: int, signed: bool = True) -> bytes:
    return v.to_bytes(n, "little", signed=signed)


def cases() -> dict[str, tuple[EProbe, list[fmt.Format], bool, Any]]:
    """name -> (layout, formats, quiet, values)."""
    P = lib.DTRACEACT_PRINTF
    D = lib.DTRACEACT_DIFEXPR
    f3 = fmt.with_signs(fmt.parse("%d %d %d\n"), [True, True, False])
    fs = fmt.with_signs(fmt.parse("%s %d\n"), [False, True])
    return {
        # the benchmark's clause: printf("%d %d %d\n", pid, tid, timestamp)
        "printf3": (
            _layout(1, [(P, 4, 1), (P, 4, 0), (P, 8, 0)]),
            [f3],
            True,
            lambda i: [_i(1234, 4), _i(1234 + i % 7, 4), _i(10**12 + i * 977, 8, False)],
        ),
        "printf-str": (
            _layout(1, [(P, 16, 1), (P, 8, 0)]),
            [fs],
            True,
            lambda i: [b"workload".ljust(16, b"\0"), _i(i, 8)],
        ),
        # trace(pid); trace(timestamp), not quiet: probe line + values
        "trace2": (
            _layout(1, [(D, 4, 0), (D, 8, 0)]),
            [],
            False,
            lambda i: [_i(1234, 4), _i(10**12 + i, 8, False)],
        ),
    }


class FullDevice:
    """Hands out the same full buffer on every snapshot of CPU 0."""

    def __init__(self, ep: EProbe, data: bytes) -> None:
        self.ep = ep
        self.data = data
        self.snaps = 0

    def conf(self) -> Any:
        return type("Conf", (), {"maxcpus": 1})()

    def go(self) -> int:
        return 0

    def probe(self, probeid: int) -> ProbeDesc:
        return PROBE

    def eprobe(self, epid: int) -> EProbe:
        return self.ep

    def bufsnap(self, cpu: int, size: int) -> BufSnapshot:
        self.snaps += 1
        return BufSnapshot(cpu, self.data, 0, 0, 0, 0)


def measure(name: str, seconds: float, profile: bool = False) -> float:
    ep, formats, quiet, values = cases()[name]
    data = _buffer(ep, values, BUFSIZE)
    nrec = len(data) // ep.size
    dev = FullDevice(ep, data)
    with open("/dev/null", "wb") as out:
        printer = Printer(dev, formats, out, quiet=quiet)  # type: ignore[arg-type]
        s = Session(dev, printer, bufsize=BUFSIZE, warn=print)  # type: ignore[arg-type]
        s.go()
        s.began_on = None
        prof = cProfile.Profile() if profile else None
        t0 = time.process_time()
        if prof:
            prof.enable()
        while time.process_time() - t0 < seconds:
            s.consume(force=True)
        if prof:
            prof.disable()
        dt = time.process_time() - t0
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    return dev.snaps * nrec / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--profile", action="store_true", help="cProfile the printf3 case")
    ap.add_argument("cases", nargs="*", default=list(cases()))
    a = ap.parse_args()
    if a.profile:
        measure("printf3", a.seconds, profile=True)
        return
    for name in a.cases:
        print(f"{name:12s} {measure(name, a.seconds):12,.0f} records/s")


if __name__ == "__main__":
    main()
