"""Reading server-sent events from an aiohttp response, as an XSM subscriber does."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass
class SseEvent:
    kind: str
    id: int | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseStream:
    """Reads server-sent events from a response; counts keep-alive comments."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.keepalives = 0

    async def next(self, timeout: float = 5.0) -> SseEvent | None:
        """The next event; None when the stream ended."""
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> SseEvent | None:
        kind, event_id, data = "message", None, []
        while True:
            raw = await self.response.content.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if not line:
                if data:
                    return SseEvent(kind, event_id, "\n".join(data))
                continue
            if line.startswith(":"):
                self.keepalives += 1
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                kind = value
            elif name == "id":
                event_id = int(value)
            elif name == "data":
                data.append(value)

    async def ended(self, timeout: float = 5.0) -> bool:
        """Whether the stream ends (cleanly or not) within `timeout`, skipping events."""
        try:
            async with asyncio.timeout(timeout):
                while await self._next() is not None:
                    pass
        except TimeoutError:
            return False
        except aiohttp.ClientError:
            return True
        return True
