"""IOS exec output: `show crypto session [detail]` and `show crypto isakmp peer`.

Used by the CLI and the console alike, so that both print what a router would.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from engine.events import ChildAlgorithms, IkeAlgorithms
from engine.records import FlowRecord, IkeSaRecord, SessionRecord


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session with the IKE SA and flow records it names."""

    session: SessionRecord
    ike_sas: tuple[IkeSaRecord, ...]
    flows: tuple[FlowRecord, ...]


@dataclass(frozen=True, slots=True)
class PeerEntry:
    address: str
    port: int
    description: str
    flags: str


def selector_text(networks: tuple[str, ...]) -> str:
    """`10.1.1.0/255.255.255.0`, `host 10.1.1.4`, `any`, as the IOS flow lines write them."""
    parts = []
    for text in networks:
        net = ipaddress.ip_network(text)
        if net.prefixlen == 0:
            parts.append("any")
        elif net.prefixlen == net.max_prefixlen:
            parts.append(f"host {net.network_address}")
        else:
            parts.append(f"{net.network_address}/{net.netmask}")
    return ",".join(parts) or "any"


def flow_line(flow: FlowRecord) -> str:
    """IOS writes a protocol-narrowed flow by number: `permit 47 host A host B`."""
    protocol = str(flow.protocol) if flow.protocol else "ip"
    return f"permit {protocol} {selector_text(flow.local_ts)} {selector_text(flow.remote_ts)}"


def mode_line(flow: FlowRecord) -> str | None:
    """The newest child's mode as `show crypto ipsec sa` words it, and why it is not
    what policy asked for, when it is not."""
    child = flow.newest
    if child is None:
        return None
    line = f"in use settings ={{{child.algorithms.mode.capitalize()}, }}"
    if child.algorithms.mode_note:
        line += f" ({child.algorithms.mode_note})"
    return line


def hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def weak_text(algorithms: IkeAlgorithms | ChildAlgorithms | None) -> str:
    """`integrity sha1, DH group 2`: the weak algorithms an SA was negotiated with."""
    if algorithms is None:
        return ""
    parts = []
    for name in algorithms.weak:
        value = getattr(algorithms, name, None)
        label = "DH group" if name == "dh_group" else name
        parts.append(f"{label} {value}")
    return ", ".join(parts)


def _life(flow: FlowRecord, now: float) -> str:
    child = flow.newest
    if child is None:
        return "0/0"
    seconds = max(0, int(child.expires_at - now))
    if child.lifetime_kb is None:
        return f"0/{seconds}"
    used_kb = (child.counters.bytes_in + child.counters.bytes_out) // 1024
    return f"{max(0, child.lifetime_kb - used_kb)}/{seconds}"


def show_crypto_session(views: list[SessionView], *, detail: bool, now: float) -> str:
    out = ["Crypto session current status", ""]
    for view in views:
        s = view.session
        out.append(f"Interface: {s.interface or '(none)'}")
        if s.username:
            out.append(f"Username: {s.username}")
        if s.assigned_address:
            out.append(f"Assigned address: {s.assigned_address}")
        out.append(f"Session status: {s.status.value}")
        if detail:
            out.append(
                f"Peer: {s.remote_ip} port {s.remote_port} fvrf: {s.fvrf or '(none)'} "
                f"ivrf: {s.ivrf or '(none)'}"
            )
            if s.description:
                out.append(f"  Desc: {s.description}")
            if s.phase1_id:
                out.append(f"  Phase1_id: {s.phase1_id}")
        else:
            out.append(f"Peer: {s.remote_ip}/{s.remote_port}")
        for ike in view.ike_sas:
            state = "Active" if ike.state == "Active" else "Inactive"
            out.append(
                f"  IKE SA: local {ike.local[0]}/{ike.local[1]} "
                f"remote {ike.remote[0]}/{ike.remote[1]} {state}"
            )
            if detail:
                left = hms(ike.expires_at - now) if ike.expires_at else "0:00:00"
                out.append(
                    f"    Capabilities:{s.capabilities or '(none)'} "
                    f"connid:{ike.ike_sa_id} lifetime:{left}"
                )
                weak = weak_text(ike.algorithms)
                if weak:
                    out.append(f"    Weak algorithms: {weak}")
        for flow in view.flows:
            out.append(f"  IPSEC FLOW: {flow_line(flow)}")
            out.append(f"    Active SAs: {flow.active_sas}, origin: {flow.origin}")
            if detail:
                t = flow.totals
                life = _life(flow, now)
                out.append(
                    f"    Inbound:  #pkts dec'ed {t.packets_in} drop {t.drops_in} "
                    f"life (KB/Sec) {life}"
                )
                out.append(
                    f"    Outbound: #pkts enc'ed {t.packets_out} drop {t.drops_out} "
                    f"life (KB/Sec) {life}"
                )
                mode = mode_line(flow)
                if mode is not None:
                    out.append(f"    {mode}")
                weak = weak_text(flow.newest.algorithms if flow.newest else None)
                if weak:
                    out.append(f"    Weak algorithms: {weak}")
        out.append("")
    return "\n".join(out)


def show_isakmp_peers(peers: list[PeerEntry]) -> str:
    out = []
    for peer in peers:
        out.append(f"Peer: {peer.address} Port: {peer.port}")
        if peer.description:
            out.append(f"  Description: {peer.description}")
        out.append(f"  flags: {peer.flags}")
    return "\n".join(out) + ("\n" if out else "")
