"""Helpers for tests that run real gateways on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable


def free_port(addresses: tuple[str, ...] = ("127.0.0.1", "127.0.0.2")) -> int:
    """A UDP port free on every one of `addresses` (gateways there share port numbers)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        free = True
        for address in addresses[1:]:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                try:
                    other.bind((address, port))
                except OSError:
                    free = False
        if free:
            return port


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll until `condition()` is true; fail the test after `timeout` seconds."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)
