"""ESP round trips between two gateways keyed from the same ChildKeys, every algorithm."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.crypto import UnsupportedAlgorithm
from engine.crypto.keys import ChildKeys
from engine.esp import Drop, DropReason, EspConfigError, SaTable
from engine.esp import table as table_module
from engine.events import (
    ChildAlgorithms,
    ChildSaInstalled,
    Counters,
    EspTransforms,
    TrafficSelectorSet,
)

Builder = Callable[..., bytes]
Link = Callable[..., tuple[SaTable, SaTable]]
Keys = Callable[..., ChildKeys]
#: child SA ids in the two tables `make_link` builds
LEFT, RIGHT = 1, 2
#: and their selectors, as `make_link` installs them
LEFT_NETS = ("2001:db8:1::/48", "10.1.0.0/16")
RIGHT_NETS = ("10.2.0.0/16", "2001:db8:2::/48")


def sent(table: SaTable, packet: bytes, now: float = 0.0) -> tuple[bytes, int]:
    result = table.outbound(packet, now)
    assert isinstance(result, tuple), result
    return result


def send(table: SaTable, packet: bytes, now: float = 0.0) -> bytes:
    return sent(table, packet, now)[0]


ALGORITHMS = [
    ("aes-gcm-128", "none"),
    ("aes-gcm-256", "none"),
    ("aes-cbc-128", "sha256"),
    ("aes-cbc-128", "sha384"),
    ("aes-cbc-128", "sha512"),
    ("aes-cbc-256", "sha256"),
    ("aes-cbc-256", "sha384"),
    ("aes-cbc-256", "sha512"),
    ("chacha20-poly1305", "none"),
    # legacy transforms deployed peers still offer (IOS esp-aes 192, esp-3des, esp-null,
    # esp-sha-hmac, esp-md5-hmac)
    ("aes-cbc-192", "sha256"),
    ("aes-cbc-128", "sha1"),
    ("aes-cbc-128", "md5"),
    ("3des", "sha1"),
    ("3des", "md5"),
    ("3des", "sha512"),
    ("null", "sha1"),
    ("null", "sha256"),
    ("null", "md5"),
]


@pytest.mark.parametrize("esn", [False, True], ids=["no-esn", "esn"])
@pytest.mark.parametrize(("encryption", "integrity"), ALGORITHMS)
def test_round_trip_both_ways_every_pad_length(
    make_link: Link,
    ipv4: Builder,
    ipv6: Builder,
    encryption: str,
    integrity: str,
    esn: bool,
) -> None:
    left, right = make_link(encryption, integrity, esn=esn)
    total = 0
    for size in range(34):  # every pad length for blocks of 4 and 16
        payload = bytes(range(size))
        for there, back in (
            (ipv4("10.1.0.5", "10.2.7.8", payload), ipv4("10.2.7.8", "10.1.0.5", payload)),
            (
                ipv6("2001:db8:1::5", "2001:db8:2::8", payload),
                ipv6("2001:db8:2::8", "2001:db8:1::5", payload),
            ),
        ):
            esp, child = sent(left, there, 1.0)
            assert child == LEFT
            assert right.inbound(esp, 1.0) == (there, RIGHT)
            esp, child = sent(right, back, 1.0)
            assert child == RIGHT
            assert left.inbound(esp, 1.0) == (back, LEFT)
            total += len(there)
    counters = right.counters(RIGHT)
    assert counters == Counters(total, 68, total, 68, 0, 0)
    assert left.counters(LEFT) == Counters(total, 68, total, 68, 0, 0)


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize("bits", [128, 256])
def test_gcm_layout_iv_is_the_sequence_number_and_keys_are_the_initiators(
    make_keys: Keys, make_link: Link, ipv4: Builder, bits: int, esn: bool
) -> None:
    left, _ = make_link(f"aes-gcm-{bits}", "none", esn=esn)
    keys = make_keys(f"aes-gcm-{bits}", "none")
    inner = ipv4("10.1.0.1", "10.2.0.1", b"hello")  # 25 bytes: 25 + 2 + 1 pad = 28
    pair = left.get(LEFT)
    assert pair is not None
    pair.outbound.seq = (7 << 32) + 41 if esn else 41
    esp = send(left, inner, 0.0)
    spi, seq_low, iv = struct.unpack_from(">IIQ", esp)
    seq = (7 << 32) + 42 if esn else 42
    assert (spi, seq_low, iv) == (pair.outbound.spi, seq & 0xFFFFFFFF, seq)
    assert len(esp) == 8 + 8 + 28 + 16
    # written out from RFC 4106: nonce = salt | IV, AAD = SPI | [seq high |] seq low
    aad = esp[:4] + struct.pack(">I", seq >> 32) + esp[4:8] if esn else esp[:8]
    plain = AESGCM(keys.encr_i[:-4]).decrypt(keys.encr_i[-4:] + esp[8:16], esp[16:], aad)
    assert plain == inner + b"\x01\x01\x04"


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize(("digest", "icv"), [("sha256", 16), ("sha384", 24), ("sha512", 32)])
def test_cbc_layout_and_icv_written_out(
    make_keys: Keys, make_link: Link, ipv4: Builder, digest: str, icv: int, esn: bool
) -> None:
    left, _ = make_link("aes-cbc-256", digest, esn=esn)
    keys = make_keys("aes-cbc-256", digest)
    inner = ipv4("10.1.0.1", "10.2.0.1", b"x" * 9)  # 29 + 2 = 31: one pad byte to 32
    pair = left.get(LEFT)
    assert pair is not None
    pair.outbound.seq = (3 << 32) + 9 if esn else 9
    esp = send(left, inner, 0.0)
    assert len(esp) == 8 + 16 + 32 + icv
    assert esp[4:8] == (10).to_bytes(4, "big")
    signed = esp[:-icv] + ((3).to_bytes(4, "big") if esn else b"")
    assert hmac.digest(keys.integ_i, signed, getattr(hashlib, digest))[:icv] == esp[-icv:]
    decryptor = Cipher(algorithms.AES(keys.encr_i), modes.CBC(esp[8:24])).decryptor()
    assert decryptor.update(esp[24:-icv]) + decryptor.finalize() == inner + b"\x01\x01\x04"


@pytest.mark.parametrize("esn", [False, True])
@pytest.mark.parametrize(("digest", "icv"), [("sha1", 12), ("md5", 12), ("sha256", 16)])
def test_3des_layout_8_byte_blocks_and_iv_written_out(
    make_keys: Keys, make_link: Link, ipv4: Builder, digest: str, icv: int, esn: bool
) -> None:
    left, right = make_link("3des", digest, esn=esn)
    keys = make_keys("3des", digest)
    inner = ipv4("10.1.0.1", "10.2.0.1", b"x" * 9)  # 29 + 2 = 31: one pad byte to 32
    pair = left.get(LEFT)
    assert pair is not None
    pair.outbound.seq = (3 << 32) + 9 if esn else 9
    esp = send(left, inner, 0.0)
    # header, an 8-byte IV, four 8-byte blocks, the ICV (96 bits for SHA-1 and MD5)
    assert len(esp) == 8 + 8 + 32 + icv
    signed = esp[:-icv] + ((3).to_bytes(4, "big") if esn else b"")
    assert hmac.digest(keys.integ_i, signed, getattr(hashlib, digest))[:icv] == esp[-icv:]
    assert len(keys.encr_i) == 24
    decryptor = Cipher(TripleDES(keys.encr_i), modes.CBC(esp[8:16])).decryptor()
    assert decryptor.update(esp[16:-icv]) + decryptor.finalize() == inner + b"\x01\x01\x04"
    # 5 bytes longer: 36 + 2 = 38, padded to 40 (8-byte blocks, not 16)
    longer = ipv4("10.1.0.1", "10.2.0.1", b"x" * 14)
    esp = send(left, longer, 0.0)
    assert len(esp) == 8 + 8 + 40 + icv
    if not esn:  # (with ESN the receiver cannot guess the high half we jumped to)
        assert right.inbound(esp, 0.0) == (longer, RIGHT)


@pytest.mark.parametrize(("digest", "icv"), [("sha1", 12), ("sha256", 16)])
def test_null_layout_payload_in_clear_padded_to_4(
    make_keys: Keys, make_link: Link, ipv4: Builder, digest: str, icv: int
) -> None:
    left, right = make_link("null", digest)
    keys = make_keys("null", digest)
    assert keys.encr_i == b""
    inner = ipv4("10.1.0.1", "10.2.0.1", b"hello")  # 25 + 2 + 1 pad = 28
    esp = send(left, inner, 0.0)
    # RFC 2410: no IV; the trailer pads to 4 bytes
    assert len(esp) == 8 + 28 + icv
    assert esp[8:-icv] == inner + b"\x01\x01\x04"
    assert hmac.digest(keys.integ_i, esp[:-icv], getattr(hashlib, digest))[:icv] == esp[-icv:]
    assert right.inbound(esp, 0.0) == (inner, RIGHT)
    # the ICV is all that protects it
    esp = send(left, inner, 0.0)
    tampered = esp[:20] + bytes([esp[20] ^ 1]) + esp[21:]
    result = right.inbound(tampered, 0.0)
    assert isinstance(result, Drop) and result.reason is DropReason.INTEGRITY


def test_cbc_ivs_differ_and_come_from_random_bytes(make_keys: Keys, ipv4: Builder) -> None:
    keys = make_keys("aes-cbc-128", "sha256")
    draws: list[int] = []

    def random_bytes(n: int) -> bytes:
        draws.append(n)
        return bytes(n)  # even an all-zero R gives unpredictable-to-outsiders IVs

    table = SaTable(random_bytes=random_bytes)
    table.install(
        1,
        5,
        6,
        transforms=EspTransforms.named("aes-cbc-128", "sha256"),
        keys=keys,
        initiator=True,
        local_ts=["10.1.0.0/16"],
        remote_ts=["10.2.0.0/16"],
        now=0.0,
    )
    inner = ipv4("10.1.0.1", "10.2.0.1", b"same")
    ivs = {send(table, inner)[8:24] for _ in range(20)}
    assert len(ivs) == 20
    assert draws == [16] * 20


def test_ipv6_and_ipv4_use_their_next_header(make_link: Link, ipv4: Builder, ipv6: Builder) -> None:
    left, right = make_link("aes-gcm-128", "none")
    sa = right.get(RIGHT)
    assert sa is not None
    for packet, next_header in (
        (ipv4("10.1.0.1", "10.2.0.1"), 4),
        (ipv6("2001:db8:1::1", "2001:db8:2::1"), 41),
    ):
        esp = send(left, packet, 0.0)
        assert sa.inbound.unprotect(esp, 0.0) == (packet, next_header)


def test_newest_pair_sends_after_a_rekey_and_both_receive(
    make_keys: Keys, make_link: Link, ipv4: Builder
) -> None:
    left, right = make_link("aes-gcm-256", "none")
    packet = ipv4("10.1.0.1", "10.2.0.1", b"in flight")
    old_esp = send(left, packet, 1.0)
    keys = make_keys("aes-gcm-256", "none", seed=99)
    for table, child_sa_id, spi_in, spi_out, initiator, local, remote in (
        (left, 3, 0x3003, 0x4004, True, LEFT_NETS, RIGHT_NETS),
        (right, 4, 0x4004, 0x3003, False, RIGHT_NETS, LEFT_NETS),
    ):
        table.install(
            child_sa_id,
            spi_in,
            spi_out,
            transforms=EspTransforms.named("aes-gcm-256", "none"),
            keys=keys,
            initiator=initiator,
            local_ts=local,
            remote_ts=remote,
            now=2.0,
        )
    new_esp, child = sent(left, packet, 2.0)
    assert child == 3
    assert new_esp[:4] == (0x4004).to_bytes(4, "big")
    assert right.inbound(new_esp, 2.0) == (packet, 4)
    # a packet sent on the old SA before the switch still arrives
    assert right.inbound(old_esp, 2.0) == (packet, RIGHT)
    old = right.get(RIGHT)
    assert old is not None and old.superseded
    assert left.remove(LEFT) is not None
    assert sent(left, packet, 3.0)[1] == 3
    removed = right.remove(RIGHT)
    assert removed is not None and removed.counters.packets_in == 1
    dropped = right.inbound(old_esp, 3.0)
    assert dropped == Drop(DropReason.UNKNOWN_SPI, None, spi_of(old_esp))
    assert right.remove(RIGHT) is None


def test_only_the_newest_of_many_pairs_with_the_same_selectors_is_current(
    make_keys: Keys,
) -> None:
    table = SaTable()
    for child_sa_id in range(1, 6):
        table.install(
            child_sa_id,
            0x1000 + child_sa_id,
            0x2000 + child_sa_id,
            transforms=EspTransforms.named("aes-gcm-256", "none"),
            keys=make_keys("aes-gcm-256", "none", seed=child_sa_id),
            initiator=False,
            local_ts=LEFT_NETS,
            remote_ts=RIGHT_NETS,
            now=1.0,
        )

    def superseded() -> list[int]:
        return [i for i in range(1, 6) if (pair := table.get(i)) and pair.superseded]

    assert superseded() == [1, 2, 3, 4]
    table.remove(3)  # one in the middle: the newest stays current
    assert superseded() == [1, 2, 4]
    table.remove(5)  # the newest: the one before it is current again
    assert superseded() == [1, 2]


def spi_of(esp: bytes) -> int:
    return int.from_bytes(esp[:4], "big")


def test_outbound_without_a_covering_pair_is_none_and_non_ip_is_malformed(
    make_link: Link, ipv4: Builder
) -> None:
    left, _ = make_link()
    assert left.outbound(ipv4("10.1.0.1", "192.0.2.1"), 0.0) is None
    assert left.outbound(ipv4("192.0.2.1", "10.2.0.1"), 0.0) is None  # wrong source
    assert left.outbound(b"\x50" + bytes(40), 0.0) == Drop(DropReason.MALFORMED)
    assert left.outbound(b"", 0.0) == Drop(DropReason.MALFORMED)
    assert left.drop_counts() == {DropReason.MALFORMED: 2}
    assert left.counters(LEFT) == Counters()


def child_event(
    keys: ChildKeys, child_sa_id: int, spi_in: int, spi_out: int, initiator: bool
) -> ChildSaInstalled:
    local, remote = ("10.1.0.0/16",), ("10.2.0.0/16",)
    return ChildSaInstalled(
        ike_sa_id=1,
        child_sa_id=child_sa_id,
        peer_name="peer",
        local=("192.0.2.1", 500),
        remote=("192.0.2.2", 500),
        spi_in=spi_in,
        spi_out=spi_out,
        algorithms=ChildAlgorithms("aes-cbc-128", "sha384", None, True),
        transforms=EspTransforms.named("aes-cbc-128", "sha384", esn=True),
        traffic_selectors=TrafficSelectorSet(*((local, remote) if initiator else (remote, local))),
        lifetime=3600.0,
        lifetime_kb=4608000,
        udp_encapsulation=True,
        initiator=initiator,
        at=10.0,
        keys=keys,
    )


def test_install_event_uses_the_events_fields(make_keys: Keys, ipv4: Builder) -> None:
    keys = make_keys("aes-cbc-128", "sha384")

    def event(child_sa_id: int, spi_in: int, spi_out: int, initiator: bool) -> ChildSaInstalled:
        return child_event(keys, child_sa_id, spi_in, spi_out, initiator)

    left, right = SaTable(), SaTable()
    pair = left.install_event(event(1, 0xA, 0xB, True))
    right.install_event(event(2, 0xB, 0xA, False))
    assert pair.udp_encapsulation and pair.outbound.esn and pair.installed_at == 10.0
    assert pair.outbound.lifetime.seconds == 3600.0
    packet = ipv4("10.1.2.3", "10.2.3.4", b"event")
    esp = send(left, packet, 11.0)
    assert right.inbound(esp, 11.0) == (packet, 2)
    assert right.last_used(2) == 11.0
    assert right.all_counters() == {2: Counters(bytes_in=len(packet), packets_in=1)}


@pytest.mark.parametrize(
    ("encryption", "integrity"),
    [
        ("aes-gcm-256", "sha256"),
        ("aes-cbc-256", "none"),
        ("des", "sha256"),
        ("aes-gcm-256", "md5"),
        ("null", "none"),
        ("3des", "none"),
    ],
)
def test_impossible_transforms_cannot_be_made(encryption: str, integrity: str) -> None:
    """An AEAD with an integrity algorithm, CBC without one, unknown names: refused
    where the typed transforms are made, so no SA can be installed with them."""
    with pytest.raises((ValueError, UnsupportedAlgorithm)):
        EspTransforms.named(encryption, integrity)


def test_install_refuses_duplicates_and_wrong_key_sizes(make_keys: Keys) -> None:
    table = SaTable()
    keys = make_keys("aes-gcm-128", "none")

    def install(child_sa_id: int, spi_in: int, encryption: str = "aes-gcm-128") -> None:
        table.install(
            child_sa_id,
            spi_in,
            99,
            transforms=EspTransforms.named(encryption, "none"),
            keys=keys,
            initiator=True,
            local_ts=["0.0.0.0/0"],
            remote_ts=["0.0.0.0/0"],
            now=0.0,
        )

    install(1, 10)
    with pytest.raises(EspConfigError, match="already installed"):
        install(1, 11)
    with pytest.raises(EspConfigError, match="already in use"):
        install(2, 10)
    with pytest.raises(EspConfigError, match="key material"):
        install(3, 12, "aes-gcm-256")
    assert len(table) == 1 and 1 in table


def test_a_staged_pair_only_receives_and_install_completes_or_replaces_it(
    make_keys: Keys, ipv4: Builder
) -> None:
    keys = make_keys("aes-cbc-128", "sha384")

    def event(child_sa_id: int, spi_in: int, spi_out: int, initiator: bool) -> ChildSaInstalled:
        return child_event(keys, child_sa_id, spi_in, spi_out, initiator)

    initiator, responder = SaTable(), SaTable()
    initiator.install_event(event(1, 0xA, 0xB, True))
    staged = responder.stage(event(2, 0xB, 0xA, False))
    packet = ipv4("10.1.2.3", "10.2.3.4", b"early")
    assert responder.inbound(send(initiator, packet, 11.0), 11.0) == (packet, 2)
    assert responder.outbound(ipv4("10.2.3.4", "10.1.2.3"), 11.0) is None
    assert len(responder) == 0 and 2 not in responder and responder.staged_before(10.5) == [2]
    with pytest.raises(EspConfigError, match="already installed"):
        responder.stage(event(2, 0xC, 0xA, False))
    assert responder.install_event(event(2, 0xB, 0xA, False)) is staged
    assert responder.counters(2).packets_in == 1 and responder.staged_before(19.0) == []
    # a stage whose QM3 installs other SPIs is replaced, its SPI freed
    responder.stage(event(3, 0xD, 0xE, False))
    responder.install_event(event(3, 0xF, 0xE, False))
    assert responder.inbound(b"\x00\x00\x00\x0d" + bytes(40), 11.0) == Drop(
        DropReason.UNKNOWN_SPI, spi=0xD
    )
    responder.stage(event(4, 0x10, 0xE, False))
    assert responder.remove(4) is not None and responder.remove(4) is None


def test_flow_cache_stays_bounded_and_correct(
    make_link: Link, ipv4: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "FLOW_CACHE_SIZE", 8)
    left, right = make_link()
    for n in range(40):
        there = ipv4(f"10.1.0.{n}", f"10.2.{n}.1", b"flow")
        assert right.inbound(send(left, there), 0.0) == (there, RIGHT)
        assert left.outbound(ipv4(f"10.1.0.{n}", f"10.3.{n}.1"), 0.0) is None
        assert len(left._flows) <= 8


def test_lookup_outbound_names_the_sa_outbound_would_use(
    make_link: Link, ipv4: Builder, ipv6: Builder
) -> None:
    left, _ = make_link()
    pair = left.get(LEFT)
    assert pair is not None
    assert left.lookup_outbound(ipv4("10.1.0.1", "10.2.0.1")) is pair.outbound
    assert left.lookup_outbound(ipv6("2001:db8:1::1", "2001:db8:2::1")) is pair.outbound
    assert left.lookup_outbound(ipv4("10.1.0.1", "10.3.0.1")) is None
    assert left.lookup_outbound(b"junk") is None
