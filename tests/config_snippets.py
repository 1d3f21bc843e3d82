"""Parsing configuration snippets in tests: dedented text, one file name per test module."""

from __future__ import annotations

import dataclasses
import enum
import textwrap

from engine.config.diagnostics import Severity, Source
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.secret import Secret


class Snippets:
    def __init__(self, file: str) -> None:
        self.file = file

    def parse(self, text: str) -> Config:
        return parse_text(textwrap.dedent(text), self.file)

    def src(self, line: int) -> Source:
        return Source(self.file, line)

    def at(self, config: Config, line: int, severity: Severity | None = None) -> list[str]:
        """The messages reported at `line` (of one severity, if given)."""
        return [
            d.message
            for d in config.diagnostics
            if d.source.line == line and (severity is None or d.severity is severity)
        ]


def normalize(value: object) -> object:
    """A model as plain data: no Sources, secrets reduced to their presence."""
    if isinstance(value, Secret):
        return "<secret>"
    if isinstance(value, Source):
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        skip = {"source", "file", "diagnostics", "layout"}  # layout: how the file ended
        return {
            f.name: normalize(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in skip and not f.name.startswith("_")  # private: indexes
        }
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[1], Source):
            return normalize(value[0])  # a (name, Source) reference
        return [normalize(v) for v in value]
    return value
