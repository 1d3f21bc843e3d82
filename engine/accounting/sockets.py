"""One UDP source port of the RADIUS client and its Identifiers (idbook.py).

Not an asyncio datagram transport: that one reads a single datagram per loop
iteration, so hundreds of answers that arrived together would wait in the kernel for
as many iterations while their timers run. This one reads until the socket is empty
(READ_BATCH at most at a time) and hands each datagram to its owner at once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Callable
from typing import Any

from engine.accounting import idbook

RECEIVE_BUFFER = 1 << 20
#: datagrams read from one socket per readiness callback, before other work gets a turn
READ_BATCH = 256


class RadiusSocket:
    """`received(sock, data, addr)` gets every datagram; `on_error()` every socket error
    (ICMP port unreachable and the like: the timers handle a silent server)."""

    def __init__(
        self,
        family: int,
        sock: socket.socket,
        rng: random.Random,
        received: Callable[[RadiusSocket, bytes, tuple[Any, ...]], None],
        on_error: Callable[[], None],
    ) -> None:
        self.family = family
        self.sock: socket.socket | None = sock
        self.ids: idbook.IdBook[Any] = idbook.IdBook(rng, idbook.IDS_PER_SOCKET)
        self._received = received
        self._on_error = on_error
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    def open(
        cls,
        family: int,
        source: str | None,
        rng: random.Random,
        received: Callable[[RadiusSocket, bytes, tuple[Any, ...]], None],
        on_error: Callable[[], None],
    ) -> RadiusSocket:
        host = source or ("::" if family == socket.AF_INET6 else "0.0.0.0")
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                # up to 256 answers may arrive at once; the kernel caps this at rmem_max
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((host, 0))
            return cls(family, sock, rng, received, on_error)
        except BaseException:
            sock.close()
            raise

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        recvfrom = sock.recvfrom
        received = self._received
        for _ in range(READ_BATCH):
            try:
                data, addr = recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._on_error()
                continue
            received(self, data, addr)
            if self.sock is None:  # closed by what the datagram settled
                return

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.sock is None:
            raise ConnectionError("the RADIUS transport is closed")
        try:
            self.sock.sendto(data, addr)
        except OSError:
            # a full send buffer or an ICMP error: lost like a datagram on the wire,
            # and the timers resend it
            self._on_error()

    def close(self) -> None:
        if self.sock is None:
            return
        if not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        self.sock = None

    @property
    def port(self) -> int:
        assert self.sock is not None
        return int(self.sock.getsockname()[1])
