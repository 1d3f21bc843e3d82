"""Compiler-style diagnostics: every problem names its file, line and reason."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a configuration object came from."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    source: Source
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.severity}: {self.message}"


class ConfigError(Exception):
    """A configuration that cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        super().__init__("\n".join(str(d) for d in errors) or "invalid configuration")
        self.diagnostics = diagnostics


class LineError(Exception):
    """Raised by a command parser for the line it is parsing; becomes a Diagnostic."""

    def __init__(self, message: str, severity: Severity = Severity.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.severity = severity
