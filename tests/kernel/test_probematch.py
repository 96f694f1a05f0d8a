"""DTRACEIOC_PROBEMATCH against the real module (test VM): the first probe
from an id on that a description matches, by the module's own matching (the
one enabling uses); what the zdefs check ("does not match any probes") asks."""

from __future__ import annotations

import errno
import fcntl
import os

import pytest

from pydtrace.abi import ffi, lib
from pydtrace.api import probe_matches
from pydtrace.runtime import Device

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)


def all_matches(fd: int, desc: tuple[str, str, str, str]) -> list[int]:
    """Every match, iterating PROBEMATCH by id as dtrace_probe_iter does."""
    ids = []
    nxt = 1
    while True:
        pd = ffi.new("struct dtrace_probedesc *")
        for field, value in zip(
            (pd.dtpd_provider, pd.dtpd_mod, pd.dtpd_func, pd.dtpd_name), desc, strict=True
        ):
            ffi.memmove(field, value.encode(), len(value))
        pd.dtpd_id = nxt
        buf = bytearray(ffi.buffer(pd))
        try:
            fcntl.ioctl(fd, lib.DTRACEIOC_PROBEMATCH, buf)
        except OSError as e:
            assert e.errno == errno.ESRCH
            return ids
        out = ffi.from_buffer("struct dtrace_probedesc *", buf)
        assert out.dtpd_id >= nxt
        ids.append(out.dtpd_id)
        nxt = out.dtpd_id + 1


@pytest.mark.parametrize(
    "desc",
    [
        ("syscall", "", "read", "entry"),
        ("sys*", "", "*read*", "ret?rn"),
        ("", "", "", "BEGIN"),
        ("profile", "", "", "tick-[15]*"),
        ("syscall", "vmlinux", "[!r]*", ""),
    ],
)
def test_matches_are_what_the_listing_says(desc: tuple[str, str, str, str]):
    with Device() as dev:
        listed = [p for p in dev.probes() if probe_matches(p, desc)]
        first = dev.first_match(desc)
    assert listed, desc
    assert first == listed[0]
    fd = os.open("/dev/dtrace", os.O_RDWR)
    try:
        assert all_matches(fd, desc) == [p.id for p in listed]
    finally:
        os.close(fd)


def test_nothing_matched():
    with Device() as dev:
        assert dev.first_match(("nosuch", "", "", "")) is None
        assert dev.first_match(("syscall", "", "read", "nosuch*")) is None


def test_unterminated_fields_are_refused():
    fd = os.open("/dev/dtrace", os.O_RDWR)
    try:
        for field in ("dtpd_provider", "dtpd_mod", "dtpd_func", "dtpd_name"):
            bad = ffi.new("struct dtrace_probedesc *")
            size = ffi.sizeof(getattr(bad, field))
            ffi.memmove(getattr(bad, field), b"*" * size, size)  # no NUL
            with pytest.raises(OSError) as e:
                fcntl.ioctl(fd, lib.DTRACEIOC_PROBEMATCH, bytearray(ffi.buffer(bad)))
            assert e.value.errno == errno.EINVAL, field
    finally:
        os.close(fd)
