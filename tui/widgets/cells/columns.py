"""What a table's columns are and how a raw value reads: the specs, the cell a
reader gets, and the measures of drawn text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text

Row = tuple[Any, ...]
"""Raw values of one row, in column order; each column's values must compare."""

#: The header's height: one line, fixed at the top of the table.
HEADER = 1


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: how a raw value reads (`fmt`), and optionally its colour (`style`)."""

    key: str
    label: str
    fmt: Callable[[Any], str] = str
    style: Callable[[Any], str] | None = None
    right: bool = False
    width: int | None = None
    #: The value never changes for a given key (e.g. the address a key is made of), so
    #: ordering by this column needs no fresh rows.
    fixed: bool = False
    #: The value moves with traffic or the clock, and its text uses only the characters
    #: of `tui.format.NUMBER_ALPHABET` (counts, bytes, rates, uptime).
    volatile: bool = False


class Cell(Text):
    """Text that remembers the raw value it shows, so sorting never parses display text."""

    __slots__ = ("raw",)

    raw: Any


def text_width(text: str) -> int:
    """Cells a value takes: its length, for the usual printable ASCII (a C-speed test)."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


def same_value(drawn: object, value: object) -> bool:
    """Whether a value is the one that was drawn (equal values of one type look alike)."""
    return drawn is value or (type(drawn) is type(value) and drawn == value)
