"""dtrace(1)'s go() messages: sizes bufresize=auto lowered, rates the module changed."""

from __future__ import annotations

import pytest

from pydtrace.consume.resize import go_messages, rate_changed, size_lowered, size_text
from pydtrace.options import TABLE, UNSET, Options

K, M, G = 1 << 10, 1 << 20, 1 << 30
NS = 1_000_000_000


@pytest.mark.parametrize(
    ("nsize", "text"),
    [
        (2 * M, "2m"),
        (512 * K, "512k"),
        (K, "1k"),
        (G, "1g"),
        (3 * G, "3g"),
        (1 << 40, "1t"),
        (512, "512 "),  # below 1k: the blank unit of " kmgtpe"
        (8, "8 "),
        (1536, "1536 bytes"),
        (M + 8, "1048584 bytes"),
        (3 * M // 2, "1572864 bytes"),  # a whole number of k, but not of m
    ],
)
def test_size_text(nsize: int, text: str) -> None:
    assert size_text(nsize) == text


def test_size_lowered_only_when_smaller_by_more_than_a_word() -> None:
    assert size_lowered("buffer size", 4 * M, 2 * M, UNSET) == "buffer size lowered to 2m"
    assert size_lowered("buffer size", 4 * M, 4 * M, UNSET) is None
    # the module rounds down to 8 bytes: not "lowered"
    assert size_lowered("buffer size", 4 * M + 7, 4 * M, UNSET) is None
    assert size_lowered("buffer size", 4 * M + 8, 4 * M, UNSET) is None
    assert size_lowered("buffer size", 4 * M + 9, 4 * M, UNSET) == "buffer size lowered to 4m"
    # never set, or no such buffer (0): nothing to say
    assert size_lowered("aggregation size", UNSET, 2 * M, UNSET) is None
    assert size_lowered("aggregation size", 4 * M, 0, UNSET) is None
    assert size_lowered("aggregation size", 4 * M, UNSET, UNSET) is None


def test_rate_changed_words() -> None:
    # cleanrate=1ns clamped to the 200 us minimum: a slower rate
    assert rate_changed("cleaning rate", 1, 200_000, UNSET) == "cleaning rate reduced to 5000 hz"
    # statusrate=1m capped at 10 s: a faster rate
    assert (
        rate_changed("status rate", 60 * NS, 10 * NS, UNSET)
        == "status rate increased to once every 10 seconds"
    )
    assert (
        rate_changed("cleaning rate", 1, 3 * NS // 2, UNSET)
        == "cleaning rate reduced to once every 1500000000 nanoseconds"
    )
    assert rate_changed("cleaning rate", 200_000, 200_000, UNSET) is None
    assert rate_changed("cleaning rate", UNSET, 200_000, UNSET) is None


def test_go_messages_in_dtrace_order_from_options() -> None:
    opts = Options()
    opts.set("bufsize", "1t")
    opts.set("aggsize", "1g")
    opts.set("specsize", "64k")
    opts.set("dynvarsize", "8m")
    opts.set("cleanrate", "10000hz")
    got = [UNSET] * int(max(s.optid for s in TABLE.values() if s.optid is not None) + 1)

    def put(name: str, value: int) -> None:
        got[TABLE[name].optid] = value  # type: ignore[index]

    put("bufsize", 64 * M)
    put("aggsize", 1032)
    put("specsize", 0)  # nothing speculates
    put("dynvarsize", 8 * M)  # fitted
    put("cleanrate", 200_000)
    put("statusrate", NS)

    def asked(name: str) -> int:
        v = opts.get(name)
        return v if isinstance(v, int) else UNSET

    msgs = go_messages(asked, got, lambda n: int(TABLE[n].optid or 0), UNSET)
    assert msgs == [
        "buffer size lowered to 64m",
        "aggregation size lowered to 1032 bytes",
        "cleaning rate reduced to 5000 hz",
    ]
