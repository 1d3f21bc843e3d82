"""Which mode a line belongs to when the file has lost its indentation.

On a router a global command typed in a sub-mode leaves the sub-mode and runs as a
global command; a sub-command stays. A pasted configuration without indentation
(or written with `!` separators only) can only be read the same way if the parser
knows which words open global commands and which of those words a mode also uses
for its own sub-commands (`ip address` in an interface, `ip route` not).

The tables here are that knowledge, in IOS vocabulary:

- `GLOBAL_COMMANDS`: IOS global commands, beyond the ones the gateway reads
  (engine/config/parser.py `TOP_LEVEL` counts as global too);
- `IOS_BLOCKS`: those of them that open a sub-mode the gateway does not read; the
  lines after one that are not global commands are its body, skipped with it;
- `SUB_COMMANDS`: per mode (by its `mode_name`), the IOS sub-commands that begin like
  a global command. A mode's own `commands` count as well, so a new mode needs an
  entry here only for such sub-commands.

A line is global when the global tables match more of its words than the mode's
table does (`ip nat inside` is the interface's, `ip nat inside source` global); a
line neither knows stays in the open mode (`duplex auto`, `no ip route-cache`).
IOS words are matched whole; the gateway's own keywords may be abbreviated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.config.words import match_keyword

#: IOS global commands (first words, or first words and sub-keywords)
GLOBAL_COMMANDS: tuple[str, ...] = (
    "access-session",
    "alias",
    "arp",
    "banner",
    "boot",
    "boot-end-marker",
    "boot-start-marker",
    "bfd",
    "call",
    "card",
    "cdp",
    "clock",
    "cts",
    "device-tracking",
    "diagnostic",
    "dot1x",
    "enable",
    "errdisable",
    "exception",
    "file",
    "hw-module",
    "ip",
    "ip nat inside source",
    "ip nat outside source",
    "ipv6",
    "key config-key",
    "license",
    "lldp",
    "login",
    "mac",
    "mac-address-table",
    "memory",
    "mgcp",
    "mpls",
    "multilink",
    "netconf-yang",
    "ntp",
    "platform",
    "port-channel",
    "privilege",
    "process",
    "restconf",
    "scheduler",
    "service",
    "snmp",
    "snmp-server",
    "spanning-tree",
    "spanning-tree portfast bpdufilter",
    "spanning-tree portfast bpduguard",
    "spanning-tree portfast default",
    "spanning-tree portfast edge bpdufilter",
    "spanning-tree portfast edge bpduguard",
    "spanning-tree portfast edge default",
    "subscriber",
    "system",
    "tacacs-server",
    "telemetry",
    "transceiver",
    "udld",
    "version",
    "voice",
    "vtp",
)

#: IOS global commands that open a sub-mode -> its sub-commands that begin like a
#: global command (the rest of its body is recognised by not being global)
IOS_BLOCKS: dict[str, tuple[str, ...]] = {
    "aaa group server tacacs+": ("ip tacacs", "ip vrf forwarding"),
    "aaa group server ldap": (),
    "archive": ("logging enable", "logging size"),
    "bba-group": (),
    "call-home": (),
    "class-map": (),
    "control-plane": (),
    "controller": (),
    "crypto ca": (),
    "crypto ikev2 authorization": (),
    "crypto ikev2 client": (),
    "crypto ikev2 cluster": (),
    "crypto ipsec client": (),
    "crypto pki": ("vrf",),
    "dial-peer": (),
    "event manager applet": ("event",),
    "flow exporter": (),
    "flow monitor": (),
    "flow record": (),
    "gatekeeper": (),
    "gateway": (),
    "ip access-list": (),
    "ip dhcp pool": (),
    "ip sla": ("vrf",),
    "ipv6 access-list": (),
    "ipv6 dhcp pool": (),
    "ipv6 router": (),
    "key chain": (),
    "line": ("ipv6 access-class", "logging synchronous", "login", "privilege level"),
    "object-group": (),
    "parameter-map": (),
    "policy-map": (),
    "radius server": (),
    "redundancy": (),
    "route-map": (),
    "router": ("bfd", "mpls ldp"),
    "sip-ua": (),
    "tacacs server": (),
    "telephony-service": (),
    "template": (),
    "track": (),
    "vlan": (),
    "voice class": (),
    "voice service": (),
    "voice translation-rule": (),
    "zone security": (),
    "zone-pair": (),
}

#: mode name -> the IOS sub-commands of that mode that begin like a global command
SUB_COMMANDS: dict[str, tuple[str, ...]] = {
    "interface mode": (
        "arp timeout",
        "bfd echo",
        "bfd interval",
        "cdp enable",
        "cdp tlv",
        "crypto ipsec client",
        "crypto ipsec df-bit",
        "crypto ipsec fragmentation",
        "crypto map",
        "dot1x pae",
        "dot1x timeout",
        "ip access-group",
        "ip accounting",
        "ip address",
        "ip arp inspection limit",
        "ip arp inspection trust",
        "ip authentication",
        "ip bandwidth-percent",
        "ip dhcp client",
        "ip dhcp relay",
        "ip dhcp snooping limit",
        "ip dhcp snooping trust",
        "ip directed-broadcast",
        "ip flow",
        "ip hello-interval",
        "ip helper-address",
        "ip hold-time",
        "ip igmp join-group",
        "ip igmp query-interval",
        "ip igmp static-group",
        "ip igmp version",
        "ip information-reply",
        "ip load-sharing",
        "ip local-proxy-arp",
        "ip mask-reply",
        "ip mroute-cache",
        "ip mtu",
        "ip multicast boundary",
        "ip nat enable",
        "ip nat inside",
        "ip nat outside",
        "ip nbar protocol-discovery",
        "ip nhrp",
        "ip ospf",
        "ip pim bsr-border",
        "ip pim dense-mode",
        "ip pim dr-priority",
        "ip pim passive",
        "ip pim sparse-dense-mode",
        "ip pim sparse-mode",
        "ip policy",
        "ip proxy-arp",
        "ip redirects",
        "ip rip",
        "ip route-cache",
        "ip split-horizon",
        "ip summary-address",
        "ip tcp adjust-mss",
        "ip tcp header-compression",
        "ip unnumbered",
        "ip unreachables",
        "ip verify",
        "ip virtual-reassembly",
        "ip virtual-reassembly-out",
        "ip vrf forwarding",
        "ipv6 address",
        "ipv6 dhcp client",
        "ipv6 dhcp relay",
        "ipv6 dhcp server",
        "ipv6 eigrp",
        "ipv6 enable",
        "ipv6 mtu",
        "ipv6 nd",
        "ipv6 nhrp",
        "ipv6 ospf",
        "ipv6 policy",
        "ipv6 redirects",
        "ipv6 rip",
        "ipv6 tcp adjust-mss",
        "ipv6 traffic-filter",
        "ipv6 unnumbered",
        "ipv6 unreachables",
        "ipv6 verify",
        "ipv6 virtual-reassembly",
        "lldp receive",
        "lldp transmit",
        "logging event",
        "mpls bgp",
        "mpls ip",
        "mpls mtu",
        "ntp broadcast",
        "ntp disable",
        "ntp multicast",
        "service instance",
        "snmp trap",
        "spanning-tree bpdufilter",
        "spanning-tree bpduguard",
        "spanning-tree cost",
        "spanning-tree guard",
        "spanning-tree link-type",
        "spanning-tree port-priority",
        "spanning-tree portfast",
        "vrf forwarding",
    ),
    "ikev2 profile mode": (
        "aaa accounting anyconnect-eap",
        "aaa accounting cert",
        "aaa accounting eap",
        "aaa accounting psk",
        "aaa authentication anyconnect-eap",
        "aaa authentication eap",
        "aaa authorization group",
        "aaa authorization user",
    ),
    "ikev2 keyring mode": ("hostname",),
    "server group mode": ("ip radius", "ip vrf forwarding"),
}

#: words before a command that undo or reset it; the command decides the mode
NEGATIONS = ("no", "default")


class Paths:
    """Command paths (`ip nat inside`) as a keyword tree: how many words of a line match."""

    def __init__(self, paths: Iterable[str], abbreviated: bool) -> None:
        self.tree: dict[str, dict] = {}
        self.abbreviated = abbreviated
        for path in paths:
            node = self.tree
            for word in path.split():
                node = node.setdefault(word, {})
            node[""] = {}  # a whole command ends here

    def depth(self, words: Sequence[str]) -> int:
        """The length of the longest whole path the line begins with; 0 for none."""
        node, best = self.tree, 0
        for count, word in enumerate(words, start=1):
            if self.abbreviated:
                key = match_keyword(word, (k for k in node if k))
            else:
                key = word.lower() if word.lower() in node and word else None
            if key is None:
                break
            node = node[key]
            if "" in node:
                best = count
        return best


def command_words(words: Sequence[str]) -> Sequence[str]:
    """The words that say which command a line is: without a leading `no` / `default`."""
    if len(words) > 1 and words[0].lower() in NEGATIONS:
        return words[1:]
    return words


IOS_GLOBAL = Paths((*GLOBAL_COMMANDS, *IOS_BLOCKS), abbreviated=False)
BLOCK_OPENERS = Paths(IOS_BLOCKS, abbreviated=False)
BLOCK_BODIES = {opener: Paths(owned, abbreviated=False) for opener, owned in IOS_BLOCKS.items()}


def block_body(words: Sequence[str]) -> Paths | None:
    """For an IOS command that opens a sub-mode: the sub-commands of its body that look global."""
    depth = BLOCK_OPENERS.depth(words)
    if not depth or words[0].lower() in NEGATIONS:
        return None
    return BLOCK_BODIES[" ".join(word.lower() for word in words[:depth])]
