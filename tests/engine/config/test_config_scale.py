"""A head end's worth of peers: 20k keyring peers, 20k crypto map entries.

Keyring peers were found by scanning the keyring, once per `peer` line and once per
crypto map entry: quadratic, minutes at this size. They are indexed now (by name in
the model, by address and identity in `KeyringIndex`). These tests hold the behaviour
at that size; timings are in bench-style measurements, not here.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.compile import KeyringIndex, compile_config
from engine.config.diagnostics import Severity
from engine.config.loader import load
from engine.config.model import KeyringPeer
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.ike.policy import Identity

N = 20_000
BASE = int(ipaddress.IPv4Address("10.0.0.0"))


def address(i: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(BASE + 1 + i)


def head_end() -> tuple[str, dict[str, int]]:
    """The configuration, and the line of some of its peers."""
    lines = ["hostname head-end", "crypto ikev2 keyring KR"]
    where: dict[str, int] = {}
    # a wide peer first: every more specific one must still win over it
    lines += [" peer wide", "  address 10.0.0.0 255.0.0.0", "  pre-shared-key key-wide"]
    for i in range(N):
        where[f"p{i}"] = len(lines) + 1
        if i % 1000 == 999:  # matched by identity only
            lines += [f" peer p{i}", f"  identity address 172.16.{i // 1000}.1"]
        else:
            lines += [f" peer p{i}", f"  address {address(i)}"]
        lines.append(f"  pre-shared-key key-{i}")
    where["twin"] = len(lines) + 1
    lines += [" peer twin", f"  address {address(123)}", "  pre-shared-key key-twin"]
    # `peer NAME` again, after 20k others: the same peer, edited
    lines += [" peer p7", "  description seventh"]
    lines += [
        "crypto ikev2 profile P",
        " keyring local KR",
        "crypto ipsec transform-set TS esp-gcm 256",
        "ip access-list extended A",
        " permit ip 192.168.0.0 0.0.255.255 172.16.0.0 0.15.255.255",
    ]
    for i in range(N):
        peer = f"172.16.{i // 1000}.1" if i % 1000 == 999 else str(address(i))
        lines += [
            f"crypto map M {i + 1} ipsec-isakmp",
            f" set peer {peer}",
            " set transform-set TS",
            " set ikev2-profile P",
            " match address A",
        ]
    # covered by the wide peer only
    lines += ["crypto map M 30000 ipsec-isakmp", " set peer 10.200.0.1"]
    lines += [" set transform-set TS", " set ikev2-profile P", " match address A"]
    lines += ["interface lo", " ip address 192.0.2.1 255.255.255.0", " crypto map M", "end", ""]
    return "\n".join(lines), where


def test_twenty_thousand_peers(tmp_path: Path) -> None:
    text, where = head_end()
    path = tmp_path / "head-end.conf"
    path.write_text(text, encoding="utf-8")
    config = load(path)

    # one warning: the duplicate, naming both lines
    assert config.errors == [], [str(e) for e in config.errors[:5]]
    (twin,) = config.warnings
    assert twin.source.line == where["twin"]
    assert twin.message == (
        f"keyring KR peer twin has the same address {address(123)}/32 as peer p123 "
        f"(line {where['p123']}); peer p123 is the one used"
    )
    keyring = config.keyrings["KR"]
    assert len(keyring.peers) == N + 2
    assert keyring.peers[8].name == "p7" and keyring.peers[8].description == "seventh"

    compiled = compile_config(config)
    by_name = {peer.name: peer for peer in compiled.ike.peers}
    assert len(by_name) == N + 1
    for i in range(N):  # the most specific peer: p123, not its twin, nor the wide one
        assert by_name[f"M {i + 1}"].psk_local.reveal() == f"key-{i}".encode(), i
    assert by_name["M 30000"].psk_local.reveal() == b"key-wide"
    assert compiled.meta["M 30000"].remote == "10.200.0.1"


def reference(peers: list[KeyringPeer], address: ipaddress.IPv4Address) -> KeyringPeer | None:
    """The scan the index replaced: the most specific address, else the identity."""
    by_address = [k for k in peers if k.address is not None and address in k.address]
    if by_address:
        return max(by_address, key=lambda k: k.address.prefixlen if k.address else 0)
    return next((k for k in peers if k.identity and k.identity.value == str(address)), None)


NETS = st.builds(
    lambda value, length: ipaddress.ip_network((value, length), strict=False),
    st.integers(0, 255).map(lambda b: (10 << 24) | (b << 16)),
    st.integers(8, 32),
)
PEERS = st.lists(
    st.tuples(st.none() | NETS, st.none() | st.integers(0, 255)),
    max_size=30,
).map(
    lambda specs: [
        KeyringPeer(
            name=f"k{i}",
            address=net,
            identity=None
            if ident is None
            else Identity.address(ipaddress.ip_address(f"10.0.{ident}.1")),
        )
        for i, (net, ident) in enumerate(specs)
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(PEERS, st.lists(st.integers(0, 255), min_size=1, max_size=10))
def test_the_index_finds_what_the_scan_found(peers: list[KeyringPeer], probes: list[int]) -> None:
    index = KeyringIndex(peers)
    for third in probes:
        for address in (
            ipaddress.IPv4Address(f"10.{third}.0.1"),
            ipaddress.IPv4Address(f"10.0.{third}.1"),
        ):
            assert index.peer_for(address) is reference(peers, address)


def test_duplicate_identities_are_reported_too() -> None:
    config = validate(
        parse_text(
            "crypto ikev2 keyring KR\n"
            " peer a\n  identity fqdn gw.example\n  pre-shared-key x\n"
            " peer b\n  identity fqdn gw.example\n  pre-shared-key y\n",
            "d.conf",
        )
    )
    (warning,) = config.warnings
    assert warning.severity is Severity.WARNING and warning.source.line == 5
    assert "same identity gw.example as peer a (line 2)" in warning.message
