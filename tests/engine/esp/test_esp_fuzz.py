"""Hostile input: whatever bytes arrive, the data plane answers with a counted drop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.esp import Drop, SaTable

Builder = Callable[..., bytes]
Link = Callable[..., tuple[SaTable, SaTable]]
RIGHT_SPI = (0x2000_0002).to_bytes(4, "big")
ALGORITHMS = [
    ("aes-gcm-256", "none"),
    ("aes-cbc-128", "sha256"),
    ("chacha20-poly1305", "none"),
    ("3des", "sha1"),
    ("null", "md5"),
]
# the factory fixtures are pure functions: sharing them across examples is safe
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def total_drops(table: SaTable) -> int:
    return sum(table.drop_counts().values())


@pytest.mark.parametrize(("encryption", "integrity"), ALGORITHMS)
@FUZZ
@given(data=st.binary(max_size=300), with_spi=st.booleans())
def test_arbitrary_bytes_only_ever_yield_a_counted_drop(
    make_link: Link, encryption: str, integrity: str, data: bytes, with_spi: bool
) -> None:
    _, right = make_link(encryption, integrity)
    packet = RIGHT_SPI + data if with_spi else data
    result = right.inbound(packet, 0.0)
    assert isinstance(result, Drop)
    assert total_drops(right) == 1
    pair = right.get(2)
    assert pair is not None
    if result.child_sa_id is not None:
        assert pair.inbound.drops_total == 1
    assert pair.counters.packets_in == 0


@pytest.mark.parametrize(("encryption", "integrity"), ALGORITHMS)
@FUZZ
@given(
    cuts=st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=255)),
        min_size=1,
        max_size=4,
    ),
    trim=st.integers(min_value=-40, max_value=8),
    payload=st.binary(max_size=64),
)
def test_mutated_genuine_packets_are_dropped(
    make_link: Link,
    ipv4: Builder,
    encryption: str,
    integrity: str,
    cuts: list[tuple[int, int]],
    trim: int,
    payload: bytes,
) -> None:
    left, right = make_link(encryption, integrity)
    sent = left.outbound(ipv4("10.1.0.1", "10.2.0.1", payload), 0.0)
    assert isinstance(sent, tuple)
    mutated = bytearray(sent[0])
    for position, flip in cuts:
        mutated[position % len(mutated)] ^= flip
    if trim < 0:
        del mutated[trim:]
    else:
        mutated += bytes(trim)
    assume(bytes(mutated) != sent[0])  # two flips may cancel out
    assert isinstance(right.inbound(bytes(mutated), 0.0), Drop)
    assert total_drops(right) == 1
    # the window did not move: the genuine packet is still accepted, once
    assert isinstance(right.inbound(sent[0], 0.0), tuple)


@FUZZ
@given(data=st.binary(max_size=120))
def test_outbound_arbitrary_bytes_never_raise(make_link: Link, data: bytes) -> None:
    left, _ = make_link("aes-cbc-256", "sha512")
    result = left.outbound(data, 0.0)
    assert result is None or isinstance(result, Drop | tuple)
    if isinstance(result, Drop):
        assert total_drops(left) == 1
