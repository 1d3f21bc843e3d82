"""ESP straight over IP (protocol 50) for peers without NAT, on a raw socket.

Needs CAP_NET_RAW. The kernel here has no ESP transform, so it hands every protocol-50
packet to raw sockets untouched; we send with the kernel building the IP header.
Without the privilege the gateway forces UDP encapsulation instead (RFC 3948).
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable

from engine.events import Address
from engine.sockbuf import set_receive_buffer

IPPROTO_ESP = 50
RECV_BATCH = 256
#: the receive buffer asked of the kernel (as for the gateway's UDP sockets)
SOCKET_BUFFER = 4 << 20


def raw_esp_available() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ESP).close()
    except OSError:
        return False
    return True


class RawEsp:
    def __init__(
        self,
        bind: str,
        on_packet: Callable[[bytes, Address, Address, float], None],
        counters: Counter[str],
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ESP)
        self.sock.setblocking(False)
        # the default (rmem_default, ~90 full-size packets) overflows whenever the loop
        # is busy for a few milliseconds at 100 Mbit/s (the kernel counts it as an
        # unknown protocol); the UDP sockets ask as much
        set_receive_buffer(self.sock, SOCKET_BUFFER)
        if bind not in ("0.0.0.0", ""):
            self.sock.bind((bind, 0))
        self._on_packet = on_packet
        self._counters = counters
        self._loop: asyncio.AbstractEventLoop | None = None
        #: our address as it sits in a received packet's header -> (text, 0)
        self._locals: dict[bytes, Address] = {}

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        recvfrom, on_packet, locals_ = self.sock.recvfrom, self._on_packet, self._locals
        assert self._loop is not None
        now = self._loop.time()  # once per wake-up: the batch arrived together
        for _ in range(RECV_BATCH):
            try:
                packet, addr = recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._counters["raw esp errors"] += 1
                continue
            if len(packet) < 20:
                continue
            header_len = (packet[0] & 0x0F) * 4
            destination = packet[16:20]
            local = locals_.get(destination)
            if local is None:
                local = locals_[destination] = (socket.inet_ntoa(destination), 0)
            on_packet(packet[header_len:], local, (addr[0], 0), now)

    def send(self, esp: bytes, remote: Address) -> None:
        try:
            self.sock.sendto(esp, (remote[0], 0))
        except OSError:
            self._counters["raw esp send errors"] += 1

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
