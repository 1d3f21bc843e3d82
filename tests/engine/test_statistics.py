"""Visible drops: bad IKE, unknown-SPI ESP and the kernel's own receive-queue drops reach
`show crypto ikev2 stats`, `show crypto engine drops`, their JSON and the store."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
from pathlib import Path

from netutil import free_port, until
from site_configs import SITE_B

from engine.control_socket import request
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.errors import IkeDrop
from engine.service import VpnService
from engine.statistics import EngineStatistics, kernel_socket_stats, show_engine_drops
from engine.store import STATS


async def hostile_traffic(service: VpnService) -> None:
    """Garbage IKE on both ports, an IKE header for an SA that does not exist, and ESP
    in UDP for SPIs nobody installed."""
    gateway = service.gateway
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.bind(("127.0.0.1", 0))
        bad_length = bytes(range(1, 9)) + bytes(8) + bytes([33, 0x20, 34, 0x08]) + bytes(4)
        for _ in range(5):
            junk = bad_length + struct.pack(">I", 999) + bytes(12)
            sender.sendto(NON_ESP_MARKER + junk, ("127.0.0.2", gateway.ike_port))
        header = bytes(range(1, 9)) + bytes(range(9, 17)) + bytes([33, 0x20, 37, 0x08])
        unknown = header + struct.pack(">II", 1, 28)
        for _ in range(3):
            sender.sendto(NON_ESP_MARKER + unknown, ("127.0.0.2", gateway.natt_port))
        for spi in range(1000, 1007):
            sender.sendto(struct.pack(">II", spi, 1) + bytes(40), ("127.0.0.2", gateway.natt_port))
    await until(lambda: sum(gateway.engine.drops.values()) >= 8)
    await until(lambda: service.statistics().esp_dropped >= 7)


async def test_drops_by_reason_in_show_commands_json_and_store(tmp_path: Path) -> None:
    path = tmp_path / "gateway.conf"
    path.write_text(SITE_B.format(key="shared-key-1"))
    control = tmp_path / "gw.sock"
    service = VpnService(
        path,
        bind="127.0.0.2",
        ike_port=free_port(),
        natt_port=free_port(),
        dataplane="echo",
        esp_over_ip=False,
        control_path=control,
        serve_control=True,
    )
    await service.start()
    try:
        await hostile_traffic(service)
        stats = service.statistics()
        assert stats.ike_drops[IkeDrop.MALFORMED] == 5
        assert stats.ike_drops[IkeDrop.UNKNOWN_SPI] == 3
        assert stats.esp_drops["unknown spi"] == 7
        names = {s.name for s in stats.sockets}
        assert {f"udp/{service.gateway.ike_port}", f"udp/{service.gateway.natt_port}"} <= names
        assert all(s.kernel_drops is not None for s in stats.sockets if s.name.startswith("udp"))

        text = await asyncio.to_thread(request, control, {"cmd": "show-engine-drops"})
        assert "IKE: 8" in text["text"] and "unknown IKE SPI" in text["text"]
        assert "ESP: 7" in text["text"] and "unknown spi" in text["text"]
        assert text["stats"]["ike_drops"]["malformed"] == 5
        ikev2 = await asyncio.to_thread(request, control, {"cmd": "show-ikev2-stats"})
        assert "IKE datagrams dropped: 8" in ikev2["text"]

        cli = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli",
            "show",
            "cry",
            "eng",
            "drops",
            "--json",
            "--control",
            str(control),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await cli.communicate()
        assert cli.returncode == 0, err
        assert json.loads(out)["esp_drops"]["unknown spi"] == 7

        service.publish_statistics()
        record = service.store.get(STATS, "engine")
        assert isinstance(record, EngineStatistics) and record.ike_dropped == 8
    finally:
        await service.stop()


def test_kernel_receive_queue_drops_are_read_for_our_socket() -> None:
    """Fill a small receive buffer without reading it: the kernel's drops show up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        receiver.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for _ in range(200):
                sender.sendto(bytes(1000), receiver.getsockname())
        (stats,) = kernel_socket_stats([("udp/test", receiver)])
        assert stats.kernel_drops is not None and stats.kernel_drops > 0
        assert stats.receive_queue is not None and stats.receive_queue > 0


def test_show_engine_drops_lists_every_area() -> None:
    stats = EngineStatistics(
        at=0.0,
        ike_sas=2,
        half_open=1,
        cookie_threshold=1000,
        ike_drops={"malformed": 176_012},
        esp_drops={"unknown spi": 11_024},
        transport={"socket errors": 2, "datagrams in": 10},
    )
    text = show_engine_drops(stats)
    assert "IKE: 176,012" in text and "malformed" in text
    assert "ESP: 11,024" in text
    assert "socket errors" in text and "datagrams in" not in text
    assert "Kernel receive queue" in text


def test_kernel_counts_come_from_the_socket_itself(tmp_path: Path) -> None:
    """SO_MEMINFO answers for each socket: no /proc/net table (which lists every UDP
    socket of the host) is read, so a missing one changes nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        receiver.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for _ in range(200):
                sender.sendto(bytes(1000), receiver.getsockname())
        (stats,) = kernel_socket_stats([("udp/test", receiver)], tmp_path / "no-proc")
        assert stats.kernel_drops is not None and stats.kernel_drops > 0
        assert stats.receive_queue is not None and stats.receive_queue > 0
