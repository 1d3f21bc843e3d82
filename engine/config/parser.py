"""Text -> model: the IOS block structure and the command tree.

The block structure is hand-written rather than taken from ciscoconfparse2: that
library brings a dozen dependencies for what is forty lines here, and it goes by
indentation alone, while IOS (and configs pasted from PDFs, as in the spec) goes
by mode: an unindented line that is a valid sub-command of the open block stays in
it. So a line belongs to the open sub-mode when it is indented or when the mode
knows its first word; otherwise it is a global command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.config.commands import (
    aaa,
    access_list,
    crypto_ikev2,
    crypto_isakmp,
    crypto_map,
    interface,
    system,
)
from engine.config.commands.base import CommandTree, SubMode
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config
from engine.config.words import Words, match_keyword
from engine.secret import MASK

END = "end"

TOP_LEVEL: CommandTree = {
    "hostname": system.hostname,
    "crypto": {
        "isakmp": crypto_isakmp.COMMANDS,
        "ikev2": crypto_ikev2.COMMANDS,
        "ipsec": {
            "transform-set": crypto_map.transform_set,
            "security-association": {"replay": {"window-size": crypto_map.replay_window}},
        },
        "map": crypto_map.crypto_map,
        "dynamic-map": crypto_map.dynamic_map,
    },
    "ip": {
        "access-list": {"extended": access_list.named_acl},
        "vrf": interface.ip_vrf,
        "local": {"pool": system.local_pool},
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


def config_lines(text: str) -> list[Line]:
    """Lines that carry commands: no blanks, no `!` comments, nothing after `end`."""
    lines = []
    # split on newlines only: str.splitlines() also splits on form feeds, U+2028 ...
    # and line numbers would drift from what an editor shows
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if stripped.lower() == END:
            break
        lines.append(Line(number, raw.rstrip(), raw[:1] in (" ", "\t")))
    return lines


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
        words.pos += 1
        node = node[key]
    return node


def parse_text(text: str, file: str = "<config>") -> Config:
    """Parse a whole file. Problems become diagnostics; nothing here raises on bad text."""
    config = Config(file=file)
    mode: SubMode | None = None
    ignoring = False
    for line in config_lines(text):
        source = Source(file, line.number)
        words = Words(line.text)
        if ignoring and line.indented:
            continue  # the body of a block we already warned about
        if mode is not None and line.indented:
            _run(config, source, lambda m=mode, w=words, s=source, t=line.text: m.handle(w, s, t))
            continue
        if mode is not None and mode.accepts(words.items):
            # As IOS does: the open mode first; if the line does not parse there but is a
            # global command, it is the global command (`crypto map M 10 ipsec-isakmp`
            # after an interface, `int Gi0/0` after a proposal).
            try:
                mode.handle(words, source, line.text)
                ignoring = False
                continue
            except LineError as err:
                if (
                    err.severity is not Severity.ERROR
                    or _lookup(TOP_LEVEL, Words(line.text)) is None
                ):
                    config.report(source, err.message, err.severity)
                    continue
            words = Words(line.text)
        handler = _lookup(TOP_LEVEL, words)
        if handler is None:
            # Not a global command we know: IOS takes `duplex full` or `no ip route-cache`
            # as part of the open interface, so an open block stays open; an indented
            # body under this line belongs to it, not to the open block.
            where = f" in {mode.mode_name}" if mode is not None else ""
            config.report(
                source, f"ignored: not supported{where}: {redact(line.text)}", Severity.WARNING
            )
            ignoring = True
            continue
        mode, ignoring = None, False
        result = _run(
            config, source, lambda h=handler, w=words, s=source, t=line.text: h(config, w, s, t)
        )
        if isinstance(result, SubMode):
            mode = result
        else:
            ignoring = True
    return config


SECRET_WORDS = ("password", "secret", "key", "community", "key-string")


def redact(text: str) -> str:
    """A line for a diagnostic, with whatever follows a secret-ish keyword masked:
    `username bob secret 5 $1$...` must not reach logs through a warning."""
    words = text.split()
    for i, word in enumerate(words):
        if word.lower() in SECRET_WORDS:
            return " ".join([*words[: i + 1], MASK])
    return " ".join(words)


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
