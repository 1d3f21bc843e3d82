"""Every drop reason: counted per SA and per table, returned, never raised."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.crypto.keys import ChildKeys
from engine.esp import Drop, DropReason, SaTable

Builder = Callable[..., bytes]
Link = Callable[..., tuple[SaTable, SaTable]]
Keys = Callable[..., ChildKeys]
LEFT, RIGHT = 1, 2
#: the right gateway's inbound SPI in `make_link`: the left sends with the `_i` keys
RIGHT_SPI = 0x2000_0002


def seal_gcm(key_salt: bytes, spi: int, seq: int, plaintext: bytes) -> bytes:
    """An AES-GCM ESP packet written out from RFC 4106 (IV = 8 bytes of 0x42)."""
    header = struct.pack(">II", spi, seq)
    iv = b"\x42" * 8
    return header + iv + AESGCM(key_salt[:-4]).encrypt(key_salt[-4:] + iv, plaintext, header)


def seal_cbc(
    encr_key: bytes, integ_key: bytes, digest: str, spi: int, seq: int, plaintext: bytes
) -> bytes:
    """An AES-CBC + HMAC ESP packet written out from RFC 3602 / RFC 4868."""
    iv = b"\x24" * 16
    encryptor = Cipher(algorithms.AES(encr_key), modes.CBC(iv)).encryptor()
    body = struct.pack(">II", spi, seq) + iv + encryptor.update(plaintext) + encryptor.finalize()
    icv_size = hashlib.new(digest).digest_size // 2
    return body + hmac.digest(integ_key, body, digest)[:icv_size]


@pytest.mark.parametrize(
    ("encryption", "integrity"),
    [
        ("aes-gcm-128", "none"),
        ("chacha20-poly1305", "none"),
        ("aes-cbc-256", "sha256"),
        ("aes-cbc-128", "sha512"),
    ],
)
def test_tampering_anywhere_is_an_integrity_drop(
    make_link: Link, ipv4: Builder, encryption: str, integrity: str
) -> None:
    left, right = make_link(encryption, integrity)
    result = left.outbound(ipv4("10.1.0.1", "10.2.0.1", b"payload" * 5), 0.0)
    assert isinstance(result, tuple)
    esp = result[0]
    positions = (5, 9, 20, len(esp) // 2, len(esp) - 17, len(esp) - 1)
    for position in positions:
        forged = bytearray(esp)
        forged[position] ^= 0x01
        assert right.inbound(bytes(forged), 0.0) == Drop(DropReason.INTEGRITY, RIGHT, RIGHT_SPI)
    assert right.counters(RIGHT).drops_in == len(positions)
    pair = right.get(RIGHT)
    assert pair is not None and pair.inbound.replay.highest == 0
    assert isinstance(right.inbound(esp, 0.0), tuple)  # the genuine one still passes


@pytest.mark.parametrize(
    "trailer",
    [
        b"\x01\x03\x02\x04",  # pad bytes not 1, 2
        b"\x00\x00\x02\x04",  # zero padding
        b"\x01\x02\x03\x04",  # pad length 3: reads 0x01, 0x02 and an inner byte
        b"\x01\x02\xf0\x04",  # pad length beyond the payload
    ],
    ids=["wrong-bytes", "zeros", "too-long", "beyond-payload"],
)
def test_gcm_bad_padding_with_a_valid_icv(
    make_link: Link, make_keys: Keys, ipv4: Builder, trailer: bytes
) -> None:
    _, right = make_link("aes-gcm-256", "none")
    keys = make_keys("aes-gcm-256", "none")
    inner = ipv4("10.1.0.1", "10.2.0.1", b"abcd")
    esp = seal_gcm(keys.encr_i, RIGHT_SPI, 9, inner + trailer)
    assert right.inbound(esp, 0.0) == Drop(DropReason.BAD_PADDING, RIGHT, RIGHT_SPI)
    pair = right.get(RIGHT)
    assert pair is not None
    assert pair.inbound.replay.highest == 9  # authentic: its number is used up
    assert pair.inbound.drops == {DropReason.BAD_PADDING: 1}
    # the control: the same packet with correct padding passes
    good = seal_gcm(keys.encr_i, RIGHT_SPI, 10, inner + b"\x01\x02\x02\x04")
    assert right.inbound(good, 0.0) == (inner, RIGHT)


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_cbc_bad_padding_with_a_valid_icv(
    make_link: Link, make_keys: Keys, ipv4: Builder, digest: str
) -> None:
    _, right = make_link("aes-cbc-128", digest)
    keys = make_keys("aes-cbc-128", digest)
    inner = ipv4("10.1.0.1", "10.2.0.1", b"0123456789")  # 30 bytes: 30 + 2 = 32
    bad = seal_cbc(keys.encr_i, keys.integ_i, digest, RIGHT_SPI, 1, inner + b"\x07\x04")
    assert right.inbound(bad, 0.0) == Drop(DropReason.BAD_PADDING, RIGHT, RIGHT_SPI)
    wrong_bytes = seal_cbc(
        keys.encr_i, keys.integ_i, digest, RIGHT_SPI, 2, inner + bytes(16) + b"\x0e\x04"
    )
    assert right.inbound(wrong_bytes, 0.0) == Drop(DropReason.BAD_PADDING, RIGHT, RIGHT_SPI)
    good = seal_cbc(
        keys.encr_i, keys.integ_i, digest, RIGHT_SPI, 3, inner + bytes(range(1, 17)) + b"\x10\x04"
    )
    assert right.inbound(good, 0.0) == (inner, RIGHT)
    assert right.drop_counts() == {DropReason.BAD_PADDING: 2}


def test_unknown_spi_is_counted_globally(make_link: Link, ipv4: Builder) -> None:
    left, right = make_link()
    result = left.outbound(ipv4("10.1.0.1", "10.2.0.1"), 0.0)
    assert isinstance(result, tuple)
    stray = (0xDEADBEEF).to_bytes(4, "big") + result[0][4:]
    assert right.inbound(stray, 0.0) == Drop(DropReason.UNKNOWN_SPI, None, 0xDEADBEEF)
    assert right.drop_counts() == {DropReason.UNKNOWN_SPI: 1}
    assert right.counters(RIGHT).drops_in == 0


@pytest.mark.parametrize(
    ("encryption", "integrity"), [("aes-gcm-256", "none"), ("aes-cbc-256", "sha256")]
)
def test_malformed_lengths(make_link: Link, ipv4: Builder, encryption: str, integrity: str) -> None:
    left, right = make_link(encryption, integrity)
    result = left.outbound(ipv4("10.1.0.1", "10.2.0.1", b"x" * 40), 0.0)
    assert isinstance(result, tuple)
    esp = result[0]
    assert right.inbound(esp[:7], 0.0) == Drop(DropReason.MALFORMED)
    assert right.inbound(esp[:20], 0.0) == Drop(DropReason.MALFORMED, RIGHT, RIGHT_SPI)
    cut = right.inbound(esp[:-1], 0.0)  # CBC: not whole blocks; GCM: tag check fails
    assert isinstance(cut, Drop)
    assert cut.reason == (DropReason.MALFORMED if integrity != "none" else DropReason.INTEGRITY)
    assert right.inbound(esp, 0.0) == (ipv4("10.1.0.1", "10.2.0.1", b"x" * 40), RIGHT)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("10.9.0.1", "10.2.0.1"),  # source outside the peer's selectors
        ("10.1.0.1", "10.9.0.1"),  # destination outside ours
        ("2001:db8:9::1", "2001:db8:2::1"),
        ("2001:db8:1::1", "2001:db8:9::1"),
    ],
)
def test_inner_packet_outside_the_selectors(
    make_link: Link, ipv4: Builder, ipv6: Builder, src: str, dst: str
) -> None:
    left, right = make_link()
    pair = left.get(LEFT)
    assert pair is not None
    inner = ipv6(src, dst) if ":" in src else ipv4(src, dst)
    esp = pair.outbound.encapsulate(inner, 0.0)  # bypasses the outbound policy lookup
    assert isinstance(esp, bytes)
    assert right.inbound(esp, 0.0) == Drop(DropReason.OUTSIDE_SELECTORS, RIGHT, RIGHT_SPI)
    assert right.counters(RIGHT).packets_in == 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x60" + bytes(39) + b"\x00\x04", DropReason.MALFORMED),  # IPv6 inside, said IPv4
        (b"\x45" + bytes(10) + b"\x01\x01\x04", DropReason.MALFORMED),  # IPv4 header cut short
        (b"\x45" + bytes(19) + b"\x00\x29", DropReason.MALFORMED),  # IPv4 inside, said IPv6
        (b"\x45" + bytes(19) + b"\x00\x11", DropReason.MALFORMED),  # transport mode UDP
        (b"\x01\x02\x02\x3b", DropReason.DUMMY),  # next header 59: a TFC dummy packet
    ],
    ids=["v6-as-v4", "short-v4", "v4-as-v6", "transport-udp", "dummy"],
)
def test_decrypted_payload_that_is_no_tunnelled_ip_packet(
    make_link: Link, make_keys: Keys, payload: bytes, reason: DropReason
) -> None:
    _, right = make_link("aes-gcm-256", "none")
    keys = make_keys("aes-gcm-256", "none")
    esp = seal_gcm(keys.encr_i, RIGHT_SPI, 1, payload)
    assert right.inbound(esp, 0.0) == Drop(reason, RIGHT, RIGHT_SPI)
    assert right.drop_counts() == {reason: 1}


def test_outbound_drops_count_as_drops_out(make_link: Link) -> None:
    left, _ = make_link()
    pair = left.get(LEFT)
    assert pair is not None
    assert pair.outbound.encapsulate(b"\x70" + bytes(30), 0.0) == DropReason.MALFORMED
    assert pair.outbound.encapsulate(b"", 0.0) == DropReason.MALFORMED
    assert left.counters(LEFT).drops_out == 2
    assert pair.outbound.seq == 0  # no sequence number was spent
