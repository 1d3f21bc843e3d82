"""A small RADIUS accounting server, for the lab: it answers every well-signed
Accounting-Request and keeps what it received, so the lab's accounting has somewhere
real to go. pyrad parses and signs; the socket is ours."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from dataclasses import dataclass

from pyrad.packet import AccountingResponse, AcctPacket

from engine.accounting.dictionary import load_dictionary
from engine.secret import Secret


@dataclass(frozen=True, slots=True)
class Received:
    source: tuple[str, int]
    attributes: tuple[tuple[str, str], ...]


class Collector(asyncio.DatagramProtocol):
    def __init__(self, secret: Secret, keep: int = 1000) -> None:
        self._secret = secret
        self._dictionary = load_dictionary()
        self.received: deque[Received] = deque(maxlen=keep)
        self.counters: Counter[str] = Counter()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            request = AcctPacket(secret=self._secret.reveal(), dict=self._dictionary, packet=data)
        except Exception:  # pyrad raises several exception types for bad packets
            self.counters["malformed"] += 1
            return
        if not request.VerifyAcctRequest():
            self.counters["bad authenticator"] += 1
            return
        attributes = []
        for key in request.keys():  # noqa: SIM118 - pyrad decodes names in keys() only
            name = key if isinstance(key, str) else str(key)
            for value in request[key]:
                attributes.append((name, str(value)))
        self.received.append(Received((addr[0], addr[1]), tuple(attributes)))
        reply = request.CreateReply()
        reply.code = AccountingResponse
        assert self.transport is not None
        self.transport.sendto(reply.ReplyPacket(), addr)
        self.counters["answered"] += 1

    async def serve(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
