"""The gateway as an operator runs it: a configuration file, hot reload, and static
crypto map entries kept up.

A static entry (`set peer`) is initiated as soon as the configuration is applied
and brought back, with exponential backoff, after a failure, a peer's delete or
a clear. Dynamic entries only respond.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from pathlib import Path

from engine.config.compile import CompiledConfig
from engine.config.diagnostics import ConfigError
from engine.config.diff import ConfigDiff, diff
from engine.config.loader import Loaded, load_compiled
from engine.config.reload import FileWatcher
from engine.events import (
    AuthenticationFailed,
    ConfigReloaded,
    ConfigReloadFailed,
    DownReason,
    IkeSaDown,
    IkeSaUp,
    NegotiationFailed,
    RetransmitGiveUp,
)
from engine.gateway import Gateway
from engine.ike.ike_sa import IkeState

#: seconds between attempts to bring a static tunnel up: doubling from the first
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
KEEPER_TICK = 0.5


@dataclass(slots=True)
class Backoff:
    delay: float = BACKOFF_FIRST
    next_attempt: float = 0.0


class VpnService:
    def __init__(
        self,
        config_path: str | Path,
        *,
        bind: str = "0.0.0.0",
        ike_port: int = 500,
        natt_port: int = 4500,
        watch: bool = True,
    ) -> None:
        self.config_path = Path(config_path)
        self.bind = bind
        self.watch = watch
        self.loaded: Loaded = load_compiled(
            self.config_path, ike_port=ike_port, natt_port=natt_port
        )
        self.gateway = Gateway(
            self.loaded.compiled.ike, bind=bind, ike_port=ike_port, natt_port=natt_port
        )
        self.gateway.subscribe(self._on_event)
        self._backoff: dict[str, Backoff] = {}
        self._keeper: asyncio.Task[None] | None = None
        self._watcher: FileWatcher | None = None
        self.last_reload: ConfigReloaded | ConfigReloadFailed | None = None

    @property
    def compiled(self) -> CompiledConfig:
        return self.loaded.compiled

    async def start(self) -> None:
        await self.gateway.start()
        self.loaded = replace(
            self.loaded,
            compiled=replace(
                self.loaded.compiled,
                ike=replace(
                    self.loaded.compiled.ike,
                    ike_port=self.gateway.ike_port,
                    natt_port=self.gateway.natt_port,
                ),
            ),
        )
        self._keeper = asyncio.create_task(self._keep_static_tunnels())
        if self.watch:
            self._watcher = FileWatcher(self.config_path, self.reload)
            self._watcher.start()

    async def stop(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        if self._keeper is not None:
            self._keeper.cancel()
        await self.gateway.stop()

    # ------------------------------------------------------------------ reload
    def reload(self) -> ConfigReloaded | ConfigReloadFailed:
        """Parse, validate, diff, apply. A file with errors changes nothing."""
        now = time.time()
        try:
            loaded = load_compiled(
                self.config_path, ike_port=self.gateway.ike_port, natt_port=self.gateway.natt_port
            )
        except ConfigError as err:
            errors = tuple(str(d) for d in err.diagnostics if d.severity.value == "error")
            event: ConfigReloaded | ConfigReloadFailed = ConfigReloadFailed(
                str(self.config_path), now, errors
            )
        else:
            changes = self.apply(loaded)
            event = ConfigReloaded(
                str(self.config_path),
                now,
                changes.summary(),
                tuple(str(w) for w in loaded.warnings),
            )
        self.last_reload = event
        self.gateway.publish(event)
        return event

    def apply(self, loaded: Loaded) -> ConfigDiff:
        changes = diff(self.loaded.compiled, loaded.compiled)
        self.loaded = loaded
        self.gateway.apply(loaded.compiled.ike)
        for sa in self.gateway.engine.ike_sas():
            if sa.peer_name in changes.removed:
                self.gateway.delete_ike_sa(sa.ike_sa_id, DownReason.CONFIG_REMOVED)
        for name in changes.removed:
            self._backoff.pop(name, None)
        return changes

    # ------------------------------------------------------------------ static tunnels
    def _on_event(self, event: object) -> None:
        peer = getattr(event, "peer_name", "")
        if not peer or peer not in self.compiled.meta:
            return
        if isinstance(event, IkeSaUp):
            self._backoff[peer] = Backoff()
        elif isinstance(
            event, AuthenticationFailed | NegotiationFailed | RetransmitGiveUp | IkeSaDown
        ):
            state = self._backoff.setdefault(peer, Backoff())
            loop_now = self.gateway.now()
            state.next_attempt = max(state.next_attempt, loop_now + state.delay)
            state.delay = min(state.delay * 2, BACKOFF_MAX)

    def _has_ike_sa(self, peer_name: str) -> bool:
        return any(
            sa.peer_name == peer_name and sa.state is not IkeState.CLOSED
            for sa in self.gateway.engine.ike_sas()
        )

    async def _keep_static_tunnels(self) -> None:
        while True:
            now = self.gateway.now()
            for meta in self.compiled.meta.values():
                if not meta.initiate or meta.remote is None or self._has_ike_sa(meta.peer_name):
                    continue
                state = self._backoff.setdefault(meta.peer_name, Backoff())
                if now >= state.next_attempt:
                    state.next_attempt = now + state.delay
                    self.gateway.initiate(meta.peer_name)
            await asyncio.sleep(KEEPER_TICK)
