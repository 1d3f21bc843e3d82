"""What the console needs from the gateway it watches: the store to read and the control
API to act through, the same one the CLI reaches over the control socket."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from engine.config.model import Config
from engine.control import Control
from engine.events import ConfigReloaded, ConfigReloadFailed
from engine.store import Store


class ConsoleTarget(Protocol):
    """A running `engine.service.VpnService`, or anything shaped like one (the lab's)."""

    @property
    def store(self) -> Store: ...

    @property
    def control(self) -> Control: ...

    @property
    def config_path(self) -> Path | None: ...

    @property
    def last_reload(self) -> ConfigReloaded | ConfigReloadFailed | None: ...

    @property
    def model(self) -> Config | None: ...


def resolve_target(obj: object) -> ConsoleTarget:
    """The service itself, or the `.service` of a wrapper such as the lab."""
    for candidate in (obj, getattr(obj, "service", None)):
        if candidate is not None and all(hasattr(candidate, name) for name in ("store", "control")):
            return candidate  # type: ignore[return-value]
    raise TypeError(f"{type(obj).__name__} has no store and control to watch")
