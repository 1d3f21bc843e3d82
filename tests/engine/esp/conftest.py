"""Fixtures for the ESP tests: inner packets, keys, and two gateways' SA tables.

Tests import nothing from here (the top-level conftest owns that module name); they take
these fixtures. `make_link` returns (left, right): `left` initiated child SA 1, `right`
responded with child SA 2, selectors 10.1/16 + 2001:db8:1::/48 (left) and
10.2/16 + 2001:db8:2::/48 (right).
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections.abc import Callable

import pytest

from engine.crypto import encryption_named, integrity_named
from engine.crypto.keys import ChildKeys
from engine.esp import SaTable
from engine.events import EspTransforms

LEFT_NETS = ("10.1.0.0/16", "2001:db8:1::/48")
RIGHT_NETS = ("10.2.0.0/16", "2001:db8:2::/48")
SPI_LEFT_IN = 0x1000_0001
SPI_RIGHT_IN = 0x2000_0002


def build_ipv4(src: str, dst: str, payload: bytes = b"", proto: int = 17) -> bytes:
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        0x1234,
        0,
        64,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + payload


def build_ipv6(src: str, dst: str, payload: bytes = b"", proto: int = 17) -> bytes:
    header = struct.pack(">IHBB", 6 << 28, len(payload), proto, 64)
    src_b, dst_b = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return header + src_b + dst_b + payload


def child_keys(encryption: str, integrity: str, seed: int = 4303) -> ChildKeys:
    """Distinct random keys for both directions, sized for the algorithms."""
    rng = random.Random(seed)
    encr, integ = encryption_named(encryption), integrity_named(integrity)
    e, a = encr.key_material_size, integ.key_size if integ else 0
    return ChildKeys(rng.randbytes(e), rng.randbytes(a), rng.randbytes(e), rng.randbytes(a))


def link(
    encryption: str = "aes-gcm-256",
    integrity: str = "none",
    *,
    esn: bool = False,
    replay_window: int = 64,
    lifetime_s: float | None = None,
    lifetime_kb: int | None = None,
    soft_fraction: float = 0.9,
    now: float = 0.0,
) -> tuple[SaTable, SaTable]:
    keys = child_keys(encryption, integrity)
    rng = random.Random(7)
    left = SaTable(rng.randbytes, replay_window, soft_fraction)
    right = SaTable(rng.randbytes, replay_window, soft_fraction)
    for table, child_sa_id, spi_in, spi_out, initiator, local, remote in (
        (left, 1, SPI_LEFT_IN, SPI_RIGHT_IN, True, LEFT_NETS, RIGHT_NETS),
        (right, 2, SPI_RIGHT_IN, SPI_LEFT_IN, False, RIGHT_NETS, LEFT_NETS),
    ):
        table.install(
            child_sa_id,
            spi_in,
            spi_out,
            transforms=EspTransforms.named(encryption, integrity, esn),
            keys=keys,
            initiator=initiator,
            local_ts=local,
            remote_ts=remote,
            now=now,
            lifetime_s=lifetime_s,
            lifetime_kb=lifetime_kb,
        )
    return left, right


@pytest.fixture
def ipv4() -> Callable[..., bytes]:
    return build_ipv4


@pytest.fixture
def ipv6() -> Callable[..., bytes]:
    return build_ipv6


@pytest.fixture
def make_keys() -> Callable[..., ChildKeys]:
    return child_keys


@pytest.fixture
def make_link() -> Callable[..., tuple[SaTable, SaTable]]:
    return link
