"""IKEv1 `crypto keyring NAME [vrf X]`: pre-shared keys by peer address or host name
(IKEv2's keyrings are `crypto ikev2 keyring`, engine/config/commands/crypto_ikev2.py)."""

from __future__ import annotations

from engine.config.commands.base import SubMode, description, secret
from engine.config.commands.crypto_isakmp import local_address, peer_network
from engine.config.diagnostics import Source
from engine.config.model import Config, IsakmpKeyring, IsakmpKeyringKey
from engine.config.words import Words


class IsakmpKeyringMode(SubMode):
    mode_name = "keyring mode"
    #: a keyring's body is keys: a line it cannot read shows none of its words (a key
    #: pasted without its keyword is a line of one word)
    shown_words = 0
    commands = {
        "pre-shared-key": "pre_shared_key",
        "local-address": "local_address",
        "description": "description",
    }

    def __init__(self, config: Config, keyring: IsakmpKeyring) -> None:
        super().__init__(config)
        self.keyring = keyring

    def pre_shared_key(self, words: Words, source: Source, text: str) -> None:
        """`pre-shared-key address A [MASK] key K` / `pre-shared-key hostname H key K`."""
        item = IsakmpKeyringKey(source)
        if words.keyword("address", "hostname") == "address":
            item.address = peer_network(words)
        else:
            item.hostname = words.hostname("peer host name")
        words.keyword("key")
        item.key = secret(words)
        words.end()
        self.keyring.keys.append(item)

    def local_address(self, words: Words, source: Source, text: str) -> None:
        self.keyring.local_address = (local_address(words), source)

    def description(self, words: Words, source: Source, text: str) -> None:
        self.keyring.description = description(words, text)


def keyring(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("keyring name")
    vrf = words.word("VRF name") if words.optional_keyword("vrf") else None
    words.end()
    item = config.isakmp_keyrings.setdefault(name, IsakmpKeyring(source, name))
    if vrf is not None:
        item.vrf, item.vrf_source = vrf, source
    return IsakmpKeyringMode(config, item)
