"""Tunnel interfaces in the SA table: two route-based tunnels both carry 0.0.0.0/0, and
the interface a packet came in by picks its SA; crypto maps' SAs go by selectors alone."""

from __future__ import annotations

from collections.abc import Callable

from engine.crypto.keys import ChildKeys
from engine.esp import SaTable
from engine.events import EspTransforms

Builder = Callable[..., bytes]
Keys = Callable[..., ChildKeys]
ANY = ("0.0.0.0/0",)
GCM = EspTransforms.named("aes-gcm-256", "none")


def install(
    table: SaTable,
    make_keys: Keys,
    child_sa_id: int,
    interface: str,
    local: tuple[str, ...] = ANY,
    remote: tuple[str, ...] = ANY,
) -> None:
    table.install(
        child_sa_id,
        0x1000 + child_sa_id,
        0x2000 + child_sa_id,
        transforms=GCM,
        keys=make_keys("aes-gcm-256", "none", seed=child_sa_id),
        initiator=True,
        local_ts=local,
        remote_ts=remote,
        now=0.0,
        interface=interface,
    )


def child_of(table: SaTable, packet: bytes, interface: str = "") -> int | None:
    result = table.outbound(packet, 1.0, interface)
    return result[1] if isinstance(result, tuple) else None


def test_each_tunnel_interface_sends_by_its_own_sa(make_keys: Keys, ipv4: Builder) -> None:
    table = SaTable()
    install(table, make_keys, 1, "Tunnel1")
    install(table, make_keys, 2, "Tunnel2")
    install(table, make_keys, 3, "", ("10.1.0.0/16",), ("10.2.0.0/16",))
    packet = ipv4("10.1.0.5", "10.2.0.9")
    assert child_of(table, packet, "Tunnel1") == 1
    assert child_of(table, packet, "Tunnel2") == 2
    assert child_of(table, packet) == 3  # the crypto map's, by its selectors
    # a tunnel's any-to-any SA never catches the crypto maps' traffic, nor the reverse
    assert child_of(table, ipv4("192.0.2.1", "198.51.100.1")) is None
    assert child_of(table, packet, "Tunnel9") is None


def test_a_rekey_supersedes_only_within_its_interface(make_keys: Keys, ipv4: Builder) -> None:
    table = SaTable()
    install(table, make_keys, 1, "Tunnel1")
    install(table, make_keys, 2, "Tunnel2")
    install(table, make_keys, 3, "Tunnel1")  # Tunnel1's child rekeyed
    superseded = {i: pair.superseded for i in (1, 2, 3) if (pair := table.get(i))}
    assert superseded == {1: True, 2: False, 3: False}
    assert child_of(table, ipv4("10.0.0.1", "10.0.0.2"), "Tunnel1") == 3
    table.remove(3)
    assert child_of(table, ipv4("10.0.0.1", "10.0.0.2"), "Tunnel1") == 1
    table.remove(1)
    assert child_of(table, ipv4("10.0.0.1", "10.0.0.2"), "Tunnel1") is None
    assert child_of(table, ipv4("10.0.0.1", "10.0.0.2"), "Tunnel2") == 2
