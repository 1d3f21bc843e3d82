"""All installed child SA pairs of the gateway: SPI demultiplexing in, policy lookup out.

Fed from the IKE core's ChildSaInstalled / ChildSaDeleted events (see `install_event`),
polled once a second by the gateway for counters and lifetimes. Sans-IO: bytes and
`now` in, bytes (or a counted `Drop`) out; UDP encapsulation (RFC 3948) is the
transport's business, the table only remembers that a pair needs it.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from engine.crypto.dh import RandomBytes
from engine.crypto.keys import ChildKeys
from engine.esp.drops import Drop, DropReason
from engine.esp.sa import EspConfigError, InboundSa, Lifetime, OutboundSa
from engine.esp.selectors import (
    IPV4,
    IPV4_HEADER,
    IPV6,
    IPV6_HEADER,
    NetworkSet,
    SelectorIndex,
    parse_addresses,
    protocol,
)
from engine.events import ChildSaInstalled, Counters, EspTransforms

_SPI = struct.Struct(">I")
_MISS: Final = object()
#: outbound decisions remembered (a cleared cache costs one index lookup per flow)
FLOW_CACHE_SIZE = 65536


@dataclass(eq=False, slots=True)
class ChildSaPair:
    """One child SA: its inbound and outbound ESP SAs and the selectors they carry."""

    child_sa_id: int
    inbound: InboundSa
    outbound: OutboundSa
    local: NetworkSet
    remote: NetworkSet
    udp_encapsulation: bool
    installed_at: float
    #: a newer pair with the same selectors was installed (it rekeyed this one)
    superseded: bool = False
    #: the tunnel interface whose packets it carries ("" : chosen by selectors alone)
    interface: str = ""
    #: ESP transport mode: (IP version, peer's address, our address) as packed bytes,
    #: the header a received packet is rebuilt with; None in tunnel mode
    endpoints: tuple[int, bytes, bytes] | None = None
    #: the one IP protocol the selectors allow (0: any)
    protocol: int = 0

    @property
    def transport(self) -> bool:
        return self.endpoints is not None

    @property
    def counters(self) -> Counters:
        i, o = self.inbound, self.outbound
        return Counters(i.octets, i.packets, o.octets, o.packets, i.drops_total, o.drops_total)

    @property
    def last_used(self) -> float | None:
        used = [t for t in (self.inbound.last_used, self.outbound.last_used) if t is not None]
        return max(used, default=None)

    def needs_rekey(self, now: float, *, by_time: bool = True) -> bool:
        return self.inbound.needs_rekey(now, by_time=by_time) or self.outbound.needs_rekey(
            now, by_time=by_time
        )

    def expired(self, now: float) -> bool:
        return self.inbound.expired(now) or self.outbound.expired(now)


class SaTable:
    """Every child SA pair, by child SA id, by inbound SPI and by outbound selectors."""

    def __init__(
        self,
        random_bytes: RandomBytes = os.urandom,
        replay_window: int = 64,
        soft_fraction: float = 0.9,
    ) -> None:
        self._random_bytes = random_bytes
        self._replay_window = replay_window
        self._soft_fraction = soft_fraction
        self._pairs: dict[int, ChildSaPair] = {}
        #: inbound SPI -> (its SA, its pair): one lookup per received packet
        self._by_spi: dict[int, tuple[InboundSa, ChildSaPair]] = {}
        # one outbound index per tunnel interface ("": the crypto maps'): two tunnel
        # interfaces both carry 0.0.0.0/0, and the interface a packet came in by decides
        self._index: dict[str, SelectorIndex[ChildSaPair]] = {"": SelectorIndex()}
        # pairs carrying the same selectors on one interface, oldest first: all but the
        # last are superseded
        self._by_selectors: dict[tuple[str, NetworkSet, NetworkSet, int], list[ChildSaPair]] = {}
        #: child SA id -> a pair receiving but not yet sending (see `stage`)
        self._staged: dict[int, ChildSaPair] = {}
        self._drops: Counter[DropReason] = Counter()
        # outbound decisions per interface by source and destination address bytes;
        # emptied whenever the set of pairs changes, bounded so a scan of many addresses
        # cannot grow it
        self._flows: dict[str, dict[bytes, ChildSaPair | None]] = {"": {}}
        #: pairs whose selectors name an IP protocol: the flow cache keys on it then
        self._with_protocol = 0

    def set_replay_window(self, size: int) -> None:
        """For SAs installed from now on (a configuration reload); live SAs keep theirs."""
        self._replay_window = size

    def __len__(self) -> int:
        return len(self._pairs)

    def __contains__(self, child_sa_id: object) -> bool:
        return child_sa_id in self._pairs

    def get(self, child_sa_id: int) -> ChildSaPair | None:
        return self._pairs.get(child_sa_id)

    def install(
        self,
        child_sa_id: int,
        spi_in: int,
        spi_out: int,
        *,
        transforms: EspTransforms,
        keys: ChildKeys,
        initiator: bool,
        local_ts: Iterable[str],
        remote_ts: Iterable[str],
        now: float,
        lifetime_s: float | None = None,
        lifetime_kb: int | None = None,
        udp_encapsulation: bool = False,
        protocol: int = 0,
        interface: str = "",
    ) -> ChildSaPair:
        """Add a child SA pair. `initiator`: we initiated the exchange that created it, so
        we send with the `_i` keys (initiator to responder) and receive with `_r`.
        `transforms.transport`: transport mode, whose selectors must be one address on
        each side (the peers themselves). `protocol`: the one IP protocol the selectors
        allow (0: any). A pair `stage`d with the same SPIs is completed, keeping what it
        has received. Raises EspConfigError for bad keys, a duplicate id or SPI, or
        transport-mode selectors that are not two hosts."""
        if child_sa_id in self._pairs:
            raise EspConfigError(f"child SA {child_sa_id} is already installed")
        staged = self._staged.pop(child_sa_id, None)
        if staged is not None:
            if (staged.inbound.spi, staged.outbound.spi) == (spi_in, spi_out):
                staged.interface = interface
                return self._activate(staged)
            del self._by_spi[staged.inbound.spi]
        pair = self._build(
            child_sa_id, spi_in, spi_out, transforms, keys, initiator, local_ts, remote_ts,
            now, lifetime_s, lifetime_kb, udp_encapsulation, protocol, interface,
        )  # fmt: skip
        return self._activate(pair)

    def stage(self, event: ChildSaInstalled) -> ChildSaPair:
        """The inbound half only of the pair `event` will install (an IKEv1 quick mode's
        responder between QM2 and QM3, InboundSaStaged): packets on its SPI are received,
        nothing is sent on it, and it is not among the pairs (counters, lifetimes) until
        `install` completes it or `remove` drops it. Raises as `install` does."""
        if event.child_sa_id in self._pairs or event.child_sa_id in self._staged:
            raise EspConfigError(f"child SA {event.child_sa_id} is already installed")
        pair = self._build(**_arguments(event, None))
        self._staged[event.child_sa_id] = pair
        return pair

    def staged_before(self, before: float) -> list[int]:
        """Staged pairs older than `before`: their QM3 is not coming."""
        return [child for child, pair in self._staged.items() if pair.installed_at < before]

    def _build(
        self,
        child_sa_id: int,
        spi_in: int,
        spi_out: int,
        transforms: EspTransforms,
        keys: ChildKeys,
        initiator: bool,
        local_ts: Iterable[str],
        remote_ts: Iterable[str],
        now: float,
        lifetime_s: float | None,
        lifetime_kb: int | None,
        udp_encapsulation: bool,
        protocol: int,
        interface: str,
    ) -> ChildSaPair:
        """A pair receiving on `spi_in` (in the SPI index), not yet sending."""
        if spi_in in self._by_spi:
            raise EspConfigError(f"inbound SPI 0x{spi_in:08x} is already in use")
        encr, integ, esn = transforms.encryption, transforms.integrity, transforms.esn
        if initiator:
            out_keys, in_keys = (keys.encr_i, keys.integ_i), (keys.encr_r, keys.integ_r)
        else:
            out_keys, in_keys = (keys.encr_r, keys.integ_r), (keys.encr_i, keys.integ_i)
        lifetime = Lifetime(lifetime_s, lifetime_kb, self._soft_fraction)
        local, remote = NetworkSet(local_ts), NetworkSet(remote_ts)
        endpoints = _endpoints(local, remote) if transforms.transport else None
        inbound = InboundSa(
            spi_in,
            encr,
            integ,
            *in_keys,
            esn=esn,
            replay_window=self._replay_window,
            lifetime=lifetime,
            now=now,
            selectors=(local, remote),
        )
        outbound = OutboundSa(
            spi_out,
            encr,
            integ,
            *out_keys,
            esn=esn,
            lifetime=lifetime,
            now=now,
            random_bytes=self._random_bytes,
        )
        pair = ChildSaPair(
            child_sa_id,
            inbound,
            outbound,
            local,
            remote,
            udp_encapsulation,
            now,
            interface=interface,
            endpoints=endpoints,
            protocol=protocol,
        )
        self._by_spi[spi_in] = (inbound, pair)
        return pair

    def _activate(self, pair: ChildSaPair) -> ChildSaPair:
        """Make a built pair one of the pairs, and the one its selectors send on."""
        interface, local, remote, protocol = pair.interface, pair.local, pair.remote, pair.protocol
        same = self._by_selectors.setdefault((interface, local, remote, protocol), [])
        if same:
            # all but the last are superseded already: one more, not a scan of them all
            same[-1].superseded = True
        same.append(pair)
        self._pairs[pair.child_sa_id] = pair
        self._index.setdefault(interface, SelectorIndex()).add(local, remote, pair, protocol)
        self._with_protocol += bool(protocol)
        self._flows.setdefault(interface, {}).clear()
        return pair

    def install_event(self, event: ChildSaInstalled, interface: str | None = None) -> ChildSaPair:
        """`install` from the IKE core's event: how the data plane installs every SA;
        `interface` overrides the event's (a virtual template's child: its access)."""
        return self.install(**_arguments(event, interface))

    def remove(self, child_sa_id: int) -> ChildSaPair | None:
        """Forget a pair (deleted or expired); its last counters stay readable on it."""
        staged = self._staged.pop(child_sa_id, None)
        if staged is not None:
            del self._by_spi[staged.inbound.spi]
            return staged
        pair = self._pairs.pop(child_sa_id, None)
        if pair is None:
            return None
        self._by_spi.pop(pair.inbound.spi, None)
        self._index[pair.interface].remove(pair)
        self._with_protocol -= bool(pair.protocol)
        self._flows[pair.interface].clear()
        key = (pair.interface, pair.local, pair.remote, pair.protocol)
        same = self._by_selectors[key]
        same.remove(pair)
        if same:
            # e.g. the newer pair lost a rekey collision: the older one is current again
            same[-1].superseded = False
        else:
            del self._by_selectors[key]
        return pair

    def inbound(self, esp_packet: bytes, now: float) -> tuple[bytes, int] | Drop:
        """(inner IP packet, child SA id), or the counted reason it was dropped."""
        if len(esp_packet) < 8:
            return self._drop(DropReason.MALFORMED)
        spi = _SPI.unpack_from(esp_packet)[0]
        entry = self._by_spi.get(spi)
        if entry is None:
            return self._drop(DropReason.UNKNOWN_SPI, spi=spi)
        sa, pair = entry
        if pair.endpoints is not None:
            inner = sa.decapsulate_transport(esp_packet, now, pair.endpoints, pair.protocol)
        else:
            inner = sa.decapsulate(esp_packet, now)
        if inner.__class__ is DropReason:
            return self._drop(inner, pair.child_sa_id, spi)  # type: ignore[arg-type]
        return inner, pair.child_sa_id  # type: ignore[return-value]

    def outbound(
        self, inner_packet: bytes, now: float, interface: str = ""
    ) -> tuple[bytes, int] | Drop | None:
        """(ESP packet, child SA id) from the newest pair of `interface` whose selectors
        cover the packet; None when none does (not ours to protect); a Drop when the
        packet is not IP or the chosen SA refused it (expired, sequence numbers used up)."""
        # the flow cache: addresses as they sit in the header -> pair (or None)
        size = len(inner_packet)
        version = inner_packet[0] >> 4 if size else 0
        if version == IPV4 and size >= IPV4_HEADER:
            key = inner_packet[12:20]
            if self._with_protocol:
                key += inner_packet[9:10]
        elif version == IPV6 and size >= IPV6_HEADER:
            key = inner_packet[8:40]
            if self._with_protocol:
                key += inner_packet[6:7]
        else:
            return self._drop(DropReason.MALFORMED)
        flows = self._flows.get(interface)
        if flows is None:
            return None  # no SA was ever installed for that interface
        pair = flows.get(key, _MISS)
        if pair is _MISS:
            pair = self._lookup(inner_packet, interface)
            if len(flows) >= FLOW_CACHE_SIZE:
                flows.clear()
            flows[key] = pair
        if pair is None:
            return None
        sa = pair.outbound
        if pair.endpoints is not None:
            esp = sa.encapsulate_transport(inner_packet, now)
        else:
            esp = sa.encapsulate(inner_packet, now)
        if esp.__class__ is DropReason:
            return self._drop(esp, pair.child_sa_id, sa.spi)  # type: ignore[arg-type]
        return esp, pair.child_sa_id  # type: ignore[return-value]

    def lookup_outbound(self, inner_packet: bytes, interface: str = "") -> OutboundSa | None:
        """The SA `outbound` would protect this packet with: the newest pair whose remote
        selectors hold the destination (longest prefix first) and local ones the source.
        None when the packet is not IP or no pair covers it."""
        pair = self._lookup(inner_packet, interface)
        return None if pair is None else pair.outbound

    def _lookup(self, packet: bytes, interface: str) -> ChildSaPair | None:
        addresses = parse_addresses(packet)
        index = self._index.get(interface)
        if addresses is None or index is None:
            return None
        return index.lookup(*addresses, protocol(packet) or 0)

    def counters(self, child_sa_id: int) -> Counters:
        """Traffic of one installed pair; KeyError if it is not installed."""
        return self._pairs[child_sa_id].counters

    def all_counters(self) -> dict[int, Counters]:
        """Every installed pair's counters, for the once-a-second poll."""
        return {child_sa_id: pair.counters for child_sa_id, pair in self._pairs.items()}

    def last_used(self, child_sa_id: int) -> float | None:
        return self._pairs[child_sa_id].last_used

    def drop_counts(self) -> Counter[DropReason]:
        """Every drop since the table was made, by reason (removed SAs' drops included)."""
        return Counter(self._drops)

    def rekey_due(self, now: float, *, by_time: bool = True) -> list[int]:
        """Pairs past a soft limit (time, bytes or sequence numbers), not yet replaced by a
        newer pair for the same selectors and not past a hard limit. Level-triggered: a
        pair stays listed until its replacement is installed. `by_time=False` for a caller
        beside an IKE core, which rekeys by time on its own schedule: bytes and sequence
        numbers only the data plane sees."""
        return [
            child_sa_id
            for child_sa_id, pair in self._pairs.items()
            if not pair.superseded
            and not pair.expired(now)
            and pair.needs_rekey(now, by_time=by_time)
        ]

    def expired(self, now: float) -> list[int]:
        """Pairs past a hard limit: they drop everything and should be deleted."""
        return [child_sa_id for child_sa_id, pair in self._pairs.items() if pair.expired(now)]

    def _drop(
        self, reason: DropReason, child_sa_id: int | None = None, spi: int | None = None
    ) -> Drop:
        self._drops[reason] += 1
        return Drop(reason, child_sa_id, spi)


def _endpoints(local: NetworkSet, remote: NetworkSet) -> tuple[int, bytes, bytes]:
    """A transport-mode pair's (IP version, peer's address, our address), packed."""
    nets = (remote.networks, local.networks)
    if any(len(n) != 1 or n[0].num_addresses != 1 for n in nets):
        raise EspConfigError("transport mode needs one host address on each side")
    peer, ours = remote.networks[0], local.networks[0]
    if peer.version != ours.version:
        raise EspConfigError("transport mode selectors of two IP versions")
    return peer.version, peer.network_address.packed, ours.network_address.packed


def _arguments(event: ChildSaInstalled, interface: str | None) -> dict[str, Any]:
    """`install`'s arguments from the IKE core's event."""
    return {
        "child_sa_id": event.child_sa_id,
        "spi_in": event.spi_in,
        "spi_out": event.spi_out,
        "transforms": event.transforms,
        "keys": event.keys,
        "initiator": event.initiator,
        "local_ts": event.traffic_selectors.local,
        "remote_ts": event.traffic_selectors.remote,
        "now": event.at,
        "lifetime_s": event.lifetime,
        "lifetime_kb": event.lifetime_kb,
        "udp_encapsulation": event.udp_encapsulation,
        "protocol": event.traffic_selectors.protocol,
        "interface": event.interface if interface is None else interface,
    }
