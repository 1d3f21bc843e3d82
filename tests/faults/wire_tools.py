"""Hostile traffic for the fault suite, run inside charon's namespace of the strongSwan
topology (`ip netns exec ic-ss-TAG .venv/bin/python tests/faults/wire_tools.py CMD ...`):

    sniff      record every UDP datagram to or from ports 500/4500 on an interface
               (AF_PACKET, both directions) as JSON lines, until SIGTERM
    fuzz       mutate recorded datagrams (bit flips, truncation, extension, byte
               replacement, IKE header fields, payload length fields, SPI swaps, splices)
               and add random blobs, each with or without the non-ESP marker, to both
               ports of the target, as fast as one process can send them
    flood      IKE_SA_INIT requests (built by the project's own initiator) with random
               SPIs and nonces, from several source addresses and many source ports, at
               a target rate, for a duration
    spoof-esp  ESP-in-UDP packets with random SPIs from a forged source address and port
               (a raw socket: the real peer holds that port)

Each sending command prints one JSON object with what it did (counts, elapsed time, rate).
Randomness is seeded (`--seed`) so a failing run can be repeated.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import random
import signal
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

NON_ESP_MARKER = b"\x00\x00\x00\x00"
IKE_PORTS = (500, 4500)
IKE_HEADER = 28


# ---------------------------------------------------------------------- sniff
def sniff(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.bind((args.iface, 0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.out, "a", buffering=1) as out:
        print(json.dumps({"event": "ready"}), flush=True)
        while True:
            frame = sock.recv(65535)
            if frame[12:14] != b"\x08\x00":  # IPv4 only
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[9] != socket.IPPROTO_UDP:
                continue
            ihl = (ip[0] & 0x0F) * 4
            sport, dport, length = struct.unpack("!HHH", ip[ihl : ihl + 6])
            if sport not in IKE_PORTS and dport not in IKE_PORTS:
                continue
            record = {
                "src": socket.inet_ntoa(ip[12:16]),
                "sport": sport,
                "dst": socket.inet_ntoa(ip[16:20]),
                "dport": dport,
                "data": ip[ihl + 8 : ihl + length].hex(),
            }
            out.write(json.dumps(record) + "\n")


# ---------------------------------------------------------------------- corpus
def load_corpus(path: str) -> tuple[list[bytes], list[bytes]]:
    """(IKE messages without any marker, ESP packets) from a `sniff` file."""
    ike: list[bytes] = []
    esp: list[bytes] = []
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        data = bytes.fromhex(record["data"])
        ports = (record["sport"], record["dport"])
        if data == b"\xff" or not data:
            continue  # NAT keepalive
        if 500 in ports:
            ike.append(data[4:] if data[:4] == NON_ESP_MARKER else data)
        elif data[:4] == NON_ESP_MARKER:
            ike.append(data[4:])
        else:
            esp.append(data)
    return ike, esp


class Mutator:
    """Mutations of recorded IKE and ESP datagrams, plus random blobs."""

    def __init__(self, ike: list[bytes], esp: list[bytes], rng: random.Random) -> None:
        if not ike:
            raise SystemExit("the corpus holds no IKE message")
        self.ike = ike
        self.esp = esp
        self.rng = rng
        self.spis = [m[0:8] for m in ike] + [m[8:16] for m in ike]
        self.esp_spis = [p[0:4] for p in esp]
        self.kinds: list[tuple[str, Callable[[bytes], bytes]]] = [
            ("bit flips", self.bit_flips),
            ("truncation", self.truncate),
            ("extension", self.extend),
            ("byte replacement", self.replace_bytes),
            ("header field", self.header_field),
            ("message length", self.message_length),
            ("payload length", self.payload_length),
            ("next payload", self.next_payload),
            ("SPI swap", self.spi_swap),
            ("splice", self.splice),
            ("replay", lambda data: data),
        ]

    def rand(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def bit_flips(self, data: bytes) -> bytes:
        out = bytearray(data)
        for _ in range(self.rng.choice((1, 1, 2, 3, 8))):
            i = self.rng.randrange(len(out))
            out[i] ^= 1 << self.rng.randrange(8)
        return bytes(out)

    def truncate(self, data: bytes) -> bytes:
        return data[: self.rng.randrange(len(data))]

    def extend(self, data: bytes) -> bytes:
        return data + self.rand(self.rng.choice((1, 4, 16, 100, 1000)))

    def replace_bytes(self, data: bytes) -> bytes:
        out = bytearray(data)
        for _ in range(self.rng.randrange(1, 9)):
            out[self.rng.randrange(len(out))] = self.rng.choice((0, 0xFF, self.rng.randrange(256)))
        return bytes(out)

    def header_field(self, data: bytes) -> bytes:
        """Next payload, version, exchange type, flags or message ID of the IKE header."""
        if len(data) < IKE_HEADER:
            return self.replace_bytes(data)
        out = bytearray(data)
        field = self.rng.choice(("next", "version", "exchange", "flags", "message id"))
        if field == "next":
            out[16] = self.rng.randrange(256)
        elif field == "version":
            out[17] = self.rng.choice((0x10, 0x21, 0x30, 0xF0, self.rng.randrange(256)))
        elif field == "exchange":
            out[18] = self.rng.choice((0, 34, 35, 36, 37, 43, 255, self.rng.randrange(256)))
        elif field == "flags":
            out[19] = self.rng.randrange(256)
        else:
            # small IDs hit the window of the live SA (its next or its cached request), so
            # the message gets as far as decryption and the integrity check
            value = self.rng.choice(
                (self.rng.randrange(8),) * 4 + (0x7FFFFFFF, 0xFFFFFFFF, self.rng.getrandbits(32))
            )
            out[20:24] = value.to_bytes(4, "big")
        return bytes(out)

    def message_length(self, data: bytes) -> bytes:
        if len(data) < IKE_HEADER:
            return self.truncate(data) if data else data
        out = bytearray(data)
        n = len(data)
        value = self.rng.choice((0, 1, 27, 28, n - 1, n + 1, n + 1000, 0xFFFFFFFF))
        out[24:28] = (value & 0xFFFFFFFF).to_bytes(4, "big")
        return bytes(out)

    def _payload_offsets(self, data: bytes) -> list[int]:
        offsets, at = [], IKE_HEADER
        next_payload = data[16] if len(data) >= IKE_HEADER else 0
        while next_payload and at + 4 <= len(data) and len(offsets) < 32:
            offsets.append(at)
            next_payload = data[at]
            length = int.from_bytes(data[at + 2 : at + 4], "big")
            if length < 4:
                break
            at += length
        return offsets

    def payload_length(self, data: bytes) -> bytes:
        offsets = self._payload_offsets(data)
        if not offsets:
            return self.message_length(data)
        at = self.rng.choice(offsets)
        out = bytearray(data)
        current = int.from_bytes(data[at + 2 : at + 4], "big")
        value = self.rng.choice((0, 1, 3, 4, 5, current - 1, current + 1, 0xFFFF))
        out[at + 2 : at + 4] = (value & 0xFFFF).to_bytes(2, "big")
        return bytes(out)

    def next_payload(self, data: bytes) -> bytes:
        offsets = self._payload_offsets(data)
        out = bytearray(data)
        if offsets and self.rng.random() < 0.7:
            at = self.rng.choice(offsets)
            out[at] = self.rng.choice((0, 1, 33, 46, 48, 53, 255, self.rng.randrange(256)))
            if self.rng.random() < 0.3:
                out[at + 1] ^= 0x80  # the critical bit
        elif len(out) > 16:
            out[16] = self.rng.choice((0, 33, 46, 255))
        return bytes(out)

    def spi_swap(self, data: bytes) -> bytes:
        out = bytearray(data)
        if len(data) >= IKE_HEADER and self.rng.random() < 0.5:
            choice = self.rng.randrange(4)
            if choice == 0:
                out[0:8], out[8:16] = data[8:16], data[0:8]
            elif choice == 1:
                out[0:8] = self.rng.choice(self.spis)
            elif choice == 2:
                out[8:16] = self.rng.choice((bytes(8), self.rng.choice(self.spis)))
            else:
                out[0:8] = bytes(8)
            return bytes(out)
        spis = self.esp_spis or [self.rand(4)]
        if len(out) >= 8:
            out[0:4] = self.rng.choice(spis)
        return bytes(out)

    def splice(self, data: bytes) -> bytes:
        other = self.rng.choice(self.ike + self.esp)
        cut = self.rng.randrange(len(data) + 1)
        return data[:cut] + other[self.rng.randrange(len(other) + 1) :]

    def random_blob(self) -> bytes:
        size = self.rng.choice((0, 1, 3, 4, 8, 27, 28, 29, 64, 200, 1400, self.rng.randrange(2000)))
        blob = self.rand(size)
        if size >= 28 and self.rng.random() < 0.5:
            # an IKE-looking header: version 2.0, a known exchange, a plausible length
            head = bytearray(blob)
            head[17] = 0x20
            head[18] = self.rng.choice((34, 35, 36, 37))
            head[24:28] = size.to_bytes(4, "big")
            blob = bytes(head)
        return blob

    def one(self) -> tuple[str, bytes]:
        roll = self.rng.random()
        if roll < 0.12:
            return "random blob", self.random_blob()
        pool = self.esp if self.esp and roll < 0.35 else self.ike
        base = self.rng.choice(pool)
        if not base:
            return "random blob", self.random_blob()
        name, mutate = self.rng.choice(self.kinds)
        return name, mutate(base)


def sockets_on(address: str, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sock.bind((address, 0))
        socks.append(sock)
    return socks


def fuzz(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    ike, esp = load_corpus(args.corpus)
    mutator = Mutator(ike, esp, rng)
    ports = [int(p) for p in args.ports.split(",")]
    kinds: Counter[str] = Counter()
    marked = 0
    built: list[tuple[bytes, int]] = []
    for _ in range(args.count):
        kind, data = mutator.one()
        kinds[kind] += 1
        if rng.random() < 0.5:
            data = NON_ESP_MARKER + data
            marked += 1
        built.append((data, rng.choice(ports)))
    socks = sockets_on(args.source, args.sockets)
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    for i, (data, port) in enumerate(built):
        if args.rate and i % 64 == 0:
            ahead = i / args.rate - (time.perf_counter() - started)
            if ahead > 0:
                time.sleep(ahead)
        try:
            socks[i % len(socks)].sendto(data, (args.target, port))
        except OSError as err:
            errors[err.strerror or type(err).__name__] += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "sent": len(built) - sum(errors.values()),
                "built": len(built),
                "with_marker": marked,
                "elapsed": elapsed,
                "rate": len(built) / elapsed,
                "kinds": dict(kinds),
                "errors": dict(errors),
                "corpus": {"ike": len(ike), "esp": len(esp)},
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------- flood
def init_template(target: str) -> tuple[bytes, int, int]:
    """A real IKE_SA_INIT request from the project's initiator, proposing what the gateway
    under test accepts (AES-GCM-256, PRF-SHA256, X25519), and where its nonce sits."""
    from engine.crypto.algorithms import DhId, PrfId
    from engine.ike.engine import IkeEngine
    from engine.ike.policy import (
        AES_GCM_256,
        EspProposalPolicy,
        IkeConfig,
        IkeProposalPolicy,
        PeerPolicy,
    )
    from engine.secret import Secret

    peer = PeerPolicy(
        name="flood",
        psk_local=Secret("flood"),
        psk_remote=Secret("flood"),
        ike_proposals=(
            IkeProposalPolicy("p", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,)),
        ),
        esp_proposals=(EspProposalPolicy("e", (AES_GCM_256,)),),
        local_ts=(ipaddress.ip_network("10.98.1.0/24"),),
        remote_ts=(ipaddress.ip_network("10.98.2.0/24"),),
        remote_addresses=(ipaddress.ip_network(f"{target}/32"),),
    )
    engine = IkeEngine(IkeConfig(peers=(peer,)))
    engine.initiate("flood", ("10.99.0.1", 500), (target, 500), 0.0)
    data = engine.datagrams_to_send()[0].data
    (sa,) = engine.ike_sas()
    offset = data.find(sa.nonce_i)
    assert offset > 0
    return data, offset, len(sa.nonce_i)


def flood(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    template, nonce_at, nonce_len = init_template(args.target)
    socks = [s for source in args.sources.split(",") for s in sockets_on(source, args.ports)]
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    sent = 0
    errors: Counter[str] = Counter()
    batch = 32
    started = time.perf_counter()
    deadline = started + args.duration
    packet = bytearray(template)
    while not stop:
        now = time.perf_counter()
        if now >= deadline:
            break
        ahead = sent / args.rate - (now - started)
        if ahead > 0:
            time.sleep(min(ahead, 0.05))
            continue
        for _ in range(batch):
            packet[0:8] = rng.randbytes(8)
            packet[nonce_at : nonce_at + nonce_len] = rng.randbytes(nonce_len)
            try:
                socks[sent % len(socks)].sendto(packet, (args.target, args.port))
            except OSError as err:
                errors[err.strerror or type(err).__name__] += 1
            sent += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "sent": sent - sum(errors.values()),
                "elapsed": elapsed,
                "rate": sent / elapsed,
                "sockets": len(socks),
                "errors": dict(errors),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------- spoof-esp
def spoof_esp(args: argparse.Namespace) -> None:
    """ESP in UDP (RFC 3948) with random SPIs, from `--source`:`--sport` (a raw socket
    writes the IP header, so the real owner of that port need not give it up)."""
    rng = random.Random(args.seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    src, dst = socket.inet_aton(args.source), socket.inet_aton(args.target)
    packets = []
    for seq in range(1, args.count + 1):
        spi = rng.randrange(256, 1 << 32)
        esp = struct.pack("!II", spi, seq) + rng.randbytes(args.size)
        udp = struct.pack("!HHHH", args.sport, args.dport, 8 + len(esp), 0) + esp
        total = 20 + len(udp)
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, total, rng.randrange(1 << 16), 0x4000, 64, 17, 0, src, dst
        )
        packets.append(ip + udp)
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    for packet in packets:
        try:
            sock.sendto(packet, (args.target, 0))
        except OSError as err:
            errors[err.strerror or type(err).__name__] += 1
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "sent": len(packets) - sum(errors.values()),
                "elapsed": elapsed,
                "rate": len(packets) / elapsed,
                "errors": dict(errors),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------- command line
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sniff")
    p.add_argument("--iface", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("fuzz")
    p.add_argument("--corpus", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--ports", default="500,4500")
    p.add_argument("--count", type=int, default=100_000)
    p.add_argument("--sockets", type=int, default=8)
    p.add_argument("--rate", type=float, default=0, help="datagrams/s (0: as fast as can be)")
    p.add_argument("--seed", type=int, default=7296)
    p = sub.add_parser("flood")
    p.add_argument("--sources", required=True, help="comma-separated source addresses")
    p.add_argument("--ports", type=int, default=16, help="source ports per address")
    p.add_argument("--target", required=True)
    p.add_argument("--port", type=int, default=500)
    p.add_argument("--rate", type=float, required=True, help="datagrams per second")
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--seed", type=int, default=2600)
    p = sub.add_parser("spoof-esp")
    p.add_argument("--source", required=True)
    p.add_argument("--sport", type=int, default=4500)
    p.add_argument("--target", required=True)
    p.add_argument("--dport", type=int, default=4500)
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--size", type=int, default=64, help="ESP bytes after SPI and sequence")
    p.add_argument("--seed", type=int, default=4303)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    with contextlib.suppress(KeyboardInterrupt):
        {"sniff": sniff, "fuzz": fuzz, "flood": flood, "spoof-esp": spoof_esp}[arguments.cmd](
            arguments
        )
