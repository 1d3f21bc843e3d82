"""Text -> model: the IOS block structure and the command tree.

The block structure is hand-written rather than taken from ciscoconfparse2: that
library brings a dozen dependencies for what is forty lines here, and it goes by
indentation alone, while IOS (and configs pasted from PDFs, as in the spec, or with
their indentation lost) goes by mode. An indented line belongs to the open sub-mode.
An unindented line does too, unless it is a global command: on a router a global
command typed in a sub-mode leaves the sub-mode. engine/config/modes.py has the
tables that tell the two apart (`ip address` stays in an interface, `ip route` and
`router bgp` leave it); a line neither knows stays (`duplex auto`). The body of an
IOS block the gateway does not read (`router bgp`, `line vty`, a multi-line
`banner`) is skipped with it, indented or not.

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
    crypto_keyring,
    crypto_map,
    ezvpn,
    http,
    interface,
    routing,
    system,
    users,
    xsm,
)
from engine.config.commands.base import CommandTree, SubMode
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, FileLayout
from engine.config.modes import IOS_GLOBAL, Paths, block_body, command_words
from engine.config.words import Words, match_keyword
from engine.redaction import redact, scrub

END = "end"
EXIT = "exit"
BOM = "\ufeff"
#: `banner TYPE cTEXTc`: the text, up to the delimiter c, may run over many lines
BANNER = "banner"
BANNER_TYPES = ("motd", "login", "exec", "incoming", "prompt-timeout", "slip-ppp", "config-save")

TOP_LEVEL: CommandTree = {
    "hostname": system.hostname,
    "crypto": {
        "isakmp": crypto_isakmp.COMMANDS,
        "ikev2": crypto_ikev2.COMMANDS,
        "ipsec": {
            "transform-set": crypto_map.transform_set,
            "profile": crypto_map.ipsec_profile,
            "security-association": {"replay": {"window-size": crypto_map.replay_window}},
            "df-bit": crypto_map.df_bit,
            "fragmentation": crypto_map.fragmentation,
            "client": {"ezvpn": ezvpn.ezvpn},
        },
        "map": crypto_map.crypto_map,
        "dynamic-map": crypto_map.dynamic_map,
        "keyring": crypto_keyring.keyring,
    },
    "ip": {
        "access-list": {
            "extended": access_list.named_acl,
            "standard": access_list.named_standard_acl,
        },
        "vrf": interface.ip_vrf,
        "local": {"pool": system.local_pool},
        "route": routing.ip_route,
        "http": http.HTTP_COMMANDS,
    },
    "access-list": access_list.numbered_acl,
    "username": users.username,
    "interface": interface.interface,
    "vrf": {"definition": interface.vrf_definition},
    "aaa": aaa.AAA_COMMANDS,
    "radius-server": aaa.RADIUS_COMMANDS,
    "logging": system.LOGGING_COMMANDS,
    "xsm": xsm.xsm_command,
    # `no X`: the commands whose `no` form the gateway reads (others stay warnings)
    "no": {"ip": {"http": http.NO_HTTP_COMMANDS}, "xsm": xsm.no_xsm_command},
}


@dataclass(slots=True)
class Line:
    number: int
    text: str
    indented: bool


@dataclass(slots=True)
class _Scan:
    lines: list[Line]
    #: the number of the `end` line (None when there is none)
    end_line: int | None = None
    #: a banner whose delimiter never came: its line and delimiter
    open_banner: tuple[int, str] | None = None


def _banner_delimiter(text: str) -> str | None:
    """For a `banner` whose text goes on past its line: the delimiter that ends it.

    IOS takes the first character after the banner type as the delimiter; `show
    running-config` writes it as `^C`."""
    words = text.split()
    if not words or words[0].lower() != BANNER:
        return None
    rest = text.strip()[len(words[0]) :].lstrip()
    if len(words) > 1 and words[1].lower() in BANNER_TYPES:
        rest = rest[len(words[1]) :].lstrip()
    if not rest:
        return None
    delimiter = "^C" if rest.startswith("^C") else rest[0]
    return None if delimiter in rest[len(delimiter) :] else delimiter


def _scan(text: str) -> _Scan:
    """The command lines, up to `end`; a banner's text is no command."""
    scan = _Scan([])
    delimiter: str | None = None
    # split on newlines only: str.splitlines() also splits on form feeds, U+2028 ...
    # and line numbers would drift from what an editor shows
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
        if delimiter is not None:
            if delimiter in raw:
                delimiter, scan.open_banner = None, None
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if stripped.lower() == END:
            scan.end_line = number
            return scan
        scan.lines.append(Line(number, raw.rstrip(), raw[:1] in (" ", "\t")))
        delimiter = _banner_delimiter(stripped)
        if delimiter is not None:
            scan.open_banner = (number, delimiter)
    return scan


def config_lines(text: str) -> list[Line]:
    """Lines that carry commands: no blanks, no `!` comments, no banner text, nothing
    after `end`."""
    return _scan(text).lines


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


def _global_depth(words: list[str]) -> int:
    """How many words of the line make it a global command: one the gateway reads
    (abbreviations allowed, as for any of its keywords) or an IOS one (modes.py)."""
    words = list(command_words(words))
    node: object = TOP_LEVEL
    depth = 0
    for word in words:
        if not isinstance(node, dict):
            break
        key = match_keyword(word, node.keys())
        if key is None:
            break
        depth += 1
        node = node[key]
    return max(depth, IOS_GLOBAL.depth(words))


def parse_text(text: str, file: str = "<config>") -> Config:
    """Parse a whole file. Problems become diagnostics; nothing here raises on bad text."""
    config = Config(file=file)
    text = text.removeprefix(BOM)
    scan = _scan(text)
    newline = text.endswith("\n")
    config.layout = FileLayout(
        scan.end_line, newline, text.count("\n") + (bool(text) and not newline)
    )
    state = _Block()
    for line in scan.lines:
        before = len(config.diagnostics)
        read = state.parse(config, line)
        if len(config.diagnostics) > before:
            _mask_secrets(config, before, line, read)
    if scan.open_banner is not None:
        number, delimiter = scan.open_banner
        config.report(
            Source(file, number),
            f"banner not closed by '{delimiter}': the rest of the file is read as its text",
            Severity.WARNING,
        )
    return config


class _Block:
    """The open block, as `parse_text` walks the lines."""

    def __init__(self) -> None:
        self.mode: SubMode | None = None
        #: in the body of a block already warned about
        self.ignoring = False
        #: in the body of an IOS block the gateway does not read (`router bgp`): its
        #: sub-commands that begin like global commands (modes.py)
        self.skipped: Paths | None = None

    def parse(self, config: Config, line: Line) -> list[Words]:
        """Parse one line; the word cursors it was read with."""
        source = Source(config.file, line.number)
        words = Words(line.text)
        read = [words]
        items = words.items
        if self.ignoring and line.indented:
            return read  # the body of a block we already warned about
        if len(items) == 1 and items[0].lower() == EXIT:
            self.exit()
            return read
        if (
            not line.indented
            and self.skipped is not None
            and self.skipped.depth(command_words(items)) >= _global_depth(items)
        ):
            return read  # `neighbor ...` after `router bgp`, unindented
        mode = self.mode
        if mode is not None and (line.indented or mode.owns(items) >= _global_depth(items)):
            if not mode.knows(items):
                config.report(source, mode.unsupported(line.text).message, Severity.WARNING)
                # an unindented unknown line (`duplex auto`) keeps the mode open; an
                # indented body under it is its own
                self.ignoring = not line.indented
                return read
            try:
                mode.handle(words, source, line.text)
                self.ignoring = False
                return read
            except LineError as err:
                # As IOS does: if the line does not parse in the mode but is a global
                # command, it is the global command (`crypto map M 10 ipsec-isakmp`
                # after an interface's `crypto map M`).
                if (
                    line.indented
                    or err.severity is not Severity.ERROR
                    or _lookup(TOP_LEVEL, Words(line.text)) is None
                ):
                    config.report(source, err.message, err.severity)
                    return read
            words = Words(line.text)
            read.append(words)
        # A global command: on a router it leaves whatever sub-mode was open.
        self.mode, self.skipped, self.ignoring = None, None, True
        handler = _lookup(TOP_LEVEL, words)
        if handler is None:
            message = f"ignored: not supported: {redact(line.text)}{_hyphen_hint(items)}"
            config.report(source, message, Severity.WARNING)
            self.skipped = block_body(items)
            return read
        result = _run(config, source, lambda: handler(config, words, source, line.text))
        if isinstance(result, SubMode):
            self.mode, self.ignoring = result, False
        return read

    def exit(self) -> None:
        """`exit` leaves the open mode (or its nested level: a keyring's `peer`)."""
        if self.mode is not None and not self.mode.exit():
            self.ignoring = False
            return
        self.mode, self.skipped, self.ignoring = None, None, True


def _hyphen_hint(items: list[str]) -> str:
    """For `crypto-isakmp profile P` (as the spec prints it): the command it reads as
    with the hyphen a space. Only a hint: a router refuses the line, and so does this
    parser, with the block under it."""
    if not items or "-" not in items[0].strip("-"):
        return ""
    spaced = Words(" ".join([*items[0].split("-"), *items[1:]]))
    if _lookup(TOP_LEVEL, spaced) is None:
        return ""
    return f" (did you mean '{' '.join(spaced.items[: spaced.pos])}'?)"


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
