"""The 256 RADIUS Identifiers of one source port: which are free, which exchange each
one in flight belongs to, and what the last exchange of each freed one was.

FIFO reuse: a freed Id goes to the back, so it is reused as late as possible and a late
answer to it is told from an answer to its next exchange (`recent`)."""

from __future__ import annotations

import random
from collections import deque
from typing import Generic, TypeVar

from engine.accounting.servers import ServerConfig

IDS_PER_SOCKET = 256

#: whatever owns an Identifier in flight (an exchange)
T = TypeVar("T")


class IdBook(Generic[T]):
    __slots__ = ("free", "pending", "recent")

    def __init__(self, rng: random.Random, size: int = IDS_PER_SOCKET) -> None:
        ids = list(range(size))
        start = rng.randrange(size)
        self.free: deque[int] = deque(ids[start:] + ids[:start])
        self.pending: dict[int, T] = {}
        #: freed Ids -> the last exchange's authenticator, server and port: tells
        #: duplicates from strays
        self.recent: dict[int, tuple[bytes, ServerConfig, int]] = {}

    def release(
        self, ident: int, owner: T, authenticator: bytes, server: ServerConfig, port: int
    ) -> None:
        """`owner` is done with `ident` (if it still has it)."""
        if self.pending.get(ident) is owner:
            del self.pending[ident]
            self.recent[ident] = (authenticator, server, port)
            self.free.append(ident)
