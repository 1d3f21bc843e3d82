"""Policy routing for transport-mode child SAs over the TUN device.

In tunnel mode the remote protected networks are routed into the TUN device. In
transport mode the packets to protect go to the peer's own address, and a plain route
for it would swallow the gateway's own IKE and ESP packets to that peer too. So the
peer's address is routed into the TUN device in a table of its own (TRANSPORT_TABLE),
reached by a rule for that address narrowed to the ACL's protocol when it names one
(`permit gre host A host B`: ipproto 47, which IKE and ESP never are). A child SA for
every protocol (`permit ip host A host B`) matches the gateway's own UDP and raw ESP
packets as well: those sockets carry the mark BYPASS_MARK (SO_MARK), and a rule of
higher priority sends marked packets to that peer through the main table.

The rule has no `iif lo`: the kernel's reverse-path check of a packet we write into the
TUN device (source: the peer) looks the peer up with the packet's protocol, finds the
device, and passes even with strict rp_filter (a device without an IPv4 address fails
any check that does not find it). For an any-protocol rule the same lookup sends the
peer's own IKE and ESP packets, arriving on the wire, to the device: strict
reverse-path filtering (rp_filter 1 on that interface or `all`) drops them; loose (2)
and none (0) pass. Packets this host forwards to the peer match too, and are dropped
(no SA has their source). Only rules and routes made here are ever removed, each when
its last child SA goes, all of them when the device closes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable

from pyroute2 import IPRoute

from engine.netlink import netlink, netlink_soon

#: the routing table holding the peers' addresses routed into the TUN device
TRANSPORT_TABLE = 4303
#: rule priorities: the gateway's own marked packets first, then the transport rules
BYPASS_PRIORITY = 4302
TRANSPORT_PRIORITY = 4303
#: SO_MARK of the gateway's sockets while a transport-mode rule for any protocol exists
BYPASS_MARK = 0x4303
MAIN_TABLE = 254

Key = tuple[str, str, int]  # (our address, peer's address, IP protocol or 0)


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _rule(key: Key) -> dict[str, object]:
    _, peer, protocol = key
    rule: dict[str, object] = {
        "family": _family(peer),
        "table": TRANSPORT_TABLE,
        "priority": TRANSPORT_PRIORITY,
        "dst": peer,
        "dst_len": ipaddress.ip_address(peer).max_prefixlen,
    }
    if protocol:
        rule["ip_proto"] = protocol
    return rule


def _bypass(peer: str) -> dict[str, object]:
    return {
        "family": _family(peer),
        "table": MAIN_TABLE,
        "priority": BYPASS_PRIORITY,
        "dst": peer,
        "dst_len": ipaddress.ip_address(peer).max_prefixlen,
        "fwmark": BYPASS_MARK,
    }


def _route(ours: str, peer: str, index: int) -> dict[str, object]:
    bits = ipaddress.ip_address(peer).max_prefixlen
    return {
        "dst": f"{peer}/{bits}",
        "oif": index,
        "table": TRANSPORT_TABLE,
        "prefsrc": ours,
        "family": _family(peer),
    }


class TransportRoutes:
    """Reference-counted rules and routes, one set per (our address, peer, protocol)."""

    def __init__(self, device: str, index: int, mark_sockets: Callable[[int], None]) -> None:
        self.device = device
        self.index = index
        self._mark_sockets = mark_sockets
        self._keys: dict[Key, int] = {}
        #: peers with a route in the table (several protocols share it)
        self._routes: dict[tuple[str, str], int] = {}
        #: peers with a bypass rule (an any-protocol key)
        self._bypass: dict[str, int] = {}

    @property
    def keys(self) -> frozenset[Key]:
        return frozenset(self._keys)

    def add(self, key: Key, on_error: Callable[[BaseException], None]) -> None:
        self._keys[key] = self._keys.get(key, 0) + 1
        if self._keys[key] > 1:
            return
        ours, peer, protocol = key
        steps: list[Callable[[IPRoute], object]] = []
        if not protocol:
            self._bypass[peer] = self._bypass.get(peer, 0) + 1
            if self._bypass[peer] == 1:
                self._mark_sockets(BYPASS_MARK)
                steps.append(lambda ipr: ipr.rule("add", **_bypass(peer)))
        self._routes[(ours, peer)] = self._routes.get((ours, peer), 0) + 1
        if self._routes[(ours, peer)] == 1:
            route = _route(ours, peer, self.index)
            steps.append(lambda ipr: ipr.route("replace", **route))
        steps.append(lambda ipr: ipr.rule("add", **_rule(key)))

        def apply(ipr: IPRoute) -> None:
            for step in steps:
                step(ipr)

        netlink_soon(apply, on_error)

    def remove(self, key: Key, on_error: Callable[[BaseException], None]) -> None:
        count = self._keys.get(key, 0) - 1
        if count > 0:
            self._keys[key] = count
            return
        if self._keys.pop(key, None) is None:
            return
        ops = self._undo(key)

        def apply(ipr: IPRoute) -> None:
            for kind, args in ops:
                getattr(ipr, kind)("del", **args)

        netlink_soon(apply, on_error)

    def _undo(self, key: Key) -> list[tuple[str, dict[str, object]]]:
        """What deletes `add`'s work for `key`, keeping what other keys still need. The
        bookkeeping stays on the caller's thread; the netlink thread only runs the ops."""
        ours, peer, protocol = key
        ops: list[tuple[str, dict[str, object]]] = [("rule", _rule(key))]
        left = self._routes.get((ours, peer), 0) - 1
        if left <= 0:
            self._routes.pop((ours, peer), None)
            ops.append(("route", _route(ours, peer, self.index)))
        else:
            self._routes[(ours, peer)] = left
        if not protocol:
            still = self._bypass.get(peer, 0) - 1
            if still <= 0:
                self._bypass.pop(peer, None)
                ops.append(("rule", _bypass(peer)))
            else:
                self._bypass[peer] = still
        return ops

    def close(self) -> None:
        """Remove everything still in place (waiting for it: the device is going)."""
        ops = [op for key in list(self._keys) for op in self._undo(key)]
        self._keys.clear()
        if not ops:
            return

        def remove_all(ipr: IPRoute) -> None:
            for kind, args in ops:
                with contextlib.suppress(Exception):
                    getattr(ipr, kind)("del", **args)

        netlink(remove_all)
