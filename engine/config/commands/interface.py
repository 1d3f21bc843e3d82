"""`interface NAME` (physical, loopback and tunnel interfaces) and VRF definitions."""

from __future__ import annotations

import ipaddress

from engine.config.commands.base import SubMode, description
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, Interface
from engine.config.words import Words
from engine.redaction import redact

#: the interface types this gateway makes itself, whose abbreviations (`Tu1`) and case
#: (`tunnel 1`) are folded; other names stay as written: they may be Linux names (eth0)
TUNNEL_TYPES = ("Tunnel", "Virtual-Template", "Virtual-Access")
TUNNEL_MODES = ("ipsec ipv4", "gre ip")


def interface_name(words: list[str]) -> str:
    """`tunnel 1`, `Tu1`, `tunnel1` -> `Tunnel1`: one spelling for references between lines
    (`ip route ... Tu1`)."""
    name = "".join(words)
    cut = len(name) - len(name.lstrip("-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    kind, number = name[:cut], name[cut:]
    if not kind or not number:
        return name
    matches = [t for t in TUNNEL_TYPES if t.lower().startswith(kind.lower())]
    exact = [t for t in matches if t.lower() == kind.lower()]
    if exact or len(matches) == 1:
        return (exact or matches)[0] + number
    return name


class InterfaceMode(SubMode):
    mode_name = "interface mode"
    commands = {
        "description": "description",
        "ip": "ip",
        "vrf": "vrf",
        "crypto": "crypto",
        "tunnel": "tunnel",
        "shutdown": "shutdown",
        "no": "no",
    }
    second_words = {
        "ip": ("address", "vrf", "unnumbered", "mtu", "tcp"),
        "vrf": ("forwarding",),
        "crypto": ("map", "ipsec"),
        "no": ("shutdown", "ip"),
    }

    def __init__(self, config: Config, item: Interface) -> None:
        super().__init__(config)
        self.item = item

    def description(self, words: Words, source: Source, text: str) -> None:
        self.item.description = description(words, text)

    def ip(self, words: Words, source: Source, text: str) -> None:
        what = words.keyword("address", "vrf", "unnumbered", "mtu", "tcp")
        if what == "vrf":
            words.keyword("forwarding")
            name = words.word("VRF name")
            words.end()
            self.item.vrf, self.item.vrf_source = name, source
            return
        if what == "unnumbered":
            self.item.unnumbered = interface_name(words.rest("interface name"))
            if not self.item.unnumbered:
                raise LineError("missing interface name")
            return
        if what == "mtu":
            self.item.mtu = words.number("ip mtu", 68, 9216)
            words.end()
            self.item.link_settings.append((f"ip mtu {self.item.mtu}", source))
            return
        if what == "tcp":
            words.keyword("adjust-mss")
            self.item.adjust_mss = words.number("adjust-mss", 500, 1460)
            words.end()
            self.item.link_settings.append((f"ip tcp adjust-mss {self.item.adjust_mss}", source))
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
        if words.keyword("map", "ipsec") == "ipsec":
            # `crypto ipsec client ezvpn NAME [outside|inside]`: an Easy VPN remote
            if words.optional_keyword("client") is None:
                raise LineError(
                    f"ignored: not supported in {self.mode_name}: {redact(text)}",
                    Severity.WARNING,
                )
            words.keyword("ezvpn")
            name = words.word("ezvpn name")
            side = words.optional_keyword("outside", "inside") or "outside"
            words.end()
            if side == "outside":
                self.item.ezvpn = (name, source)
            return
        name = words.word("crypto map name")
        if words.optional_keyword("redundancy"):
            words.skip()
        words.end()
        self.item.crypto_map = (name, source)

    def shutdown(self, words: Words, source: Source, text: str) -> None:
        words.end()
        self.item.shutdown = True

    def no(self, words: Words, source: Source, text: str) -> None:
        """`no shutdown`, `no ip address`; other `no` forms change nothing here."""
        if words.optional_keyword("shutdown"):
            words.end()
            self.item.shutdown = False
            return
        following = words.items[words.pos + 1 : words.pos + 2]
        if words.peek() == "ip" and following in (["address"], ["unnumbered"]):
            words.skip()
            self.item.address, self.item.unnumbered = None, None
            return
        raise LineError(
            f"ignored: not supported in interface mode: {redact(text)}", Severity.WARNING
        )

    def tunnel(self, words: Words, source: Source, text: str) -> None:
        if not self.item.is_tunnel:
            raise LineError(f"tunnel commands need a tunnel interface, not {self.item.name}")
        what = words.keyword("source", "destination", "mode", "protection")
        item = self.item
        if what == "source":
            value = words.rest("tunnel source")
            if not value:
                raise LineError("missing tunnel source (an interface or an address)")
            try:
                item.tunnel_source = (str(ipaddress.IPv4Address(value[0])), source)
            except ValueError:
                item.tunnel_source = (interface_name(value), source)
            return
        if what == "destination":
            address = words.address("tunnel destination")
            words.end()
            if not isinstance(address, ipaddress.IPv4Address):
                raise LineError("tunnel destination must be an IPv4 address here")
            item.tunnel_destination = (address, source)
            return
        if what == "mode":
            mode = " ".join(words.rest("tunnel mode")).lower()
            if mode not in TUNNEL_MODES:
                raise LineError(
                    f"tunnel mode {mode or '(none)'} is not supported "
                    f"(modes: {', '.join(TUNNEL_MODES)})"
                )
            item.tunnel_mode = (mode, source)
            return
        words.keyword("ipsec")
        words.keyword("profile")
        item.tunnel_protection = (words.word("ipsec profile name"), source)
        words.optional_keyword("shared")
        words.end()


def interface(config: Config, words: Words, source: Source, text: str) -> SubMode:
    parts = words.rest("interface name")
    template = len(parts) > 2 and [p.lower() for p in parts[-2:]] == ["type", "tunnel"]
    if template:
        parts = parts[:-2]
    name = interface_name(parts)
    if not name:
        raise LineError("missing interface name")
    item = config.interfaces.setdefault(name, Interface(source, name))
    if template:
        if not name.startswith("Virtual-Template"):
            raise LineError("type tunnel is for Virtual-Template interfaces")
        item.virtual_template = True
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
