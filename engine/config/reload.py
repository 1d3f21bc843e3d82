"""Hot reload: watch the file's directory, wait until the file is whole, reapply.

The directory, not the file, is watched: editors that save by writing a new file
and renaming it over the old one replace the inode a file watch would follow.

Only a complete file is applied. `cp`, `scp` and editors write in pieces, and the
first 300 bytes of a running configuration can be a valid configuration of its own
(a RADIUS key cut short, no crypto map: every session torn down). So a change is
acted on once the file has kept its size and mtime for the debounce interval, and
`incomplete` refuses a file that ends mid-line, or that has no `end` where the
running one (as IOS writes it) had one; the reload reports it and waits for the
next change.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path

import watchfiles

from engine.config.diagnostics import ConfigError, Diagnostic, Severity, Source
from engine.config.loader import Loaded, compiled, load
from engine.config.model import Config

log = logging.getLogger(__name__)

INCOMPLETE = "incomplete file, waiting"


def incomplete(model: Config, running: Config | None) -> Diagnostic | None:
    """Why `model` looks like a file caught mid-write; None when it looks whole."""
    layout = model.layout
    if layout.end_line is not None:
        return None  # whatever follows `end` is not configuration
    if layout.lines == 0:
        reason = "it is empty"
    elif not layout.ends_with_newline:
        reason = f"line {layout.lines} has no newline: the file ends mid-line"
    elif running is not None and running.layout.end_line is not None:
        reason = "it has no 'end' line, and the running configuration has one"
    else:
        return None
    return Diagnostic(Source(model.file, layout.lines), Severity.ERROR, f"{INCOMPLETE}: {reason}")


def load_complete(
    path: str | Path, running: Config | None, *, ike_port: int = 500, natt_port: int = 4500
) -> Loaded:
    """`load_compiled` for a reload: raises ConfigError with every error, or with the
    one reason the file looks incomplete (its errors then are the cut's, not the file's)."""
    model = load(path)
    unreadable = any(d.source.line == 0 for d in model.errors)
    problem = None if unreadable else incomplete(model, running)
    if problem is not None:
        raise ConfigError([problem])
    return compiled(model, ike_port=ike_port, natt_port=natt_port)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


class FileWatcher:
    """Calls `on_change()` once edits to one file have settled.

    The callback may hand back an awaitable (the service's reload, which parses in a
    worker thread): the watcher awaits it before it looks at the next change, so reloads
    never overlap and the event loop keeps running."""

    def __init__(
        self, path: str | Path, on_change: Callable[[], object], debounce_ms: int = 300
    ) -> None:
        self.path = Path(path).resolve()
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def _concerns(self, change: watchfiles.Change, changed: str) -> bool:
        return Path(changed).resolve() == self.path

    async def settled(self) -> bool:
        """Wait until the file has kept its size and mtime for the debounce interval;
        False if the watcher was stopped meanwhile."""
        seen = _signature(self.path)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.debounce_ms / 1000)
                return False
            now = _signature(self.path)
            if now == seen:
                return True
            seen = now

    async def run(self) -> None:
        async for changes in watchfiles.awatch(
            self.path.parent,
            watch_filter=self._concerns,
            debounce=self.debounce_ms,
            stop_event=self._stop,
            step=50,
            yield_on_timeout=True,
            rust_timeout=200,
        ):
            self.ready.set()
            if changes and await self.settled():
                try:
                    result = self.on_change()
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # a failing reload must not stop the watcher
                    log.exception("configuration reload failed")

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
