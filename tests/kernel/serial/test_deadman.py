"""The deadman: a consumer that stops calling STATUS is killed when a probe
fires after the timeout; one that keeps calling it is not, nor one that
enabled destructive actions (-w) unless the module's destructive_disallow
is set, as DTrace.  Serial: it
shortens the module's deadman parameters for the duration of each test."""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from progbuild import Builder, Consumer, Difo, const_difo, ret, setx, var  # noqa: E402

from pydtrace.abi import ffi, lib  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace")

PARAMS = Path("/sys/module/dtrace/parameters")
SHORT = {"deadman_interval_ms": 100, "deadman_user_ms": 1000, "deadman_timeout_ms": 2000}
MAGIC = 3_000_007  # outside test_variables.new_magic()'s range


@pytest.fixture
def short_deadman() -> Iterator[None]:
    saved = {name: (PARAMS / name).read_text() for name in SHORT}
    try:
        for name, value in SHORT.items():
            (PARAMS / name).write_text(str(value))
        yield
    finally:
        for name, value in saved.items():
            (PARAMS / name).write_text(value)


def consumer(destructive: bool = False) -> Consumer:
    pred = Difo(
        [
            var("ldgs", lib.DIF_VAR_ARG0, 1),
            setx(0, 2),
            (lib.DIF_OP_CMP << 24) | (1 << 16) | (2 << 8),
            (lib.DIF_OP_BNE << 24) | 6,
            setx(1, 3),
            ret(3),
            ret(0),
        ],
        ints=[MAGIC, 1],
        size=4,
    )
    b = Builder()
    b.clause(("syscall", "", "close", "entry"), [b.expr(const_difo(1))], pred=pred)
    if destructive:
        b.opts.append((lib.DTRACEOPT_DESTRUCTIVE, 0))
    c = Consumer()
    if c.enable(b) == 0:
        c.close()
        pytest.skip("no syscall::close:entry probe")
    c.go()
    return c


def fire_for(seconds: float, c: Consumer | None) -> None:
    """Fire the probe for a while; call STATUS along the way when c is given."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.close(MAGIC)
        except OSError:
            pass
        if c is not None:
            c.status()
        time.sleep(0.05)


def test_silent_consumer_is_killed(short_deadman: None) -> None:
    with consumer() as c:
        assert c.status().dtst_killed == 0
        fire_for(5, None)
        st = c.status()
        assert st.dtst_killed == 1
        assert st.dtst_activity == lib.DTRACE_ACTIVITY_KILLED
        with pytest.raises(OSError) as e:
            c.stop()
        assert e.value.errno == errno.EINVAL
        # what it traced before it was killed is still there to read
        ncpu = c.ioctl(lib.DTRACEIOC_CONF, ffi.new("struct dtrace_conf *")).dtc_maxcpus
        assert any(
            c.bufsnap(cpu)[0]
            for cpu in range(ncpu)
            if os.path.exists(f"/sys/devices/system/cpu/cpu{cpu}")
        )


def test_consumer_calling_status_lives(short_deadman: None) -> None:
    with consumer() as c:
        fire_for(5, c)
        st = c.status()
        assert st.dtst_killed == 0
        assert st.dtst_activity == lib.DTRACE_ACTIVITY_ACTIVE
        c.stop()
        assert c.status().dtst_activity == lib.DTRACE_ACTIVITY_STOPPED


@pytest.fixture
def disallow() -> Iterator[None]:
    path = PARAMS / "destructive_disallow"
    saved = path.read_text()
    try:
        path.write_text("1")
        yield
    finally:
        path.write_text(saved)


def test_destructive_consumer_is_spared(short_deadman: None) -> None:
    with consumer(destructive=True) as c:
        fire_for(5, None)
        st = c.status()
        assert st.dtst_killed == 0
        assert st.dtst_activity == lib.DTRACE_ACTIVITY_ACTIVE
        c.stop()


def test_destructive_consumer_is_killed_when_destructive_is_disallowed(
    short_deadman: None, disallow: None
) -> None:
    with consumer(destructive=True) as c:
        fire_for(5, None)
        st = c.status()
        assert st.dtst_killed == 1
        assert st.dtst_activity == lib.DTRACE_ACTIVITY_KILLED
