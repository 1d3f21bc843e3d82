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

END = "end"

TOP_LEVEL: CommandTree = {
    "hostname": system.hostname,
    "crypto": {
        "isakmp": crypto_isakmp.COMMANDS,
        "ikev2": crypto_ikev2.COMMANDS,
        "ipsec": {"transform-set": crypto_map.transform_set},
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
    for number, raw in enumerate(text.splitlines(), start=1):
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
        if mode is not None and (line.indented or mode.accepts(words.items)):
            _run(config, source, lambda m=mode, w=words, s=source, t=line.text: m.handle(w, s, t))
            continue
        if ignoring and line.indented:
            continue  # the body of a block we already warned about
        handler = _lookup(TOP_LEVEL, words)
        if handler is None:
            # Not a global command we know: IOS takes `duplex full` or `no ip route-cache`
            # as part of the open interface, so an open block stays open.
            where = f" in {mode.mode_name}" if mode is not None else ""
            config.report(
                source, f"ignored: not supported{where}: {line.text.strip()}", Severity.WARNING
            )
            ignoring = mode is None
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
