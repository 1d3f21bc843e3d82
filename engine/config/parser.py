"""Text -> model: the IOS block structure and the command tree.

The block structure is hand-written rather than taken from ciscoconfparse2: that
library brings a dozen dependencies for what is forty lines here, and it goes by
indentation alone, while IOS (and configs pasted from PDFs, as in the spec) goes
by mode: an unindented line that is a valid sub-command of the open block stays in
it. So a line belongs to the open sub-mode when it is indented or when the mode
knows its first word; otherwise it is a global command.

No diagnostic quotes a secret: lines are echoed through engine/redaction.py, and
whatever a message built while parsing a line quotes of that line's secret words is
masked (`_mask_secrets`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from engine.config.commands import (
    aaa,
    access_list,
    crypto_ikev2,
    crypto_isakmp,
    crypto_map,
    interface,
    routing,
    system,
)
from engine.config.commands.base import CommandTree, SubMode
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, FileLayout
from engine.config.words import Words, match_keyword
from engine.redaction import redact, scrub

END = "end"
BOM = "\ufeff"

TOP_LEVEL: CommandTree = {
    "hostname": system.hostname,
    "crypto": {
        "isakmp": crypto_isakmp.COMMANDS,
        "ikev2": crypto_ikev2.COMMANDS,
        "ipsec": {
            "transform-set": crypto_map.transform_set,
            "profile": crypto_map.ipsec_profile,
            "security-association": {"replay": {"window-size": crypto_map.replay_window}},
        },
        "map": crypto_map.crypto_map,
        "dynamic-map": crypto_map.dynamic_map,
    },
    "ip": {
        "access-list": {"extended": access_list.named_acl},
        "vrf": interface.ip_vrf,
        "local": {"pool": system.local_pool},
        "route": routing.ip_route,
    },
    "access-list": access_list.numbered_acl,
    "interface": interface.interface,
    "vrf": {"definition": interface.vrf_definition},
    "aaa": aaa.AAA_COMMANDS,
    "radius-server": aaa.RADIUS_COMMANDS,
    "logging": system.LOGGING_COMMANDS,
}


@dataclass(slots=True)
class Line:
    number: int
    text: str
    indented: bool


def _scan(text: str) -> tuple[list[Line], int | None]:
    """The command lines, and the number of the `end` line (None when there is none)."""
    lines = []
    # split on newlines only: str.splitlines() also splits on form feeds, U+2028 ...
    # and line numbers would drift from what an editor shows
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if stripped.lower() == END:
            return lines, number
        lines.append(Line(number, raw.rstrip(), raw[:1] in (" ", "\t")))
    return lines, None


def config_lines(text: str) -> list[Line]:
    """Lines that carry commands: no blanks, no `!` comments, nothing after `end`."""
    return _scan(text)[0]


def _lookup(tree: CommandTree, words: Words) -> Callable[..., SubMode | None] | None:
    """Walk the keyword tree; None when the command is not one we know."""
    node: CommandTree | Callable[..., SubMode | None] = tree
    while isinstance(node, dict):
        word = words.peek()
        if word is None:
            return None
        key = match_keyword(word, node.keys())
        if key is None:
            return None
        words.take_keyword()
        node = node[key]
    return node


def parse_text(text: str, file: str = "<config>") -> Config:
    """Parse a whole file. Problems become diagnostics; nothing here raises on bad text."""
    config = Config(file=file)
    text = text.removeprefix(BOM)
    lines, end_line = _scan(text)
    newline = text.endswith("\n")
    config.layout = FileLayout(end_line, newline, text.count("\n") + (bool(text) and not newline))
    state = _Block()
    for line in lines:
        before = len(config.diagnostics)
        read = state.parse(config, line)
        if len(config.diagnostics) > before:
            _mask_secrets(config, before, line, read)
    return config


class _Block:
    """The open block, as `parse_text` walks the lines."""

    def __init__(self) -> None:
        self.mode: SubMode | None = None
        #: in the body of a block already warned about
        self.ignoring = False

    def parse(self, config: Config, line: Line) -> list[Words]:
        """Parse one line; the word cursors it was read with."""
        source = Source(config.file, line.number)
        words = Words(line.text)
        read = [words]
        mode = self.mode
        if self.ignoring and line.indented:
            return read  # the body of a block we already warned about
        if mode is not None and line.indented:
            _run(config, source, lambda: mode.handle(words, source, line.text))
            return read
        if mode is not None and mode.accepts(words.items):
            # As IOS does: the open mode first; if the line does not parse there but is a
            # global command, it is the global command (`crypto map M 10 ipsec-isakmp`
            # after an interface, `int Gi0/0` after a proposal).
            try:
                mode.handle(words, source, line.text)
                self.ignoring = False
                return read
            except LineError as err:
                if (
                    err.severity is not Severity.ERROR
                    or _lookup(TOP_LEVEL, Words(line.text)) is None
                ):
                    config.report(source, err.message, err.severity)
                    return read
            words = Words(line.text)
            read.append(words)
        handler = _lookup(TOP_LEVEL, words)
        if handler is None:
            # Not a global command we know: IOS takes `duplex full` or `no ip route-cache`
            # as part of the open interface, so an open block stays open; an indented
            # body under this line belongs to it, not to the open block.
            where = f" in {mode.mode_name}" if mode is not None else ""
            config.report(
                source, f"ignored: not supported{where}: {redact(line.text)}", Severity.WARNING
            )
            self.ignoring = True
            return read
        self.mode, self.ignoring = None, False
        result = _run(config, source, lambda: handler(config, words, source, line.text))
        if isinstance(result, SubMode):
            self.mode = result
        else:
            self.ignoring = True
        return read


def _mask_secrets(config: Config, first: int, line: Line, read: list[Words]) -> None:
    """Mask the line's secret words in the diagnostics it produced (from `first` on).

    Messages are built from the words of the line (`unexpected 'K'`, `'K' is not one
    of`, an interface name glued from words); whatever they quote, no secret of the
    line gets through. Words the line was read with as keywords (`address`, `local`)
    are not secrets and stay readable."""
    secrets = {secret for words in read for secret in words.masked_words()}
    if not secrets:
        return
    for index in range(first, len(config.diagnostics)):
        diagnostic = config.diagnostics[index]
        message = scrub(diagnostic.message, secrets)
        if message != diagnostic.message:
            config.diagnostics[index] = replace(diagnostic, message=message)


def _run(config: Config, source: Source, action: Callable[[], object]) -> object:
    try:
        return action()
    except LineError as err:
        config.report(source, err.message, err.severity)
        return None


def parse_file(path: str | Path) -> Config:
    """Read and parse; an unreadable file raises OSError or UnicodeDecodeError."""
    path = Path(path)
    return parse_text(path.read_text(encoding="utf-8"), str(path))
