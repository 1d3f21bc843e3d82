"""IKE SA + first child SA establishments per second, responder side, PSK.

The responder is the project's asyncio gateway in its own process; the load
comes from the project's sans-IO initiator in this process over loopback UDP,
with many handshakes in flight. The reference is measured in the same run: the
responder's share of the crypto alone (DH keygen + shared secret, SKEYSEED and
prf+ for the IKE and child keys, two AUTH computations).

    python bench/handshakes.py [--count N] [--concurrency K]

The last line reads `handshakes_per_s=N crypto_bound_per_s=M`, where N is
handshakes per second of responder CPU time (one core) for X25519 + AES-GCM-256.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import multiprocessing as mp
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.crypto import derive_child_keys, derive_ike_keys, dh_group, encryption, prf
from engine.crypto.algorithms import DhId, PrfId
from engine.events import ChildSaInstalled, IkeEvent
from engine.gateway import NON_ESP_MARKER, Gateway
from engine.ike.engine import IkeEngine
from engine.ike.policy import (
    AES_GCM_256,
    EspProposalPolicy,
    IkeConfig,
    IkeProposalPolicy,
    PeerPolicy,
)
from engine.ike.psk_auth import psk_auth
from engine.secret import Secret

NET_I = ipaddress.ip_network("10.100.0.0/16")
NET_R = ipaddress.ip_network("10.200.0.0/16")


def policy(name: str, remote: str, group: int, local_net, remote_net) -> PeerPolicy:
    return PeerPolicy(
        name=name,
        psk_local=Secret("bench-psk"),
        psk_remote=Secret("bench-psk"),
        ike_proposals=(
            IkeProposalPolicy("p", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (group,)),
        ),
        esp_proposals=(EspProposalPolicy("t", (AES_GCM_256,)),),
        local_ts=(local_net,),
        remote_ts=(remote_net,),
        remote_addresses=(ipaddress.ip_network(f"{remote}/32"),),
    )


def responder(group: int, count: int, conn) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        config = IkeConfig(
            peers=(policy("initiators", "127.0.0.1", group, NET_R, NET_I),),
            cookie_threshold=1_000_000,
        )
        gateway = Gateway(config, bind="127.0.0.2", ike_port=0, natt_port=0)
        done = asyncio.Event()
        state = {"n": 0}

        def on_event(event: IkeEvent) -> None:
            if isinstance(event, ChildSaInstalled):
                state["n"] += 1
                if state["n"] == count:
                    done.set()

        gateway.subscribe(on_event)
        await gateway.start()
        conn.send(gateway.ike_port)
        conn.recv()  # go
        wall, cpu = time.perf_counter(), time.process_time()
        await done.wait()
        conn.send((time.perf_counter() - wall, time.process_time() - cpu))
        await gateway.stop(graceful=False)

    asyncio.run(main())


def run_initiator(port: int, group: int, count: int, concurrency: int) -> float:
    config = IkeConfig(peers=(policy("bench", "127.0.0.2", group, NET_I, NET_R),))
    engine = IkeEngine(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.settimeout(0.2)
    local = ("127.0.0.1", sock.getsockname()[1])
    remote = ("127.0.0.2", port)
    started = established = 0
    start = time.perf_counter()

    def flush() -> None:
        for dgram in engine.datagrams_to_send():
            sock.sendto(NON_ESP_MARKER + dgram.data, dgram.remote)

    while established < count:
        while started < count and started - established < concurrency:
            engine.initiate("bench", local, remote, time.monotonic())
            started += 1
        flush()
        try:
            data, addr = sock.recvfrom(65535)
        except TimeoutError:
            engine.handle_timer(time.monotonic())
            flush()
            continue
        engine.receive_datagram(data[4:], local, (addr[0], addr[1]), time.monotonic())
        for event in engine.events():
            if isinstance(event, ChildSaInstalled):
                established += 1
                # forget it locally so the initiator stays light
                sa = engine.ike_sa(event.ike_sa_id)
                if sa is not None:
                    engine.unregister(sa)
        flush()
    sock.close()
    return time.perf_counter() - start


def measure(group: int, count: int, concurrency: int) -> tuple[float, float]:
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=responder, args=(group, count, theirs), daemon=True)
    proc.start()
    port = ours.recv()
    ours.send("go")
    wall = run_initiator(port, group, count, concurrency)
    _, r_cpu = ours.recv()
    proc.join(10)
    print(
        f"group {group}: {count} handshakes in {wall:.2f} s wall "
        f"({count / wall:.0f}/s wall), responder CPU {r_cpu:.2f} s "
        f"({count / r_cpu:.0f}/s per responder core)"
    )
    return count / r_cpu, count / wall


def crypto_bound(group: int, rounds: int = 2000) -> float:
    """Responder crypto alone per handshake: DH, SKEYSEED + prf+, child KEYMAT, 2 AUTHs."""
    dh = dh_group(group)
    peer = dh.generate(os.urandom)
    p, e = prf(PrfId.HMAC_SHA2_256), encryption(20, 256)
    ni, nr, spi = os.urandom(32), os.urandom(32), os.urandom(8)
    start = time.perf_counter()
    for _ in range(rounds):
        ours = dh.generate(os.urandom)
        shared = ours.shared_secret(peer.public)
        keys = derive_ike_keys(p, e, None, ni, nr, shared, spi, spi)
        derive_child_keys(p, keys.sk_d, e, None, ni, nr)
        psk_auth(p, b"bench-psk", b"x" * 300, nr, keys.sk_pi, b"\x01\x00\x00\x00abcd")
        psk_auth(p, b"bench-psk", b"x" * 300, ni, keys.sk_pr, b"\x01\x00\x00\x00abcd")
    return rounds / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    modp_rate, _ = measure(DhId.MODP_2048, max(200, args.count // 10), args.concurrency)
    print(
        f"group 14 (MODP-2048): handshakes_per_s={modp_rate:.0f} "
        f"crypto_bound_per_s={crypto_bound(DhId.MODP_2048, 200):.0f}"
    )
    rate, _ = measure(DhId.CURVE25519, args.count, args.concurrency)
    bound = crypto_bound(DhId.CURVE25519)
    print(f"ratio handshakes/crypto_bound = {rate / bound:.3f}")
    print(f"handshakes_per_s={rate:.0f} crypto_bound_per_s={bound:.0f}")


if __name__ == "__main__":
    main()
