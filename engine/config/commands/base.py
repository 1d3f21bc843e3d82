"""The shape every command parser shares: global commands and their sub-modes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config
from engine.config.modes import SUB_COMMANDS, Paths, command_words
from engine.config.words import Words, match_keyword
from engine.redaction import redact
from engine.secret import Secret

#: a global command: (config, words after the keywords, source, raw line) -> sub-mode or None
Command = Callable[[Config, Words, Source, str], "SubMode | None"]
CommandTree = dict[str, Any]

MAX_DESCRIPTION = 80


class SubMode:
    """The sub-commands of one block (`crypto ikev2 profile X`, `interface Y` ...)."""

    #: sub-command keyword -> method name
    commands: dict[str, str] = {}
    #: what to call it in warnings
    mode_name = "this mode"
    #: how many words of a line it does not know a warning shows (None: all but
    #: secrets); a keyring's body is keys, and a key's keyword may be missing or mangled
    shown_words: int | None = None
    #: for sub-commands that are also global words (`ip`): the second words its method
    #: reads (`ip address`); with another second word the line is not supported here,
    #: and unindented it is a global command (`ip route`) unless engine/config/modes.py
    #: gives it to this mode
    second_words: dict[str, tuple[str, ...]] = {}

    def __init__(self, config: Config) -> None:
        self.config = config

    def knows(self, words: list[str]) -> bool:
        """Whether a sub-command of this mode reads the line (else: not supported here)."""
        if not words:
            return False
        key = match_keyword(words[0], self.commands.keys())
        if key is None:
            return False
        seconds = self.second_words.get(key)
        return seconds is None or len(words) < 2 or match_keyword(words[1], seconds) is not None

    def owns(self, words: Sequence[str]) -> int:
        """How many words of the line make it a sub-command of this mode (0: none).

        Counted against what makes it a global command (engine/config/modes.py): an
        unindented line stays in the mode unless a global command matches more."""
        cls = type(self)
        paths = _PATHS.get(cls)
        if paths is None:
            own = [
                f"{key} {second}" if key in cls.second_words else key
                for key in cls.commands
                for second in cls.second_words.get(key, ("",))
            ]
            # its own keywords may be abbreviated, as when they are read; IOS's not
            paths = _PATHS[cls] = (
                Paths(own, abbreviated=True),
                Paths(SUB_COMMANDS.get(cls.mode_name, ()), abbreviated=False),
            )
        words = command_words(words)
        return max(table.depth(words) for table in paths)

    def exit(self) -> bool:
        """`exit`: whether it leaves this mode (a nested level leaves only itself)."""
        return True

    def unsupported(self, text: str) -> LineError:
        return LineError(
            f"ignored: not supported in {self.mode_name}: {redact(text, self.shown_words)}",
            Severity.WARNING,
        )

    def handle(self, words: Words, source: Source, text: str) -> None:
        key = match_keyword(words.peek() or "", self.commands.keys())
        if key is None or not self.knows(words.items[words.pos :]):
            raise self.unsupported(text)
        words.take_keyword()
        getattr(self, self.commands[key])(words, source, text)


#: each mode's sub-command paths, built on first use
_PATHS: dict[type[SubMode], tuple[Paths, Paths]] = {}


def description(words: Words, text: str) -> str:
    value = words.rest_text(text, "description")
    if not value:
        raise LineError("description is empty")
    if len(value) > MAX_DESCRIPTION:
        raise LineError(f"description is {len(value)} characters; at most {MAX_DESCRIPTION}")
    return value


def secret(words: Words) -> Secret:
    """A key as IOS writes it: `KEY` or `0 KEY`; encrypted forms (6, 7) are refused."""
    typed = words.peek() in ("0", "6", "7") and len(words.items) > words.pos + 1
    if typed and words.key_type() != "0":
        raise LineError("encrypted key types 6 and 7 are not supported; give the key itself")
    return Secret(words.secret_word("key"))


def secret_to_end(words: Words, text: str) -> Secret:
    """RADIUS keys as IOS takes them: the rest of the line, spaces included."""
    typed = words.peek() in ("0", "6", "7") and len(words.items) > words.pos + 1
    if typed and words.key_type() != "0":
        raise LineError("encrypted key types 6 and 7 are not supported; give the key itself")
    value = words.secret_text(text)
    if not value:
        raise LineError("missing key")
    return Secret(value)


def name(words: Words, what: str) -> str:
    value = words.word(what)
    words.end()
    return value


def one_name(words: Words, what: str) -> str:
    """The last word of the line, a name: read as the rest of the line, so that a
    secret keyword before it (`match identity group key K`) is refused, not a name."""
    rest = words.rest(what)
    if not rest:
        raise LineError(f"missing {what}")
    if len(rest) > 1:
        raise LineError(f"unexpected '{' '.join(rest[1:])}'")
    return rest[0]
