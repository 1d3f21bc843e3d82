"""The IKEv1 engine as a whole: responder cookies and the half-open limit, bad input
counted and never raised, retransmission with backoff and give-up, unknown cookies,
convergence over a lossy link, and secrets that never show."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.events import (
    ChildSaInstalled,
    DownReason,
    EngineFault,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaUp,
    RetransmitGiveUp,
)
from engine.ike.errors import IkeDrop
from engine.ike.policy import IkeConfig, RetransmitPolicy
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.exchanges.main_mode import MainModeResponder
from engine.ikev1.message import HEADER_SIZE, Header
from tests.ike_pair import A_ADDR, B_ADDR, LinkFaults, assert_timers_ahead, seeded
from tests.ikev1_pair import PSK, active, assert_one_flow, site_to_site, v1_pair

FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
A, B = (A_ADDR, 500), (B_ADDR, 500)


def total_drops(engine: IkeV1Engine) -> int:
    return sum(engine.drops.values())


# ------------------------------------------------------------------ cookies, half-open
def test_responder_cookie_is_stateless_and_bound_to_the_peer() -> None:
    """RFC 2408 2.5.3: the same first message from the same address gets the same
    cookie; another address another one."""
    cfg_a, cfg_b = site_to_site()
    initiator = IkeV1Engine(cfg_a, seeded(5))
    initiator.initiate("to-b", A, None, 0.0)
    (mm1,) = initiator.datagrams_to_send()
    first, second = IkeV1Engine(cfg_b, seeded(9)), IkeV1Engine(cfg_b, seeded(9))
    first.receive_datagram(mm1.data, B, A, 0.0)
    second.receive_datagram(mm1.data, B, A, 0.0)
    second.receive_datagram(mm1.data, B, (A_ADDR, 4500), 0.0)
    (sa_1,) = first.ike_sas()
    sa_2, sa_3 = second.ike_sas()
    assert sa_1.cookie_r == sa_2.cookie_r != sa_3.cookie_r
    assert sa_1.cookie_i == mm1.data[:8] and sa_1.cookie_r != bytes(8)


def test_a_retransmitted_first_message_is_answered_again() -> None:
    pair = v1_pair(site_to_site())
    pair.blocked.add("b")  # B's answers are lost
    pair.initiate()
    pair.run(3.5)  # MM1 sent at 0, 1 and 3
    mm2s = [d for side, d in pair.wire if side == "b"]
    assert len(mm2s) == 3 and len({d.data for d in mm2s}) == 1
    assert len(pair.b.ike_sas()) == 1 and pair.b.half_open_count() == 1


def test_half_open_limit_drops_further_first_messages() -> None:
    cfg_a, cfg_b = site_to_site()
    pair = v1_pair((cfg_a, replace(cfg_b, cookie_threshold=3)))
    pair.blocked.add("b")
    for _ in range(5):
        pair.initiate()
    pair.step()
    assert pair.b.half_open_count() == 3
    assert pair.b.stats["half-open limit: first messages dropped"] == 2
    assert pair.b.drops[IkeDrop.PROTOCOL] == 2
    pair.run(40)  # the half-open SAs time out and free their places
    assert pair.b.half_open_count() == 0 and not pair.b.ike_sas()
    assert pair.of_type("a", IkeSaAbandoned)
    pair.blocked.clear()
    pair.established()
    assert_one_flow(pair)


def test_half_open_responder_sa_times_out() -> None:
    pair = v1_pair(site_to_site())
    pair.blocked.add("a")
    pair.initiate()
    pair.blocked.clear()
    pair.step()  # MM1 reaches B, nothing comes after
    pair.blocked.add("a")
    assert pair.b.half_open_count() == 1
    pair.run(29)
    assert pair.b.half_open_count() == 1
    pair.run(2)
    assert pair.b.half_open_count() == 0 and not pair.b.ike_sas()


def test_no_ikev1_policy_drops_first_messages() -> None:
    cfg_a, _ = site_to_site()
    initiator = IkeV1Engine(cfg_a, seeded(5))
    initiator.initiate("to-b", A, None, 0.0)
    (mm1,) = initiator.datagrams_to_send()
    bare = IkeV1Engine(IkeConfig(), seeded(6))
    bare.receive_datagram(mm1.data, B, A, 0.0)
    assert bare.drops[IkeDrop.UNEXPECTED_EXCHANGE] == 1
    assert not bare.ike_sas() and not bare.datagrams_to_send()


def test_unknown_cookies_are_counted_and_answered_invalid_cookie() -> None:
    """RFC 2408 5.2: a responder cookie we do not know is answered INVALID_COOKIE (in
    the clear: there is no SA whose keys could protect it), and nothing else changes."""
    pair = v1_pair(site_to_site())
    pair.established()
    (sa,) = active(pair.b)
    forged = Header(b"\x01" * 8, b"\x02" * 8, 8, 32, 1, 7, HEADER_SIZE + 32).encode() + bytes(32)
    pair.b.receive_datagram(forged, B, A, pair.now)
    assert pair.b.drops[IkeDrop.UNKNOWN_SPI] == 1
    (answer,) = pair.b.datagrams_to_send()
    assert answer.data[:16] == b"\x01" * 8 + b"\x02" * 8 and answer.remote == A
    assert answer.data[18] == 5 and answer.data[19] == 0  # INFORMATIONAL, not encrypted
    assert int.from_bytes(answer.data[HEADER_SIZE + 10 : HEADER_SIZE + 12], "big") == 4
    assert pair.b.ike_sas() == [sa]


# ------------------------------------------------------------------ bad input
@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_are_counted_never_raised(data: bytes) -> None:
    engine = IkeV1Engine(site_to_site()[1], seeded(3))
    engine.receive_datagram(data, B, A, 0.0)
    assert total_drops(engine) + len(engine.ike_sas()) >= 1
    assert not engine.stats["internal errors"]


ESTABLISHED = v1_pair(site_to_site())
ESTABLISHED.established()
CAPTURED = [d.data for _, d in ESTABLISHED.wire]


@settings(FUZZ, max_examples=100)
@given(st.sampled_from(CAPTURED), st.data())
def test_mutated_messages_are_counted_and_leave_the_flow_intact(
    original: bytes, data: st.DataObject
) -> None:
    """Every message of a real exchange, mutated (bytes changed, cut, extended, the length
    field fixed or not), into both ends of an established pair: no exception leaves the
    engine, what it refuses is counted, and the ISAKMP and IPsec SAs carry on. (A mutated
    first message can be a valid one from a new initiator: then a half-open SA, no drop.)"""
    pair = v1_pair(site_to_site())
    pair.established()
    message = bytearray(original)
    for _ in range(data.draw(st.integers(1, 5))):
        choice = data.draw(st.integers(0, 2))
        if choice == 0:
            message[data.draw(st.integers(0, len(message) - 1))] = data.draw(st.integers(0, 255))
        elif choice == 1 and len(message) > 1:
            del message[data.draw(st.integers(1, len(message) - 1)) :]
        else:
            message += data.draw(st.binary(min_size=1, max_size=32))
    if len(message) >= HEADER_SIZE and data.draw(st.booleans()):
        message[24:28] = len(message).to_bytes(4, "big")
    if bytes(message) in CAPTURED:
        return  # an exact copy is a retransmission, not bad input
    for engine, local, remote in ((pair.a, A, B), (pair.b, B, A)):
        before = total_drops(engine), engine.half_open_count()
        engine.receive_datagram(bytes(message), local, remote, pair.now)
        after = total_drops(engine), engine.half_open_count()
        assert not engine.stats["internal errors"]
        if message[8:16] != bytes(8):  # not a first message: refused, or a late copy
            assert after[1] == before[1]
    pair.run(2)
    # the real SAs still work: an IPsec SA rekey goes through
    (child,) = pair.children("a")
    assert pair.a.rekey_child_sa(child.child_sa_id, pair.now)
    pair.run(5)
    assert_one_flow(pair)


def test_forged_encrypted_message_does_not_desynchronise_the_iv_chain() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_b,) = active(pair.b)
    forged = Header(sa_b.cookie_i, sa_b.cookie_r, 5, 2, 1, 0, HEADER_SIZE + 48).encode()
    pair.b.receive_datagram(forged + bytes(range(48)), B, A, pair.now)
    assert pair.b.drops[IkeDrop.MALFORMED] == 1
    (child,) = pair.children("b")
    pair.b.delete_child_sa(child.child_sa_id, pair.now)  # B's next message must decrypt
    pair.run(1)
    assert not pair.children("a") and not pair.a.drops


def test_forged_message_from_elsewhere_does_not_move_the_peer() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_b,) = active(pair.b)
    forged = Header(sa_b.cookie_i, sa_b.cookie_r, 8, 32, 1, 99, HEADER_SIZE + 48).encode()
    pair.b.receive_datagram(forged + bytes(48), B, ("203.0.113.9", 4500), pair.now)
    assert sa_b.remote == A
    assert 99 not in sa_b.exchanges  # and no exchange stays behind for its message ID


def test_a_defect_costs_one_sa_and_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, sa, header, payloads, tail, now):
        raise RuntimeError("defect")

    monkeypatch.setattr(MainModeResponder, "receive", broken)
    pair = v1_pair(site_to_site())
    pair.initiate()
    pair.run(1)
    faults = pair.of_type("b", EngineFault)
    assert faults and all(f.where == "receive" and "RuntimeError" in f.error for f in faults)
    assert pair.b.drops[IkeDrop.INTERNAL] >= 1
    assert not pair.b.ike_sas()


# ------------------------------------------------------------------ retransmission
def test_retransmission_backs_off_then_gives_up() -> None:
    retransmit = RetransmitPolicy(timeout=1.0, base=2.0, tries=4)
    cfg = tuple(replace(c, retransmit=retransmit) for c in site_to_site())
    pair = v1_pair(cfg)  # type: ignore[arg-type]
    pair.blocked.add("b")
    start = pair.now
    pair.initiate()
    pair.run(60)
    sent = [
        t - start for (side, _), t in zip(pair.wire, pair.wire_times, strict=True) if side == "a"
    ]
    assert sent == [0.0, 1.0, 3.0, 7.0]
    (gave_up,) = pair.of_type("a", RetransmitGiveUp)
    assert (gave_up.exchange, gave_up.tries, gave_up.at - start) == ("main mode", 4, 15.0)
    (abandoned,) = pair.of_type("a", IkeSaAbandoned)
    assert abandoned.reason is DownReason.RETRANSMIT_GIVE_UP
    assert not pair.a.ike_sas()


def test_a_quick_mode_to_a_silent_peer_gives_up_and_closes_the_isakmp_sa() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (child,) = pair.children("a")
    pair.blocked.add("b")
    pair.a.rekey_child_sa(child.child_sa_id, pair.now)
    pair.run(60)
    (gave_up,) = pair.of_type("a", RetransmitGiveUp)
    assert gave_up.exchange == "quick mode" and gave_up.tries == 5
    assert pair.of_type("a", IkeSaDown)[0].reason is DownReason.RETRANSMIT_GIVE_UP
    assert not pair.a.ike_sas()


def test_timers_are_always_ahead() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    for now in (pair.now, pair.now + 1000, pair.now + 3300, pair.now + 80000):
        pair.run(now - pair.now)
        assert_timers_ahead(pair.a, pair.now)
        assert_timers_ahead(pair.b, pair.now)


# ------------------------------------------------------------------ lossy links
@settings(max_examples=60, deadline=None, database=None)
@given(
    st.integers(0, 10_000),
    st.floats(0.0, 0.3),
    st.floats(0.0, 0.2),
    st.floats(0.0, 0.4),
)
def test_lossy_links_converge_or_fail_cleanly(
    seed: int, loss: float, duplicate: float, reorder: float
) -> None:
    """Setup, an IPsec SA rekey and a phase 1 renewal over a link that loses, duplicates
    and reorders: one ISAKMP SA and one IPsec SA pair per side in the end, or nothing up
    anywhere and the initiator told why."""
    retransmit = RetransmitPolicy(timeout=1.0, base=1.5, tries=10)
    cfg = tuple(replace(c, retransmit=retransmit) for c in site_to_site())
    faults = LinkFaults(loss=loss, duplicate=duplicate, reorder=reorder, seed=seed)
    pair = v1_pair(cfg, faults)  # type: ignore[arg-type]
    pair.initiate()
    pair.run(120)
    if not active(pair.a):
        pair.run(60)
        assert pair.of_type("a", IkeSaAbandoned) or pair.of_type("a", IkeSaDown)
        assert not active(pair.b) or not pair.of_type("a", IkeSaUp)
        assert not [sa for sa in pair.a.ike_sas() if not sa.closed]
        return
    (child,) = pair.children("a")
    pair.a.rekey_child_sa(child.child_sa_id, pair.now)
    pair.run(120)
    if active(pair.a):
        pair.a.rekey_ike_sa(active(pair.a)[0].ike_sa_id, pair.now)
    pair.run(120)
    pair.run(3700)  # what a lost DELETE left behind expires
    if active(pair.a) and active(pair.b):
        assert_one_flow(pair)
    else:  # an exchange gave up: the initiator says so, and nothing is half installed
        assert pair.of_type("a", RetransmitGiveUp) or pair.of_type("b", RetransmitGiveUp)
        assert not pair.children("a") or not active(pair.b)


# ------------------------------------------------------------------ secrets
def test_no_key_or_psk_shows_in_any_repr() -> None:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_a,), (sa_b,) = active(pair.a), active(pair.b)
    (child,) = pair.children("a")
    assert sa_a.keys is not None
    secrets = [PSK.reveal().decode()]
    secrets += [
        v.hex()
        for v in (
            sa_a.keys.skeyid,
            sa_a.keys.skeyid_d,
            sa_a.keys.skeyid_a,
            sa_a.keys.skeyid_e,
            sa_a.keys.key,
            child.keys.encr_i,
            child.keys.integ_i,
            child.keys.encr_r,
            child.keys.integ_r,
        )
    ]
    shown = [repr(e) for e in pair.events_a + pair.events_b]
    shown += [repr(x) for x in (sa_a, sa_b, child, sa_a.keys, child.keys, pair.a.config)]
    shown += [str(x) for x in (sa_a, child, pair.b.config)]
    text = " ".join(shown)
    for secret in secrets:
        assert secret not in text
    # nor as Python's bytes repr of the key material
    assert repr(child.keys.encr_i) not in text and repr(sa_a.keys.skeyid) not in text
    installed = pair.of_type("a", ChildSaInstalled)[0]
    assert installed.keys == child.keys
