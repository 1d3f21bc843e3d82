"""pyroute2 from anywhere, including inside a running asyncio loop.

pyroute2's synchronous IPRoute drives an asyncio loop of its own, which fails when
called from a coroutine or an event callback; netlink work here is rare (an SA comes
or goes, a config is loaded) and quick, so it runs on a dedicated worker thread and
the caller waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pyroute2 import IPRoute

T = TypeVar("T")
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netlink")


def netlink(operation: Callable[[IPRoute], T]) -> T:
    """Run `operation(ipr)` with a fresh IPRoute on the netlink thread; re-raise its errors."""

    def run() -> T:
        with IPRoute() as ipr:
            return operation(ipr)

    return _worker.submit(run).result()
