"""`aaa accounting network` lists resolved to servers with their keys, and the peers'
profile names (isakmp-group-id)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.accounting.servers import ServerConfig
from engine.config.compile import CompiledConfig
from engine.config.model import Config, RadiusServer
from engine.secret import Secret


@dataclass(frozen=True, slots=True)
class ListPlan:
    """An `aaa accounting network` list resolved to servers with their keys."""

    name: str
    mode: str
    broadcast: bool
    group: str
    servers: tuple[ServerConfig, ...]


def resolve_key(server: RadiusServer, model: Config) -> Secret | None:
    """IOS order: the server's own key, the `radius-server host` entry for the same
    address and port, then `radius-server key`."""
    if server.key:
        return server.key
    for host in model.radius_servers:
        if host.address == server.address and host.acct_port == server.acct_port and host.key:
            return host.key
    return model.radius.key or None


def profile_names(model: Config, compiled: CompiledConfig) -> dict[str, str]:
    """Peer name -> the ikev2 profile of its crypto map entry (isakmp-group-id).

    PeerMeta does not carry the profile, so the entry is found again from the names the
    compiler gives: "MAP SEQ[/DYNSEQ] [...]"."""
    names: dict[str, str] = {}
    for peer, meta in compiled.meta.items():
        entry = model.crypto_maps.get(meta.crypto_map, {}).get(meta.seq)
        if entry is not None and entry.dynamic_map is not None:
            dynamic = model.dynamic_maps.get(entry.dynamic_map[0], {})
            prefix = f"{meta.crypto_map} {meta.seq}/"
            entry = next(
                (
                    e
                    for seq, e in dynamic.items()
                    if peer == f"{prefix}{seq}" or peer.startswith(f"{prefix}{seq} ")
                ),
                None,
            )
        if entry is not None and entry.ikev2_profile is not None:
            names[peer] = entry.ikev2_profile[0]
    return names
