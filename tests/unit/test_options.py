import pytest

from pydtrace.abi import lib
from pydtrace.errors import DError
from pydtrace.options import TABLE, UNSET, Options, parse_rate, parse_size


def test_defaults() -> None:
    o = Options()
    assert o.get("bufsize") == 4 << 20
    assert o.get("aggsize") == 4 << 20
    assert o.get("strsize") == 256
    assert o.get("switchrate") == o.get("statusrate") == o.get("aggrate") == 10**9
    assert o.get("quiet") == UNSET and not o.is_set("quiet")


@pytest.mark.parametrize("text,value", [
    ("4m", 4 << 20), ("512k", 512 << 10), ("1g", 1 << 30), ("2T", 2 << 40),
    ("100", 100), ("0x10", 16), ("010", 8),
])
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "m", "4q", "-1", "4mk"])
def test_bad_sizes(text: str) -> None:
    assert parse_size(text) is None


@pytest.mark.parametrize("text,value", [
    ("1s", 10**9), ("10hz", 10**8), ("250ms", 250 * 10**6), ("5us", 5000),
    ("7ns", 7), ("100", 100), ("2min", 120 * 10**9), ("1SEC", 10**9),
])
def test_rates(text: str, value: int) -> None:
    assert parse_rate(text) == value


@pytest.mark.parametrize("text", ["", "1fortnight", "s", "-5s"])
def test_bad_rates(text: str) -> None:
    assert parse_rate(text) is None


def test_set_and_kernel_options() -> None:
    o = Options()
    o.set("quiet", None)
    o.set("bufpolicy", "ring")
    o.set("destructive", "yes")
    o.set("flowindent", "off")
    o.set("errtags", None)
    assert o.get("quiet") == 0 and o.is_set("quiet")
    assert o.get("flowindent") == UNSET
    kopts = dict(o.kernel_options())
    assert kopts[lib.DTRACEOPT_QUIET] == 0
    assert kopts[lib.DTRACEOPT_BUFPOLICY] == lib.DTRACEOPT_BUFPOLICY_RING
    assert kopts[lib.DTRACEOPT_DESTRUCTIVE] == 1
    assert lib.DTRACEOPT_FLOWINDENT not in kopts
    assert kopts[lib.DTRACEOPT_BUFSIZE] == 4 << 20
    assert TABLE["errtags"].optid is None and o.get("errtags") == 0


def test_every_kernel_option_id_is_in_the_table() -> None:
    ids = {s.optid for s in TABLE.values() if s.optid is not None}
    assert ids == set(range(lib.DTRACEOPT_MAX))


@pytest.mark.parametrize("name,value,reason", [
    ("nosuch", "1", "Invalid option name"),
    ("bufsize", "lots", "Invalid value for specified option"),
    ("quiet", "maybe", "Invalid value for specified option"),
    ("bufpolicy", "circular", "Invalid value for specified option"),
    ("bufsize", None, "Invalid value for specified option"),
])
def test_errors(name: str, value: str | None, reason: str) -> None:
    with pytest.raises(DError) as ei:
        Options().set(name, value)
    assert ei.value.reason == reason
    assert ei.value.message == f"failed to set option '{name}': {reason}"
