"""`crypto ipsec client ezvpn NAME`: an Easy VPN remote, the client side of IKEv1 remote
access (group name and key, the server, the XAUTH user it answers with)."""

from __future__ import annotations

from engine.config.commands.base import SubMode, secret
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, EzvpnClient
from engine.config.words import Words


class EzvpnMode(SubMode):
    mode_name = "ezvpn client mode"
    commands = {
        "connect": "connect",
        "group": "group",
        "peer": "peer",
        "mode": "mode",
        "username": "username",
        "xauth": "xauth",
    }

    def __init__(self, config: Config, client: EzvpnClient) -> None:
        super().__init__(config)
        self.client = client

    def connect(self, words: Words, source: Source, text: str) -> None:
        self.client.connect = words.keyword("auto", "manual", "acl")
        words.skip()

    def group(self, words: Words, source: Source, text: str) -> None:
        self.client.group = words.word("group name")
        words.keyword("key")
        self.client.key = secret(words)
        words.end()

    def peer(self, words: Words, source: Source, text: str) -> None:
        address = words.address("server address")
        words.skip()
        self.client.peers.append((address, source))  # type: ignore[arg-type]

    def mode(self, words: Words, source: Source, text: str) -> None:
        mode = words.keyword("client", "network-extension", "network-plus")
        words.end()
        if mode != "client":
            raise LineError(
                f"mode {mode} is not run: this client asks for an address (mode client)",
                Severity.WARNING,
            )
        self.client.mode = mode

    def username(self, words: Words, source: Source, text: str) -> None:
        self.client.username = words.word("user name")
        words.keyword("password")
        self.client.password = secret(words)
        words.end()

    def xauth(self, words: Words, source: Source, text: str) -> None:
        words.keyword("userid")
        words.keyword("mode")
        mode = words.keyword("local", "interactive", "http-intercept")
        words.end()
        if mode != "local":
            raise LineError(
                f"xauth userid mode {mode} is not run: the user and password of this "
                "client's `username` line answer XAUTH",
                Severity.WARNING,
            )
        self.client.xauth_mode = mode


def ezvpn(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("ezvpn name")
    words.end()
    client = config.ezvpn_clients.setdefault(name, EzvpnClient(source, name))
    return EzvpnMode(config, client)
