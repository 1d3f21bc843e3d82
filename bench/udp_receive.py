"""How many datagrams per second the event loop takes in: asyncio's datagram transport
(one recvfrom per loop turn) against the gateway's batched reader (`UdpPort`, which
drains the socket on each wake-up). The gateway carries ESP in UDP on these sockets,
so this bounds the data plane's receive rate.

    python bench/udp_receive.py [--seconds S] [--size BYTES]

A sender process blasts datagrams at the receiver for S seconds per method; the last
line reads `asyncio_pps=A batched_pps=B ratio=B/A`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from engine.gateway import UdpPort


def blast(port: int, size: int, seconds: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"\x01" * size
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(64):
            with contextlib.suppress(OSError):
                sock.sendto(payload, ("127.0.0.1", port))


async def receive(method: str, size: int, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    count = 0

    def got(*_: object) -> None:
        nonlocal count
        count += 1

    if method == "asyncio":

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple) -> None:
                got()

        transport, _ = await loop.create_datagram_endpoint(Proto, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", 0))
        endpoint = UdpPort(sock, lambda data, p, addr: got(), Counter())
        loop.add_reader(sock.fileno(), endpoint.readable)
        port = endpoint.port
    sender = mp.get_context("spawn").Process(target=blast, args=(port, size, seconds))
    sender.start()
    await asyncio.sleep(0.3)  # let the sender get going
    start_count, start = count, time.perf_counter()
    await asyncio.sleep(seconds - 0.6)
    rate = (count - start_count) / (time.perf_counter() - start)
    sender.join()
    if method == "asyncio":
        transport.close()
    else:
        loop.remove_reader(sock.fileno())
        sock.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--size", type=int, default=1400)
    args = parser.parse_args()
    a = asyncio.run(receive("asyncio", args.size, args.seconds))
    print(f"asyncio datagram transport: {a:,.0f} datagrams/s")
    b = asyncio.run(receive("batched", args.size, args.seconds))
    print(f"batched reader (UdpPort):   {b:,.0f} datagrams/s")
    print(f"asyncio_pps={a:.0f} batched_pps={b:.0f} ratio={b / a:.2f}")


if __name__ == "__main__":
    main()
