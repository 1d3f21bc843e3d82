"""Parsing configuration snippets in tests: dedented text, one file name per test module."""

from __future__ import annotations

import textwrap

from engine.config.diagnostics import Severity, Source
from engine.config.model import Config
from engine.config.parser import parse_text


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
