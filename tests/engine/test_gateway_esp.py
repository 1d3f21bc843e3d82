"""The data plane's way through the gateway's sockets: ESP in UDP goes from the
socket's reader straight to the ESP handler (with the loop's time), IKE and keepalives
do not; an SA's resolved sender delivers to its peer from the NAT-T socket."""

from __future__ import annotations

import asyncio
import socket

from netutil import until

from engine.gateway import Gateway
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.policy import IkeConfig


async def test_esp_in_udp_reaches_the_handler_and_ike_does_not() -> None:
    gw = Gateway(IkeConfig(), bind="127.0.0.1", ike_port=0, natt_port=0)
    await gw.start()
    got: list[tuple[bytes, tuple[str, int], tuple[str, int], float]] = []
    gw.esp_handler = lambda data, local, remote, now: got.append((data, local, remote, now))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    try:
        before = asyncio.get_running_loop().time()
        esp = b"\x00\x00\x10\x01" + bytes(4) + b"\xaa" * 60  # SPI 0x1001, sequence 0
        for data in (esp, b"\xff", NON_ESP_MARKER + b"\x01" * 40, esp[::-1]):
            peer.sendto(data, ("127.0.0.1", gw.natt_port))
        await until(lambda: len(got) == 2 and gw.engine.drops)
        await asyncio.sleep(0.05)
        assert [g[0] for g in got] == [esp, esp[::-1]]
        assert {g[1] for g in got} == {("127.0.0.1", gw.natt_port)}
        assert {g[2] for g in got} == {peer.getsockname()}
        assert all(before <= g[3] <= asyncio.get_running_loop().time() for g in got)
        assert gw.counters["nat keepalives in"] == 1
        assert sum(gw.engine.drops.values()) == 1  # the marked datagram went to IKE
        assert gw.counters["datagrams in"] == 4
    finally:
        peer.close()
        await gw.stop()


async def test_an_sas_sender_delivers_in_order_from_the_natt_socket() -> None:
    gw = Gateway(IkeConfig(), bind="127.0.0.1", ike_port=0, natt_port=0)
    await gw.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(2)
    try:
        send = gw.esp_sender(("127.0.0.1", gw.natt_port), peer.getsockname(), encapsulated=True)
        packets = [n.to_bytes(4, "big") * 50 for n in range(40)]
        for packet in packets:
            send(packet)
        received = []
        for _ in packets:
            data, source = await asyncio.to_thread(peer.recvfrom, 2048)
            received.append(data)
            assert source == ("127.0.0.1", gw.natt_port)
        assert received == packets
        assert gw.counters["datagrams out"] == 40
    finally:
        peer.close()
        await gw.stop()
