"""What the gateway dropped or refused, and why: `show crypto ikev2 stats`, `show crypto
engine drops`, their JSON, and the console's drops screen all read one snapshot.

The IKE core, the ESP table, the transport and the kernel each count their own drops;
this gathers them, because an operator under attack or with a broken peer must see that
input is being refused, not only that sessions are fine.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from engine.ike.engine import IkeEngine

#: the kernel's per-socket tables; the last column of each row is the socket's drops
PROC_TABLES = {
    (socket.AF_INET, socket.SOCK_DGRAM): "udp",
    (socket.AF_INET6, socket.SOCK_DGRAM): "udp6",
    (socket.AF_INET, socket.SOCK_RAW): "raw",
    (socket.AF_INET6, socket.SOCK_RAW): "raw6",
}


@dataclass(frozen=True, slots=True)
class SocketStats:
    """One of our sockets as the kernel sees it."""

    name: str
    #: datagrams the kernel dropped because our receive queue was full (None: unknown)
    kernel_drops: int | None
    #: bytes waiting in the receive queue when the snapshot was taken
    receive_queue: int | None


@dataclass(frozen=True, slots=True)
class EngineStatistics:
    at: float
    ike_sas: int
    half_open: int
    cookie_threshold: int
    #: IKE datagrams dropped, by reason
    ike_drops: dict[str, int] = field(default_factory=dict)
    #: other IKE core counts: cookies sent, INVALID_SPI notices, internal errors ...
    ike_events: dict[str, int] = field(default_factory=dict)
    #: ESP packets dropped, by reason (all SAs, removed ones included)
    esp_drops: dict[str, int] = field(default_factory=dict)
    #: the transport's own counts: datagrams in and out, socket errors ...
    transport: dict[str, int] = field(default_factory=dict)
    sockets: tuple[SocketStats, ...] = ()

    @property
    def ike_dropped(self) -> int:
        return sum(self.ike_drops.values())

    @property
    def esp_dropped(self) -> int:
        return sum(self.esp_drops.values())

    @property
    def kernel_dropped(self) -> int:
        return sum(s.kernel_drops or 0 for s in self.sockets)


class StatisticsSource(Protocol):
    """What the snapshot reads: the gateway and, when there is one, the data plane."""

    @property
    def engine(self) -> IkeEngine: ...

    @property
    def counters(self) -> dict[str, int]: ...

    def sockets(self) -> list[tuple[str, socket.socket]]: ...


def collect(
    gateway: StatisticsSource,
    esp_drops: dict[str, int] | None,
    now: float,
    proc_net: Path = Path("/proc/self/net"),
) -> EngineStatistics:
    engine = gateway.engine
    return EngineStatistics(
        at=now,
        ike_sas=engine.sa_count(),
        half_open=engine.half_open_count(),
        cookie_threshold=engine.config.cookie_threshold,
        ike_drops={str(k): v for k, v in sorted(engine.drops.items()) if v},
        ike_events={k: v for k, v in sorted(engine.stats.items()) if v},
        esp_drops={str(k): v for k, v in sorted((esp_drops or {}).items()) if v},
        transport={k: v for k, v in sorted(gateway.counters.items()) if v},
        sockets=kernel_socket_stats(gateway.sockets(), proc_net),
    )


#: getsockopt(SOL_SOCKET, SO_MEMINFO) (Linux 4.6): u32s, SK_MEMINFO_RMEM_ALLOC first and
#: SK_MEMINFO_DROPS ninth (<linux/sock_diag.h>); Python's socket module lacks the name
SO_MEMINFO = 55
_MEMINFO = struct.Struct("=9I")


def _meminfo(sock: socket.socket) -> tuple[int, int] | None:
    """(drops, bytes in the receive queue) from the kernel, or None where unsupported."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, _MEMINFO.size)
    except OSError:
        return None
    if len(raw) < _MEMINFO.size:
        return None
    fields = _MEMINFO.unpack_from(raw)
    return fields[8], fields[0]


def kernel_socket_stats(
    sockets: list[tuple[str, socket.socket]], proc_net: Path = Path("/proc/self/net")
) -> tuple[SocketStats, ...]:
    """Receive-queue drops and bytes waiting per socket: SO_MEMINFO (one getsockopt per
    socket), else /proc/net/{udp,udp6,raw,raw6}, found by inode.

    Not SO_RXQ_OVFL: that option reports the count only as ancillary data on every
    received datagram, which would put recvmsg on the hot path. /proc/net/udp lists every
    UDP socket of the network namespace: with ten thousand of them on the host, reading
    and parsing it each second took a tenth of the gateway's loop.
    """
    found: dict[str, tuple[int, int]] = {}
    wanted: dict[str, dict[int, str]] = {}
    for name, sock in sockets:
        meminfo = _meminfo(sock)
        if meminfo is not None:
            found[name] = meminfo
            continue
        try:
            inode = os.fstat(sock.fileno()).st_ino
        except OSError:
            continue
        table = PROC_TABLES.get((sock.family, sock.type))
        if table is not None:
            wanted.setdefault(table, {})[inode] = name
    for table, inodes in wanted.items():
        try:
            lines = (proc_net / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 13 or not fields[9].isdigit() or int(fields[9]) not in inodes:
                continue
            queues = fields[4].split(":")
            receive_queue = int(queues[1], 16) if len(queues) == 2 else 0
            found[inodes[int(fields[9])]] = (int(fields[-1]), receive_queue)
    return tuple(
        SocketStats(name, *found[name]) if name in found else SocketStats(name, None, None)
        for name, _ in sockets
    )


# ---------------------------------------------------------------------- show commands
def _rows(counts: dict[str, int], indent: str = "  ") -> list[str]:
    if not counts:
        return [f"{indent}none"]
    width = max(len(k) for k in counts)
    return [f"{indent}{k:<{width}}  {v:>12,}" for k, v in counts.items()]


def show_ikev2_stats(stats: EngineStatistics) -> str:
    """`show crypto ikev2 stats`: SA counts, cookie use, drops by reason."""
    events = stats.ike_events
    lines = [
        "Crypto IKEv2 statistics",
        f"  IKE SAs: {stats.ike_sas}, half-open: {stats.half_open} "
        f"(cookie challenge above {stats.cookie_threshold})",
        f"  Cookie challenges sent: {events.get('cookies sent', 0):,}",
        f"  INVALID_SPI notices: sent {events.get('INVALID_SPI notices sent', 0):,}, "
        f"suppressed {events.get('INVALID_SPI notices suppressed', 0):,}",
        f"  Internal errors: {events.get('internal errors', 0):,}",
        f"IKE datagrams dropped: {stats.ike_dropped:,}",
        *_rows(stats.ike_drops),
    ]
    return "\n".join(lines) + "\n"


def show_engine_drops(stats: EngineStatistics) -> str:
    """`show crypto engine drops`: everything refused, IKE, ESP, transport and kernel."""
    transport = {k: v for k, v in stats.transport.items() if not k.startswith("datagrams")}
    lines = [
        "Crypto engine drops",
        f"IKE: {stats.ike_dropped:,}",
        *_rows(stats.ike_drops),
        f"ESP: {stats.esp_dropped:,}",
        *_rows(stats.esp_drops),
        "Transport:",
        *_rows(transport),
        "Kernel receive queue (datagrams dropped, bytes waiting):",
    ]
    for sock in stats.sockets:
        drops = "unknown" if sock.kernel_drops is None else f"{sock.kernel_drops:,}"
        queued = "" if sock.receive_queue is None else f", {sock.receive_queue:,} bytes waiting"
        lines.append(f"  {sock.name}: {drops}{queued}")
    if not stats.sockets:
        lines.append("  none")
    return "\n".join(lines) + "\n"
