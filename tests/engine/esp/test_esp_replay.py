"""Anti-replay (RFC 4303 section 3.4.3, Appendix A) on its own and through whole SAs."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.esp import Drop, DropReason, ReplayWindow, SaTable

Builder = Callable[..., bytes]
Link = Callable[..., tuple[SaTable, SaTable]]
LEFT, RIGHT = 1, 2
#: the right gateway's inbound SPI in `make_link`
RIGHT_SPI = 0x2000_0002
TWO_32 = 2**32


def deliver(window: ReplayWindow, seq_low: int) -> bool:
    """What an SA does with a packet whose ICV verifies."""
    seq = window.check(seq_low)
    if seq < 0:
        return False
    window.accept(seq)
    return True


@pytest.mark.parametrize("size", [64, 1024])
def test_reorder_inside_the_window_is_accepted_once(size: int) -> None:
    window = ReplayWindow(size)
    top = 5 * size
    assert deliver(window, top)
    oldest = top - size + 1
    late = list(range(oldest, top))
    random.Random(size).shuffle(late)
    assert all(deliver(window, seq) for seq in late)
    assert not any(deliver(window, seq) for seq in [*late, top])
    assert not deliver(window, oldest - 1)  # just too old
    assert window.highest == top


def test_sequence_zero_is_never_valid_and_one_starts() -> None:
    window = ReplayWindow()
    assert window.check(0) == -1
    assert deliver(window, 1)
    assert not deliver(window, 1)


def test_a_jump_beyond_the_window_forgets_everything_older() -> None:
    window = ReplayWindow(64)
    for seq in range(1, 60):
        assert deliver(window, seq)
    assert deliver(window, 100_000)
    assert deliver(window, 100_000 - 63)
    assert not deliver(window, 100_000 - 64)
    assert deliver(window, 99_999)


@settings(max_examples=300, deadline=None)
@given(
    size=st.sampled_from([1, 2, 63, 64, 65, 100, 1024]),
    arrivals=st.lists(st.integers(min_value=0, max_value=3000), max_size=200),
)
def test_window_matches_a_reference_model(size: int, arrivals: list[int]) -> None:
    window = ReplayWindow(size)
    seen: set[int] = {0}
    top = 0
    for seq in arrivals:
        fresh = seq not in seen and (seq > top or top - seq < size)
        assert deliver(window, seq) == fresh
        if fresh:
            seen.add(seq)
            top = max(top, seq)


def test_esn_high_bits_inference_around_a_2_32_boundary() -> None:
    window = ReplayWindow(64, esn=True)
    window.accept(TWO_32 - 2)  # Case A: Tl >= W - 1
    assert window.check(5) == TWO_32 + 5  # wrapped: the next subspace
    assert window.check(TWO_32 - 10) == TWO_32 - 10
    assert window.check(TWO_32 - 2) == -1  # the top itself
    assert window.check(TWO_32 - 70) == TWO_32 + TWO_32 - 70  # behind: read as ahead
    window.accept(TWO_32 + 3)  # Case B: Tl < W - 1, the window spans both subspaces
    assert window.check(TWO_32 - 20) == TWO_32 - 20
    assert window.check(TWO_32 - 2) == -1  # seen before the wrap
    assert window.check(2) == TWO_32 + 2
    assert window.check(4) == TWO_32 + 4
    assert window.check(TWO_32 - 70) == TWO_32 + TWO_32 - 70  # outside: same subspace


def test_esn_fresh_window_never_infers_a_negative_high_half() -> None:
    window = ReplayWindow(64, esn=True)
    assert window.check(TWO_32 - 1) == -1
    assert window.check(1) == 1


@pytest.mark.parametrize(
    ("encryption", "integrity"), [("aes-gcm-256", "none"), ("aes-cbc-128", "sha256")]
)
def test_esp_across_the_2_32_boundary_with_reordering(
    make_link: Link, ipv4: Builder, encryption: str, integrity: str
) -> None:
    left, right = make_link(encryption, integrity, esn=True)
    out = left.get(LEFT)
    inn = right.get(RIGHT)
    assert out is not None and inn is not None
    out.outbound.seq = TWO_32 - 4
    inn.inbound.replay.accept(TWO_32 - 4)  # every earlier packet arrived
    packets = []
    for n in range(6):
        result = left.outbound(ipv4("10.1.0.1", "10.2.0.1", bytes([n])), 0.0)
        assert isinstance(result, tuple)
        packets.append(result[0])
    assert [int.from_bytes(p[4:8], "big") for p in packets] == [
        TWO_32 - 3,
        TWO_32 - 2,
        TWO_32 - 1,
        0,
        1,
        2,
    ]
    for index in (3, 0, 5, 1, 4, 2):
        assert isinstance(right.inbound(packets[index], 0.0), tuple)
    for packet in packets:
        assert right.inbound(packet, 0.0) == Drop(DropReason.REPLAY, RIGHT, inn.inbound.spi)
    assert inn.inbound.replay.highest == TWO_32 + 2
    assert right.counters(RIGHT).packets_in == 6
    assert right.counters(RIGHT).drops_in == 6


@pytest.mark.parametrize("window", [64, 1024])
@pytest.mark.parametrize(
    ("encryption", "integrity"), [("aes-gcm-128", "none"), ("aes-cbc-256", "sha384")]
)
def test_duplicates_and_too_old_packets_are_replays(
    make_link: Link, ipv4: Builder, encryption: str, integrity: str, window: int
) -> None:
    left, right = make_link(encryption, integrity, replay_window=window)
    packets = []
    for n in range(window + 2):
        result = left.outbound(ipv4("10.1.0.1", "10.2.0.1", n.to_bytes(2, "big")), 0.0)
        assert isinstance(result, tuple)
        packets.append(result[0])
    # newest first, then the rest in reverse: each one accepted exactly once
    assert isinstance(right.inbound(packets[-1], 0.0), tuple)
    for packet in reversed(packets[2:-1]):
        assert isinstance(right.inbound(packet, 0.0), tuple)
    assert right.inbound(packets[5], 0.0) == Drop(DropReason.REPLAY, RIGHT, RIGHT_SPI)
    # packets[0] and [1] carry seq 1 and 2: older than the window now
    assert right.inbound(packets[1], 0.0) == Drop(DropReason.REPLAY, RIGHT, RIGHT_SPI)
    assert right.drop_counts() == {DropReason.REPLAY: 2}
    assert right.counters(RIGHT).packets_in == window


@pytest.mark.parametrize(
    ("encryption", "integrity"), [("aes-gcm-256", "none"), ("aes-cbc-128", "sha512")]
)
def test_a_forged_packet_does_not_move_the_window(
    make_link: Link, ipv4: Builder, encryption: str, integrity: str
) -> None:
    left, right = make_link(encryption, integrity)
    packets = []
    for n in range(5):
        result = left.outbound(ipv4("10.1.0.1", "10.2.0.1", bytes([n])), 0.0)
        assert isinstance(result, tuple)
        packets.append(result[0])
    for index in (0, 1, 3, 4):  # seq 3 is late
        assert isinstance(right.inbound(packets[index], 0.0), tuple)
    forged = packets[4][:4] + (500).to_bytes(4, "big") + packets[4][8:]
    assert right.inbound(forged, 0.0) == Drop(DropReason.INTEGRITY, RIGHT, RIGHT_SPI)
    pair = right.get(RIGHT)
    assert pair is not None and pair.inbound.replay.highest == 5
    # had the forgery moved the window to 500, seq 3 would now be too old
    assert isinstance(right.inbound(packets[2], 0.0), tuple)
    # and the forged number is still free for the real packet 500 when it comes
    assert pair.inbound.replay.check(500) == 500
