"""ESP encapsulation + decapsulation per second, 1400-byte inner packets, one core.

Two in-process SA tables keyed alike (as two gateways would be): each round sends one
packet through the sender's outbound policy lookup and ESP encapsulation, then the
receiver's SPI lookup, anti-replay check, ICV check, decryption, padding and selector
checks. No sockets. The reference, measured in the same run, is the bare AEAD work
per packet: AESGCM.encrypt + decrypt of 1400 bytes with one reused AESGCM object, so
`ratio` is the share of the ceiling the Python ESP path reaches.

    python bench/esp.py [--packets N] [--sas N]

The last line reads `esp_gcm_pps=N esp_cbc_pps=M raw_gcm_pps=R ratio=N/R`, where N and M
are packets per second through encap + decap with aes-gcm-256 and aes-cbc-256 +
hmac-sha2-256-128.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.crypto import encryption_named, integrity_named
from engine.crypto.keys import ChildKeys
from engine.esp import SaTable
from engine.events import EspTransforms

PACKET_SIZE = 1400
REPEATS = 3


def ipv4(src: str, dst: str, size: int) -> bytes:
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        size,
        1,
        0,
        64,
        17,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + os.urandom(size - len(header))


def tables(encryption: str, integrity: str) -> tuple[SaTable, SaTable]:
    encr, integ = encryption_named(encryption), integrity_named(integrity)
    e, a = encr.key_material_size, integ.key_size if integ else 0
    keys = ChildKeys(os.urandom(e), os.urandom(a), os.urandom(e), os.urandom(a))
    left, right = SaTable(replay_window=1024), SaTable(replay_window=1024)
    for table, child, spi_in, spi_out, initiator, local, remote in (
        (left, 1, 0x1001, 0x2002, True, "10.1.0.0/16", "10.2.0.0/16"),
        (right, 2, 0x2002, 0x1001, False, "10.2.0.0/16", "10.1.0.0/16"),
    ):
        table.install(
            child,
            spi_in,
            spi_out,
            transforms=EspTransforms.named(encryption, integrity),
            keys=keys,
            initiator=initiator,
            local_ts=[local],
            remote_ts=[remote],
            now=0.0,
        )
    return left, right


def best_rate(run: Callable[[int], None], count: int) -> float:
    """Operations per second, best of REPEATS runs (least disturbed by the machine)."""
    best = 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        run(count)
        best = max(best, count / (time.perf_counter() - start))
    return best


def esp_round_trip(encryption: str, integrity: str, count: int) -> tuple[float, float, float]:
    """(round trips/s, encapsulations/s, decapsulations/s) for one algorithm."""
    left, right = tables(encryption, integrity)
    packet = ipv4("10.1.0.1", "10.2.0.1", PACKET_SIZE)

    def round_trip(n: int) -> None:
        outbound, inbound = left.outbound, right.inbound
        for _ in range(n):
            esp, _child = outbound(packet, 1.0)  # type: ignore[misc]
            inbound(esp, 1.0)

    rate = best_rate(round_trip, count)
    assert right.drop_counts() == {}, right.drop_counts()
    # encapsulation and decapsulation apart, in batches that stay in the CPU caches and
    # inside the receiver's 1024-packet anti-replay window
    batch = 512
    encap_rate = decap_rate = 0.0
    outbound, inbound = left.outbound, right.inbound
    for _ in range(REPEATS):
        encap_time = decap_time = 0.0
        for _ in range(max(1, count // batch)):
            start = time.perf_counter()
            sent = [outbound(packet, 1.0)[0] for _ in range(batch)]  # type: ignore[index]
            middle = time.perf_counter()
            for esp in sent:
                inbound(esp, 1.0)
            encap_time += middle - start
            decap_time += time.perf_counter() - middle
        done = max(1, count // batch) * batch
        encap_rate = max(encap_rate, done / encap_time)
        decap_rate = max(decap_rate, done / decap_time)
    assert right.drop_counts() == {}, right.drop_counts()
    return rate, encap_rate, decap_rate


def raw_gcm(count: int) -> float:
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    aad = os.urandom(8)
    data = os.urandom(PACKET_SIZE)

    def run(n: int) -> None:
        encrypt, decrypt = aead.encrypt, aead.decrypt
        for _ in range(n):
            decrypt(nonce, encrypt(nonce, data, aad), aad)

    return best_rate(run, count)


def lookup_cost(sas: int, count: int) -> float:
    """Microseconds per outbound policy lookup with `sas` remote-access /32 child SAs."""
    table = SaTable()
    keys = ChildKeys(os.urandom(36), b"", os.urandom(36), b"")
    base = int(ipaddress.IPv4Address("10.200.0.0"))
    for child in range(sas):
        table.install(
            child,
            0x10000 + child,
            0x20000 + child,
            transforms=EspTransforms.named("aes-gcm-256", "none"),
            keys=keys,
            initiator=False,
            local_ts=["0.0.0.0/0"],
            remote_ts=[f"{ipaddress.IPv4Address(base + child)}/32"],
            now=0.0,
        )
    table.install(
        sas,
        0x1,
        0x2,
        transforms=EspTransforms.named("aes-gcm-256", "none"),
        keys=keys,
        initiator=False,
        local_ts=["0.0.0.0/0"],
        remote_ts=["10.0.0.0/8"],
        now=0.0,
    )
    packets = [
        ipv4("192.0.2.1", str(ipaddress.IPv4Address(base + i % sas)), 60) for i in range(256)
    ]

    def run(n: int) -> None:
        lookup = table.lookup_outbound  # parsing + index, without the flow cache or crypto
        for i in range(n):
            lookup(packets[i & 255])

    return 1e6 / best_rate(run, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--sas", type=int, default=5000)
    args = parser.parse_args()

    raw = raw_gcm(args.packets)
    gcm, gcm_enc, gcm_dec = esp_round_trip("aes-gcm-256", "none", args.packets)
    cbc, cbc_enc, cbc_dec = esp_round_trip("aes-cbc-256", "sha256", args.packets)
    lookup = lookup_cost(args.sas, args.packets)
    print(f"packet={PACKET_SIZE} B, best of {REPEATS} runs of {args.packets} packets, one core")
    print(f"raw AESGCM encrypt+decrypt (object reused): {1e6 / raw:.2f} us/packet")
    for name, rate, enc, dec in (
        ("aes-gcm-256", gcm, gcm_enc, gcm_dec),
        ("aes-cbc-256+sha256", cbc, cbc_enc, cbc_dec),
    ):
        print(
            f"{name}: encap+decap {1e6 / rate:.2f} us/packet "
            f"(encap {1e6 / enc:.2f} us, decap {1e6 / dec:.2f} us)"
        )
    print(f"outbound policy lookup among {args.sas + 1} SAs: {lookup:.2f} us")
    print(
        f"esp_gcm_pps={gcm:.0f} esp_cbc_pps={cbc:.0f} raw_gcm_pps={raw:.0f} ratio={gcm / raw:.2f}"
    )


if __name__ == "__main__":
    main()
