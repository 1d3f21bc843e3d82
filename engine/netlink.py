"""pyroute2 from anywhere, including inside a running asyncio loop.

pyroute2's synchronous IPRoute drives an asyncio loop of its own, which fails when
called from a coroutine or an event callback, so netlink work runs on one dedicated
worker thread, in the order it was asked for. `netlink` waits for the result (startup,
shutdown); `netlink_soon` does not, for work on the event loop's hot path (routes as
child SAs come and go), whose failures are reported to a callback.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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


def netlink_soon(
    operation: Callable[[IPRoute], object], on_error: Callable[[BaseException], None]
) -> Future[object]:
    """Queue `operation(ipr)` on the netlink thread and return at once."""

    def run() -> object:
        try:
            with IPRoute() as ipr:
                return operation(ipr)
        except Exception as err:  # pyroute2's NetlinkError, OSError ...
            on_error(err)
            return None

    return _worker.submit(run)
