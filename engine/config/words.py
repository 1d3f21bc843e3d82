"""Reading the words of one configuration line, with IOS keyword abbreviations.

IOS accepts any unambiguous prefix of a keyword (`encr` for `encryption`). A
`Words` cursor hands out keywords, names, numbers and addresses and raises
`LineError` with a reason an operator understands.

Once a command has been read through a secret keyword (`key`, `pre-sh`, or a
keyword abbreviated or mistyped so that it reads as one, engine/redaction.py), the
words after it are a secret: they come out only through `secret_word` and
`secret_text`, never as a name (`crypto ikev2 key K` is `keyring K` to the
abbreviation rules, and must not make a keyring named after the key), and error
messages show them masked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from engine.config.diagnostics import LineError
from engine.redaction import SECRET_KEYWORDS, is_secret_keyword, mistypes, secret_start
from engine.secret import MASK

_UNKNOWN = -1
#: one label of a host name (underscores too: IOS and Windows names have them)
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")


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
    __slots__ = (
        "_masked_from",
        "_plain_from",
        "_secret_from",
        "_secret_read",
        "items",
        "keywords",
        "pos",
    )

    def __init__(self, text: str) -> None:
        self.items = text.split()
        self.pos = 0
        #: positions read as keywords (not secrets, even when they follow a secret keyword)
        self.keywords: list[int] = []
        #: where the words read through a secret keyword begin; None: no such keyword
        self._secret_from: int | None = None
        #: where the words a message must mask begin (engine/redaction.py), found lazily
        self._masked_from: int | None = _UNKNOWN
        #: where the secret read last ends, and where a keyword after it ends the secret
        #: (`crypto isakmp key K address A`: A is an address again)
        self._secret_read: int | None = None
        self._plain_from: int | None = None

    def __bool__(self) -> bool:
        return self.pos < len(self.items)

    def peek(self) -> str | None:
        return self.items[self.pos] if self else None

    # --- what messages may show -----------------------------------------------------

    def masked(self, index: int) -> bool:
        """Whether the word at `index` may be a secret, so that no message shows it."""
        if self._masked_from == _UNKNOWN:
            self._masked_from = secret_start(self.items, unread=False)
        start = self._masked_from
        if self._secret_from is not None and (start is None or self._secret_from < start):
            start = self._secret_from
        if start is None or index < start:
            return False
        plain = self._plain_from
        if plain is None or index < plain:
            return True
        after = secret_start(self.items[plain:], unread=False)  # another secret keyword
        return after is not None and index >= plain + after

    def masked_words(self) -> list[str]:
        """The words of the line that may be secrets, keywords read as such left out."""
        keywords = set(self.keywords)
        return [word for i, word in enumerate(self.items) if i not in keywords and self.masked(i)]

    def shown(self, index: int) -> str:
        """The word at `index` as a message may show it."""
        return MASK if self.masked(index) else self.items[index]

    def shown_rest(self) -> str:
        """The words not read yet, as a message may show them."""
        return " ".join(self.shown(i) for i in range(self.pos, len(self.items)))

    # --- names: never a secret ------------------------------------------------------

    def _refuse_secret(self, what: str, end: int) -> None:
        """A name (or a value kept as text) must not be taken from where a secret goes."""
        secret_from = self._secret_from
        if secret_from is None or end <= secret_from:
            for i in range(self.pos, end - 1):
                if is_secret_keyword(self.items[i], parts=False):
                    secret_from = i + 1  # `interface key K`: K would end up in the name
                    break
            else:
                return
        # a keyword it was read as is vocabulary; any other word may be the secret itself
        keyword = f"'{self.items[secret_from - 1]}'" if secret_from - 1 in self.keywords else MASK
        raise LineError(
            f"missing {what}: {keyword} reads as a secret keyword, "
            "and what follows it is never used as a name"
        )

    def rest(self, what: str = "value") -> list[str]:
        """The remaining words, kept as text (a list of names)."""
        self._refuse_secret(what, len(self.items))
        rest = self.items[self.pos :]
        self.pos = len(self.items)
        return rest

    def skip(self) -> None:
        """Consume the remaining words unread (options this gateway does not use)."""
        self.pos = len(self.items)

    def rest_text(self, original: str, what: str = "text") -> str:
        """The remainder of the line as typed (descriptions keep their spacing)."""
        if self._secret_from is not None and self.pos >= self._secret_from:
            self._refuse_secret(what, len(self.items))
        return self._text(original)

    def _text(self, original: str) -> str:
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
        self._refuse_secret(what, self.pos + 1)
        value = self.items[self.pos]
        self.pos += 1
        return value

    # --- secrets ----------------------------------------------------------------------

    def secret_word(self, what: str = "key") -> str:
        """The next word, which is a secret (or the key type before one)."""
        if not self:
            raise LineError(f"missing {what}")
        value = self.items[self.pos]
        self.pos += 1
        self._secret_read = self.pos
        return value

    def key_type(self) -> str:
        """The `0` / `6` / `7` before a key: not itself a secret."""
        self.keywords.append(self.pos)
        return self.secret_word("key type")

    def secret_text(self, original: str) -> str:
        """The remainder of the line as typed, a secret (RADIUS keys may hold spaces)."""
        text = self._text(original)
        self._secret_read = self.pos
        return text

    # --- keywords and typed values ------------------------------------------------------

    def take_keyword(self) -> None:
        """The next word was matched as a keyword; a secret follows a secret keyword."""
        index = self.pos
        self.keywords.append(index)
        if self._secret_from is None and is_secret_keyword(self.items[index]):
            self._secret_from = index + 1
        elif self._secret_read is not None and self._plain_from is None:
            self._plain_from = index + 1
        self.pos = index + 1

    def keyword(self, *options: str, what: str | None = None) -> str:
        if not self:
            raise LineError(f"missing {what or ' | '.join(options)}")
        found = match_keyword(self.items[self.pos], options)
        if found is None:
            # where `key K` may stand, a word that is no option (nor a typo of one) may be
            # K with its keyword left out
            word = self.items[self.pos]
            secret_here = SECRET_KEYWORDS.keys() & options and not mistypes(word, options)
            shown = MASK if secret_here else self.shown(self.pos)
            raise LineError(f"'{shown}' is not one of: {', '.join(options)}")
        self.take_keyword()
        return found

    def optional_keyword(self, *options: str) -> str | None:
        if not self:
            return None
        found = match_keyword(self.items[self.pos], options)
        if found is not None:
            self.take_keyword()
        return found

    def _typed(self, what: str) -> int:
        """The position of the next word, a typed value (typed values may follow a key:
        `crypto isakmp key K address A`); messages show it through `shown`."""
        if not self:
            raise LineError(f"missing {what}")
        self.pos += 1
        return self.pos - 1

    def number(self, what: str, low: int, high: int) -> int:
        at = self._typed(what)
        try:
            value = int(self.items[at])
        except ValueError:
            raise LineError(f"{what} must be a number, not '{self.shown(at)}'") from None
        if not low <= value <= high:
            shown = MASK if self.masked(at) else value
            raise LineError(f"{what} {shown} is outside {low}-{high}")
        return value

    def address(self, what: str = "address") -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        at = self._typed(what)
        try:
            return ipaddress.ip_address(self.items[at])
        except ValueError:
            raise LineError(f"bad {what} '{self.shown(at)}'") from None

    def hostname(self, what: str = "host name") -> str:
        """A DNS name, read as a typed value: it may follow a key (`pre-shared-key
        hostname H key K`, `crypto isakmp key K hostname H`), where no name is read."""
        at = self._typed(what)
        value = self.items[at]
        labels = value.rstrip(".").split(".")
        if len(value) > 253 or not all(
            label and len(label) <= 63 and _HOST_LABEL.fullmatch(label) for label in labels
        ):
            raise LineError(f"bad {what} '{self.shown(at)}'")
        return value

    def mask(self, what: str = "mask") -> ipaddress.IPv4Address:
        at = self._typed(what)
        try:
            mask = ipaddress.IPv4Address(self.items[at])
        except ValueError:
            raise LineError(f"bad {what} '{self.shown(at)}'") from None
        bits = int(mask)
        inverted = ~bits & 0xFFFFFFFF
        if inverted & (inverted + 1):
            raise LineError(f"{what} '{self.shown(at)}' is not a contiguous netmask")
        return mask

    def wildcard(self, what: str = "wildcard") -> int:
        at = self._typed(what)
        try:
            bits = int(ipaddress.IPv4Address(self.items[at]))
        except ValueError:
            raise LineError(f"bad {what} '{self.shown(at)}'") from None
        if bits & (bits + 1):
            raise LineError(f"{what} '{self.shown(at)}' is not a contiguous wildcard mask")
        return bits

    def end(self) -> None:
        if self:
            raise LineError(f"unexpected '{self.shown_rest()}'")


def network(address: ipaddress.IPv4Address, mask: ipaddress.IPv4Address) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(f"{address}/{mask}", strict=False)
    except ValueError as err:
        raise LineError(str(err)) from None
