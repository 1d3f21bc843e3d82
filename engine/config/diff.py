"""What a reload changes: peers added, removed, changed, description-only edits, and
the other settings a reload applies (hostname, the XSM service's)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from engine.config.compile import CompiledConfig
from engine.xsm.settings import XsmSettings


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: negotiation policy changed: applies at the next negotiation or rekey
    changed: tuple[str, ...] = ()
    #: only what the console shows changed (description, VRF labels ...)
    relabelled: tuple[str, ...] = ()
    other: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.relabelled or self.other)

    def summary(self) -> tuple[str, ...]:
        lines = [f"peer {name} added" for name in self.added]
        lines += [f"peer {name} removed" for name in self.removed]
        lines += [
            f"peer {name} policy changed (applies at next negotiation)" for name in self.changed
        ]
        lines += [f"peer {name} description/labels changed" for name in self.relabelled]
        lines += list(self.other)
        return tuple(lines) or ("no changes",)


def diff(old: CompiledConfig | None, new: CompiledConfig) -> ConfigDiff:
    old_peers = {p.name: p for p in old.ike.peers} if old else {}
    new_peers = {p.name: p for p in new.ike.peers}
    added = tuple(n for n in new_peers if n not in old_peers)
    removed = tuple(n for n in old_peers if n not in new_peers)
    changed: list[str] = []
    relabelled: list[str] = []
    for name in new_peers.keys() & old_peers.keys():
        a, b = old_peers[name], new_peers[name]
        if _negotiation_view(a) != _negotiation_view(b):
            changed.append(name)
        elif a != b or (old and old.meta.get(name) != new.meta.get(name)):
            relabelled.append(name)
    other = []
    if old and old.hostname != new.hostname:
        other.append(f"hostname {old.hostname} -> {new.hostname}")
    if old and old.isakmp_descriptions != new.isakmp_descriptions and not relabelled:
        other.append("isakmp peer descriptions changed")
    if old:
        other += xsm_changes(old.xsm, new.xsm)
    return ConfigDiff(
        added, removed, tuple(sorted(changed)), tuple(sorted(relabelled)), tuple(other)
    )


def _negotiation_view(peer: object) -> object:
    """Everything of a PeerPolicy except what is only shown, not negotiated."""
    from dataclasses import replace

    return replace(peer, description="", origin="")  # type: ignore[type-var]


def xsm_changes(old: XsmSettings, new: XsmSettings) -> list[str]:
    """`ip http ...` / `xsm ...` / user changes, one line naming the settings that changed
    (users by name only: their secrets are never shown)."""
    changed = [
        f.name for f in fields(XsmSettings) if _xsm_value(old, f.name) != _xsm_value(new, f.name)
    ]
    return [f"xsm settings changed: {', '.join(changed)}"] if changed else []


def _xsm_value(settings: XsmSettings, name: str) -> object:
    value = getattr(settings, name)
    if name == "users":  # LocalUser compares by identity: compare what it holds
        return tuple((u.name, u.privilege, u.kind, u.keyword, u.secret) for u in value)
    return value
