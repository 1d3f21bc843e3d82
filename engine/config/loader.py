"""Reading a configuration file all the way to what the gateway runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config.compile import CompiledConfig, compile_config
from engine.config.diagnostics import ConfigError, Diagnostic, Severity, Source
from engine.config.interfaces import fill_from_kernel
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate


def load(path: str | Path) -> Config:
    """Parse and validate. An unreadable file becomes one error diagnostic, not an exception."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        config = Config(file=str(path))
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        config.diagnostics.append(
            Diagnostic(Source(str(path), 0), Severity.ERROR, f"cannot read the file: {reason}")
        )
        return config
    return validate(fill_from_kernel(parse_text(text, str(path))))


@dataclass(frozen=True, slots=True)
class Loaded:
    model: Config
    compiled: CompiledConfig

    @property
    def warnings(self) -> list[Diagnostic]:
        return self.model.warnings


def load_compiled(path: str | Path, *, ike_port: int = 500, natt_port: int = 4500) -> Loaded:
    """Raises ConfigError with every diagnostic when the file has errors."""
    model = load(path)
    if model.errors:
        raise ConfigError(model.diagnostics)
    return Loaded(model, compile_config(model, ike_port=ike_port, natt_port=natt_port))
