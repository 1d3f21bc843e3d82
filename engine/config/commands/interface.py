"""`interface NAME` and VRF definitions."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import SubMode, description
from engine.config.diagnostics import LineError, Source
from engine.config.model import Config, Interface
from engine.config.words import Words


class InterfaceMode(SubMode):
    mode_name = "interface mode"
    commands = {"description": "description", "ip": "ip", "vrf": "vrf", "crypto": "crypto"}
    second_words = {"ip": ("address", "vrf"), "vrf": ("forwarding",), "crypto": ("map",)}

    def __init__(self, config: Config, item: Interface) -> None:
        super().__init__(config)
        self.item = item

    def description(self, words: Words, source: Source, text: str) -> None:
        self.item.description = description(words, text)

    def ip(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("address", "vrf")
        if what == "vrf":
            words.keyword("forwarding")
            name = words.word("VRF name")
            words.end()
            self.item.vrf, self.item.vrf_source = name, source
            return
        address = words.address("interface address")
        mask = words.mask()
        words.optional_keyword("secondary")
        words.end()
        try:
            self.item.address = ipaddress.IPv4Interface(f"{address}/{mask}")
        except ValueError as err:
            raise LineError(str(err)) from None

    def vrf(self, words: Words, source: Source, text: str) -> None:
        words.keyword("forwarding")
        name = words.word("VRF name")
        words.end()
        self.item.vrf, self.item.vrf_source = name, source

    def crypto(self, words: Words, source: Source, text: str) -> None:
        words.keyword("map")
        name = words.word("crypto map name")
        if words.optional_keyword("redundancy"):
            words.skip()
        words.end()
        self.item.crypto_map = (name, source)


def interface(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = "".join(words.rest("interface name"))
    if not name:
        raise LineError("missing interface name")
    item = config.interfaces.setdefault(name, Interface(source, name))
    return InterfaceMode(config, item)


class VrfMode(SubMode):
    """`ip vrf` / `vrf definition` bodies (rd, route-target ...) are accepted and unused."""

    mode_name = "vrf mode"
    commands = {
        "rd": "skip",
        "route-target": "skip",
        "address-family": "address_family",
        "exit-address-family": "exit_address_family",
        "description": "skip",
    }

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        #: in an `address-family` of the VRF, which `exit` leaves first
        self.family = False

    def skip(self, words: Words, source: Source, text: str) -> None:
        words.skip()

    def address_family(self, words: Words, source: Source, text: str) -> None:
        words.skip()
        self.family = True

    def exit_address_family(self, words: Words, source: Source, text: str) -> None:
        words.skip()
        self.family = False

    def exit(self) -> bool:
        if self.family:
            self.family = False
            return False
        return True


def ip_vrf(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("VRF name")
    words.end()
    config.vrfs.setdefault(name, source)
    return VrfMode(config)


def vrf_definition(config: Config, words: Words, source: Source, text: str) -> SubMode:
    return ip_vrf(config, words, source, text)
