"""Soft and hard lifetimes by time and kilobytes, and sequence number exhaustion."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.crypto.keys import ChildKeys
from engine.esp import Drop, DropReason, EspConfigError, Lifetime, SaTable
from engine.esp.sa import MAX_SEQ_32
from engine.events import EspTransforms

Builder = Callable[..., bytes]
Link = Callable[..., tuple[SaTable, SaTable]]
LEFT, RIGHT = 1, 2
LEFT_SPI, RIGHT_SPI = 0x1000_0001, 0x2000_0002


def exchange(left: SaTable, right: SaTable, packet: bytes, now: float) -> object:
    """Send left to right; the right's verdict, or the left's refusal."""
    result = left.outbound(packet, now)
    if not isinstance(result, tuple):
        return result
    return right.inbound(result[0], now)


@pytest.mark.parametrize(
    ("encryption", "integrity"), [("aes-gcm-256", "none"), ("aes-cbc-256", "sha256")]
)
def test_kilobytes_soft_then_hard(
    make_link: Link, ipv4: Builder, encryption: str, integrity: str
) -> None:
    left, right = make_link(encryption, integrity, lifetime_kb=10)  # 10240 bytes, soft 9216
    packet = ipv4("10.1.0.1", "10.2.0.1", bytes(980))  # 1000 bytes inside
    for _ in range(9):
        assert exchange(left, right, packet, 1.0) == (packet, RIGHT)
    assert left.rekey_due(1.0) == right.rekey_due(1.0) == []
    assert exchange(left, right, packet, 1.0) == (packet, RIGHT)  # 10000 bytes: soft
    assert left.rekey_due(1.0) == [LEFT] and right.rekey_due(1.0) == [RIGHT]
    assert left.expired(1.0) == right.expired(1.0) == []
    assert exchange(left, right, packet, 1.0) == (packet, RIGHT)  # 11000 bytes: hard
    assert left.expired(1.0) == [LEFT] and right.expired(1.0) == [RIGHT]
    assert left.rekey_due(1.0) == []  # past rekeying: it has to go
    assert exchange(left, right, packet, 1.0) == Drop(DropReason.LIFETIME_EXPIRED, LEFT, RIGHT_SPI)
    pair = left.get(LEFT)
    assert pair is not None
    assert pair.outbound.encapsulate(packet, 1.0) == DropReason.LIFETIME_EXPIRED
    assert left.counters(LEFT).drops_out == 2


def test_seconds_soft_then_hard(make_link: Link, ipv4: Builder) -> None:
    left, right = make_link(lifetime_s=100.0, now=1000.0)
    packet = ipv4("10.1.0.1", "10.2.0.1", b"tick")
    assert left.rekey_due(1089.9) == []
    assert left.rekey_due(1090.0) == [LEFT]
    result = left.outbound(packet, 1099.9)
    assert isinstance(result, tuple)
    assert left.expired(1099.9) == []
    assert left.expired(1100.0) == [LEFT] and right.expired(1100.0) == [RIGHT]
    assert left.outbound(packet, 1100.0) == Drop(DropReason.LIFETIME_EXPIRED, LEFT, RIGHT_SPI)
    # sent just before the end, received just after it: refused
    assert right.inbound(result[0], 1100.0) == Drop(DropReason.LIFETIME_EXPIRED, RIGHT, RIGHT_SPI)
    pair = right.get(RIGHT)
    assert pair is not None and pair.inbound.replay.highest == 0


def test_soft_fraction_is_configurable(make_link: Link) -> None:
    left, _ = make_link(lifetime_s=100.0, soft_fraction=0.5)
    assert left.rekey_due(49.9) == []
    assert left.rekey_due(50.0) == [LEFT]
    with pytest.raises(EspConfigError):
        Lifetime(100.0, soft_fraction=0.0)


def test_no_lifetime_means_no_limit(make_link: Link) -> None:
    left, _ = make_link(lifetime_s=None, lifetime_kb=None)
    assert left.rekey_due(1e12) == [] and left.expired(1e12) == []


def test_a_replaced_pair_is_not_due_again_but_still_expires(
    make_link: Link, make_keys: Callable[..., ChildKeys]
) -> None:
    left, _ = make_link(lifetime_s=100.0)
    assert left.rekey_due(95.0) == [LEFT]
    left.install(
        3,
        0x3003,
        0x4004,
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        keys=make_keys("aes-gcm-256", "none"),
        initiator=True,
        local_ts=["10.1.0.0/16", "2001:db8:1::/48"],
        remote_ts=["10.2.0.0/16", "2001:db8:2::/48"],
        now=95.0,
        lifetime_s=100.0,
    )
    assert left.rekey_due(96.0) == []
    assert left.expired(100.0) == [LEFT]
    assert left.rekey_due(186.0) == [3]
    # the replacement goes away (say it lost a rekey collision): the old pair is due again
    left.remove(3)
    assert left.rekey_due(96.0) == [LEFT]


def test_sequence_numbers_run_out_without_esn(make_link: Link, ipv4: Builder) -> None:
    left, right = make_link("aes-cbc-128", "sha256")
    pair = left.get(LEFT)
    peer = right.get(RIGHT)
    assert pair is not None and peer is not None
    packet = ipv4("10.1.0.1", "10.2.0.1", b"last")
    pair.outbound.seq = MAX_SEQ_32 - 2
    peer.inbound.replay.accept(MAX_SEQ_32 - 2)
    assert left.rekey_due(0.0) == [LEFT]  # far past 90% of the sequence space
    assert exchange(left, right, packet, 0.0) == (packet, RIGHT)
    assert exchange(left, right, packet, 0.0) == (packet, RIGHT)  # 2^32 - 1: the last one
    assert pair.outbound.exhausted
    refused = Drop(DropReason.SEQUENCE_EXHAUSTED, LEFT, RIGHT_SPI)
    assert exchange(left, right, packet, 0.0) == refused
    assert exchange(left, right, packet, 0.0) == refused
    assert pair.outbound.seq == MAX_SEQ_32
    assert left.counters(LEFT).drops_out == 2
    assert left.drop_counts() == {DropReason.SEQUENCE_EXHAUSTED: 2}
    assert left.rekey_due(0.0) == [LEFT]


def test_with_esn_the_sequence_goes_past_2_32(make_link: Link, ipv4: Builder) -> None:
    left, right = make_link("aes-gcm-128", "none", esn=True)
    pair = left.get(LEFT)
    peer = right.get(RIGHT)
    assert pair is not None and peer is not None
    pair.outbound.seq = MAX_SEQ_32 - 1
    peer.inbound.replay.accept(MAX_SEQ_32 - 1)
    packet = ipv4("10.1.0.1", "10.2.0.1", b"on")
    for _ in range(3):
        assert exchange(left, right, packet, 0.0) == (packet, RIGHT)
    assert pair.outbound.seq == MAX_SEQ_32 + 2 and not pair.outbound.exhausted
    assert left.rekey_due(0.0) == []


def test_beside_an_ike_core_only_volume_asks_for_a_rekey(make_link: Link) -> None:
    """The IKE core rekeys by time itself: the data plane asking too would send a second
    CREATE_CHILD_SA for the same child (seen twice against a peer that refused)."""
    left, _ = make_link(lifetime_s=100.0)
    assert left.rekey_due(95.0) == [LEFT]
    assert left.rekey_due(95.0, by_time=False) == []
