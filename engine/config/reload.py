"""Hot reload: watch the file's directory, debounce, and reapply on every edit.

The directory, not the file, is watched: editors that save by writing a new file
and renaming it over the old one replace the inode a file watch would follow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)


class FileWatcher:
    """Calls `on_change()` after edits to one file settle (debounced by watchfiles)."""

    def __init__(
        self, path: str | Path, on_change: Callable[[], None], debounce_ms: int = 300
    ) -> None:
        self.path = Path(path).resolve()
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def _concerns(self, change: watchfiles.Change, changed: str) -> bool:
        return Path(changed).resolve() == self.path

    async def run(self) -> None:
        async for _ in watchfiles.awatch(
            self.path.parent,
            watch_filter=self._concerns,
            debounce=self.debounce_ms,
            stop_event=self._stop,
            step=50,
            yield_on_timeout=True,
            rust_timeout=200,
        ):
            self.ready.set()
            if _:
                try:
                    self.on_change()
                except Exception:  # a failing reload must not stop the watcher
                    log.exception("configuration reload failed")

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
