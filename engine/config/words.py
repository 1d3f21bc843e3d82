"""Reading the words of one configuration line, with IOS keyword abbreviations.

IOS accepts any unambiguous prefix of a keyword (`encr` for `encryption`). A
`Words` cursor hands out keywords, names, numbers and addresses and raises
`LineError` with a reason an operator understands.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from engine.config.diagnostics import LineError


def match_keyword(word: str, options: Iterable[str]) -> str | None:
    """The option `word` names: itself, or the only option it is a prefix of."""
    lowered = word.lower()
    candidates = []
    for option in options:
        if option == lowered:
            return option
        if option.startswith(lowered):
            candidates.append(option)
    return candidates[0] if len(candidates) == 1 else None


class Words:
    def __init__(self, text: str) -> None:
        self.items = text.split()
        self.pos = 0

    def __bool__(self) -> bool:
        return self.pos < len(self.items)

    def peek(self) -> str | None:
        return self.items[self.pos] if self else None

    def rest(self) -> list[str]:
        rest = self.items[self.pos :]
        self.pos = len(self.items)
        return rest

    def rest_text(self, original: str) -> str:
        """The remainder of the line as typed (descriptions keep their spacing)."""
        if not self:
            return ""
        stripped = original.strip()
        consumed = 0
        for word in self.items[: self.pos]:
            consumed = stripped.index(word, consumed) + len(word)
        self.pos = len(self.items)
        return stripped[consumed:].strip()

    def word(self, what: str) -> str:
        if not self:
            raise LineError(f"missing {what}")
        value = self.items[self.pos]
        self.pos += 1
        return value

    def keyword(self, *options: str, what: str | None = None) -> str:
        if not self:
            raise LineError(f"missing {what or ' | '.join(options)}")
        word = self.items[self.pos]
        found = match_keyword(word, options)
        if found is None:
            raise LineError(f"'{word}' is not one of: {', '.join(options)}")
        self.pos += 1
        return found

    def optional_keyword(self, *options: str) -> str | None:
        if not self:
            return None
        found = match_keyword(self.items[self.pos], options)
        if found is not None:
            self.pos += 1
        return found

    def number(self, what: str, low: int, high: int) -> int:
        text = self.word(what)
        try:
            value = int(text)
        except ValueError:
            raise LineError(f"{what} must be a number, not '{text}'") from None
        if not low <= value <= high:
            raise LineError(f"{what} {value} is outside {low}-{high}")
        return value

    def address(self, what: str = "address") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        text = self.word(what)
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            raise LineError(f"bad {what} '{text}'") from None

    def mask(self, what: str = "mask") -> ipaddress.IPv4Address:
        text = self.word(what)
        try:
            mask = ipaddress.IPv4Address(text)
        except ValueError:
            raise LineError(f"bad {what} '{text}'") from None
        bits = int(mask)
        inverted = ~bits & 0xFFFFFFFF
        if inverted & (inverted + 1):
            raise LineError(f"{what} '{text}' is not a contiguous netmask")
        return mask

    def wildcard(self, what: str = "wildcard") -> int:
        text = self.word(what)
        try:
            bits = int(ipaddress.IPv4Address(text))
        except ValueError:
            raise LineError(f"bad {what} '{text}'") from None
        if bits & (bits + 1):
            raise LineError(f"{what} '{text}' is not a contiguous wildcard mask")
        return bits

    def end(self) -> None:
        if self:
            raise LineError(f"unexpected '{' '.join(self.items[self.pos :])}'")


def network(address: ipaddress.IPv4Address, mask: ipaddress.IPv4Address) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(f"{address}/{mask}", strict=False)
    except ValueError as err:
        raise LineError(str(err)) from None
