"""Transport mode (RFC 7296 1.3.1): USE_TRANSPORT_MODE in IKE_AUTH, CREATE_CHILD_SA and
child rekeys; a responder grants it only when its own policy asks for it, and the
initiator keeps a tunnel-mode child with the reason when it does not."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from ike_pair import A_ADDR, B_ADDR, EnginePair, site_to_site_config

from engine.events import ChildSaInstalled
from engine.ike.exchanges.child_negotiation import (
    NAT_NO_TRANSPORT,
    NOT_ENDPOINTS,
    REFUSED_TRANSPORT,
)
from engine.ike.policy import IpsecMode

A_HOST = ipaddress.ip_network(f"{A_ADDR}/32")
B_HOST = ipaddress.ip_network(f"{B_ADDR}/32")
GRE = 47


def gre_pair(mode_a: IpsecMode, mode_b: IpsecMode, **extra: object) -> EnginePair:
    """A and B protecting their own GRE traffic (`permit gre host A host B`)."""
    a = {"local_ts": (A_HOST,), "remote_ts": (B_HOST,), "ts_protocol": GRE, "mode": mode_a}
    b = {"local_ts": (B_HOST,), "remote_ts": (A_HOST,), "ts_protocol": GRE, "mode": mode_b}
    return EnginePair(*site_to_site_config(a, b), **extra)  # type: ignore[arg-type]


def installed(pair: EnginePair, side: str) -> list[ChildSaInstalled]:
    return pair.of_type(side, ChildSaInstalled)


def test_both_ask_for_transport_in_ike_auth() -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TRANSPORT)
    pair.established()
    (child_a,), (child_b,) = pair.children("a"), pair.children("b")
    assert child_a.transport and child_b.transport
    for side in "ab":
        (event,) = installed(pair, side)
        assert event.algorithms.mode == "transport"
        assert event.algorithms.mode_note == ""
        assert event.transforms.transport is True
        assert event.traffic_selectors.protocol == GRE
    assert installed(pair, "a")[0].traffic_selectors.local == (f"{A_ADDR}/32",)
    assert installed(pair, "a")[0].traffic_selectors.remote == (f"{B_ADDR}/32",)
    # the protocol is in the negotiated selectors themselves
    assert {ts.ip_protocol for ts in child_a.local_ts + child_a.remote_ts} == {GRE}


def test_a_tunnel_mode_responder_refuses_and_the_initiator_says_why() -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TUNNEL)
    pair.established()
    (child_a,), (child_b,) = pair.children("a"), pair.children("b")
    assert not child_a.transport and not child_b.transport
    (event_a,) = installed(pair, "a")
    assert event_a.algorithms.mode == "tunnel"
    assert event_a.algorithms.mode_note == REFUSED_TRANSPORT
    assert event_a.transforms.transport is False
    # the responder did what its policy says, with nothing to explain
    (event_b,) = installed(pair, "b")
    assert (event_b.algorithms.mode, event_b.algorithms.mode_note) == ("tunnel", "")


def test_a_transport_responder_takes_tunnel_when_not_asked() -> None:
    pair = gre_pair(IpsecMode.TUNNEL, IpsecMode.TRANSPORT)
    pair.established()
    (event_a,), (event_b,) = installed(pair, "a"), installed(pair, "b")
    assert event_a.algorithms.mode == event_b.algorithms.mode == "tunnel"
    assert event_a.algorithms.mode_note == ""
    assert "peer asked for tunnel mode" in event_b.algorithms.mode_note


@pytest.mark.parametrize("initiator_b", [False, True])
def test_create_child_sa_asks_again(initiator_b: bool) -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TRANSPORT)
    pair.established()
    engine, side = (pair.b, "b") if initiator_b else (pair.a, "a")
    (ike,) = pair.live_ike(side)
    assert engine.create_child_sa(ike.ike_sa_id, pair.now)
    pair.run(1)
    assert len(pair.children("a")) == len(pair.children("b")) == 2
    assert all(c.transport for c in pair.children("a") + pair.children("b"))
    assert [e.algorithms.mode for e in installed(pair, "a")] == ["transport", "transport"]


def test_create_child_sa_to_a_tunnel_responder_is_tunnel() -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TUNNEL)
    pair.established()
    (ike,) = pair.live_ike("a")
    assert pair.a.create_child_sa(ike.ike_sa_id, pair.now)
    pair.run(1)
    notes = [e.algorithms.mode_note for e in installed(pair, "a")]
    assert notes == [REFUSED_TRANSPORT, REFUSED_TRANSPORT]


@pytest.mark.parametrize("rekey_by", ["a", "b"])
def test_a_child_rekey_stays_in_transport_mode(rekey_by: str) -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TRANSPORT)
    pair.established()
    engine = pair.a if rekey_by == "a" else pair.b
    (old,) = pair.children(rekey_by)
    assert engine.rekey_child_sa(old.child_sa_id, pair.now)
    pair.run(1)
    (new_a,), (new_b,) = pair.children("a"), pair.children("b")
    assert old.child_sa_id not in (new_a.child_sa_id, new_b.child_sa_id)
    assert new_a.transport and new_b.transport
    assert installed(pair, rekey_by)[-1].rekeyed_from == old.child_sa_id
    assert installed(pair, rekey_by)[-1].algorithms.mode == "transport"


def test_a_rekey_after_the_peer_changed_to_tunnel_mode_is_tunnel() -> None:
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TRANSPORT)
    pair.established()
    b_config = pair.b.config
    peer_b = b_config.peers[0]
    pair.b.update_config(replace(b_config, peers=(replace(peer_b, mode=IpsecMode.TUNNEL),)))
    (old,) = pair.children("a")
    assert pair.a.rekey_child_sa(old.child_sa_id, pair.now)
    pair.run(1)
    (new_a,) = pair.children("a")
    assert not new_a.transport
    assert new_a.mode_note == REFUSED_TRANSPORT


def test_selectors_other_than_the_peers_themselves_stay_in_tunnel_mode() -> None:
    pair = EnginePair(
        *site_to_site_config({"mode": IpsecMode.TRANSPORT}, {"mode": IpsecMode.TRANSPORT})
    )
    pair.established()
    (event_a,), (event_b,) = installed(pair, "a"), installed(pair, "b")
    assert event_a.algorithms.mode == event_b.algorithms.mode == "tunnel"
    assert event_a.algorithms.mode_note == NOT_ENDPOINTS


def test_no_transport_mode_across_a_nat() -> None:
    # NAT in front of A: A's real address is not what B sees, and B's selectors for A
    # are A's real address; both sides want transport mode and neither takes it
    pair = gre_pair(IpsecMode.TRANSPORT, IpsecMode.TRANSPORT, nat_a=(A_ADDR, 40000))
    pair.established()
    (event_a,), (event_b,) = installed(pair, "a"), installed(pair, "b")
    assert event_a.algorithms.mode == event_b.algorithms.mode == "tunnel"
    assert event_a.algorithms.mode_note == NAT_NO_TRANSPORT
    assert event_a.udp_encapsulation
