"""IKEv2 load generator: the project's sans-IO initiator (IkeEngine) on real sockets.

Run inside the generator's namespace by bench/vs_strongswan.py (from the project root):

    python -m bench.ike_load --server 10.97.0.1 --sources 10.97.1.1,10.97.1.2 \
        --count 2000 [--concurrency 64] [--psk SECRET]

It binds UDP 500 and 4500 on every source address, runs `--warmup` handshakes (not
measured), prints one JSON line `{"ready": true, ...}`, waits for a line on stdin, then
runs `count` IKE_SA_INIT + IKE_AUTH
exchanges (one child SA each), `concurrency` in flight, the sources taken in turn.
An SA whose child is installed is forgotten locally (the responder keeps it), so the
generator stays light. It ends with one JSON line: established, failed, wall and CPU
seconds. IKE_SA_INIT for X25519 + AES-GCM-256, ESP AES-GCM-256, PSK, address identities.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import selectors
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.crypto.algorithms import DhId, PrfId
from engine.events import (
    ChildSaInstalled,
    IkeSaAbandoned,
    IkeSaDown,
)
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.engine import IkeEngine
from engine.ike.policy import (
    AES_GCM_256,
    EspProposalPolicy,
    IkeConfig,
    IkeProposalPolicy,
    PeerPolicy,
)
from engine.secret import Secret

IKE_PORT, NATT_PORT = 500, 4500
#: seconds after which an SA that has not got its child is given up (counted as failed)
GIVE_UP = 15.0


def peer_policy(server: str, psk: str, local_net: str, remote_net: str) -> PeerPolicy:
    return PeerPolicy(
        name="responder",
        psk_local=Secret(psk),
        psk_remote=Secret(psk),
        ike_proposals=(
            IkeProposalPolicy("p", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,)),
        ),
        esp_proposals=(EspProposalPolicy("t", (AES_GCM_256,)),),
        local_ts=(ipaddress.ip_network(local_net),),
        remote_ts=(ipaddress.ip_network(remote_net),),
        remote_addresses=(ipaddress.ip_network(f"{server}/32"),),
    )


class Load:
    def __init__(
        self, server: str, sources: list[str], psk: str, local_net: str, remote_net: str
    ) -> None:
        self.server = server
        self.sources = sources
        config = IkeConfig(
            peers=(peer_policy(server, psk, local_net, remote_net),),
            ike_port=IKE_PORT,
            natt_port=NATT_PORT,
        )
        self.engine = IkeEngine(config)
        self.selector = selectors.DefaultSelector()
        self.sockets: dict[tuple[str, int], socket.socket] = {}
        for address in sources:
            for port in (IKE_PORT, NATT_PORT):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.bind((address, port))
                sock.setblocking(False)
                self.sockets[(address, port)] = sock
                self.selector.register(sock, selectors.EVENT_READ, (address, port))
        self.in_flight: dict[int, float] = {}
        self.established = 0
        self.failed = 0
        self.send_errors = 0

    def flush(self) -> None:
        for dgram in self.engine.datagrams_to_send():
            data = dgram.data
            if IKE_PORT not in (dgram.local[1], dgram.remote[1]):
                data = NON_ESP_MARKER + data
            sock = self.sockets.get(dgram.local)
            if sock is None:
                continue
            try:
                sock.sendto(data, dgram.remote)
            except OSError:
                self.send_errors += 1
        for event in self.engine.events():
            if isinstance(event, ChildSaInstalled):
                if self.in_flight.pop(event.ike_sa_id, None) is not None:
                    self.established += 1
                self.forget(event.ike_sa_id)
            elif isinstance(event, IkeSaAbandoned | IkeSaDown):
                if self.in_flight.pop(event.ike_sa_id, None) is not None:
                    self.failed += 1
                self.forget(event.ike_sa_id)

    def forget(self, ike_sa_id: int) -> None:
        sa = self.engine.ike_sa(ike_sa_id)
        if sa is not None:
            self.engine.unregister(sa)

    def run(self, count: int, concurrency: int) -> dict[str, object]:
        self.established = self.failed = self.send_errors = 0
        started = 0
        wall, cpu = time.perf_counter(), time.process_time()
        last_check = time.monotonic()
        while self.established + self.failed < count:
            now = time.monotonic()
            while started < count and len(self.in_flight) < concurrency:
                source = self.sources[started % len(self.sources)]
                sa_id = self.engine.initiate(
                    "responder", (source, IKE_PORT), (self.server, IKE_PORT), now
                )
                self.in_flight[sa_id] = now
                started += 1
            self.flush()
            timer = self.engine.get_timer()
            timeout = 0.2 if timer is None else min(0.2, max(0.0, timer - now))
            for key, _ in self.selector.select(timeout):
                local = key.data
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                while True:
                    try:
                        data, addr = sock.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        continue
                    if local[1] == NATT_PORT:
                        if data[:4] != NON_ESP_MARKER:
                            continue  # ESP or a keepalive: not for us
                        data = data[4:]
                    self.engine.receive_datagram(data, local, (addr[0], addr[1]), time.monotonic())
                    self.flush()
            now = time.monotonic()
            self.engine.handle_timer(now)
            self.flush()
            if now - last_check > 1.0:
                last_check = now
                for sa_id, since in list(self.in_flight.items()):
                    if now - since > GIVE_UP:
                        del self.in_flight[sa_id]
                        self.failed += 1
                        self.forget(sa_id)
        return {
            "established": self.established,
            "failed": self.failed,
            "send_errors": self.send_errors,
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "ike_drops": {str(k): v for k, v in self.engine.drops.items()},
        }

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--sources", required=True, help="comma-separated source addresses")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="handshakes before the ready line (the responder's one-time costs: the first "
        "route, lazy imports), not part of the load",
    )
    parser.add_argument("--psk", default="bench-psk-vs-strongswan")
    parser.add_argument("--local-net", default="10.98.1.0/24")
    parser.add_argument("--remote-net", default="10.98.2.0/24")
    args = parser.parse_args()
    load = Load(args.server, args.sources.split(","), args.psk, args.local_net, args.remote_net)
    warm = load.run(args.warmup, args.concurrency) if args.warmup else {}
    print(json.dumps({"ready": True, "warmup": warm}), flush=True)
    if not sys.stdin.readline():
        return  # the parent went away
    try:
        result = load.run(args.count, args.concurrency)
    finally:
        load.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
