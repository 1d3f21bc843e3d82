"""Error notifies the engine sends and acts on, and hostile input never raising."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ike_pair import A_ADDR, B_ADDR, EnginePair, site_to_site_config

import engine.ike.responder as responder
from engine.events import ChildSaDeleted, DownReason, EngineFault, IkeSaDown
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.message import IkeMessage, decode_message, encode_message
from engine.ike.payloads import UnknownPayload


def responses_from_b(pair: EnginePair, start: int = 0) -> list[IkeMessage]:
    return [
        decode_message(d.data)
        for side, d in pair.wire[start:]
        if side == "b" and d.data[19] & 0x20 and d.data[18] == ExchangeType.IKE_SA_INIT
    ]


def first_init_request(pair: EnginePair) -> bytes:
    pair.initiate()
    pair._collect()
    return next(d.data for side, d in pair.wire if side == "a")


def test_critical_unknown_payload_in_ike_sa_init_is_answered() -> None:
    pair = EnginePair(*site_to_site_config())
    request = decode_message(first_init_request(pair))
    request.payloads.append(UnknownPayload(200, True, b"future"))
    pair.b.receive_datagram(encode_message(request), (B_ADDR, 500), (A_ADDR, 500), pair.now)
    pair._collect()
    (answer,) = responses_from_b(pair)
    (notify,) = answer.payloads
    assert notify.notify_type == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    assert notify.data == bytes([200])
    assert not pair.b.ike_sas()


def test_non_critical_unknown_payload_is_ignored() -> None:
    pair = EnginePair(*site_to_site_config())
    request = decode_message(first_init_request(pair))
    request.payloads.append(UnknownPayload(200, False, b"future"))
    pair.b.receive_datagram(encode_message(request), (B_ADDR, 500), (A_ADDR, 500), pair.now)
    pair._collect()
    assert len(pair.b.ike_sas()) == 1


def test_newer_major_version_gets_invalid_major_version() -> None:
    pair = EnginePair(*site_to_site_config())
    data = bytearray(first_init_request(pair))
    data[17] = 0x30
    pair.b.receive_datagram(bytes(data), (B_ADDR, 500), (A_ADDR, 500), pair.now)
    pair._collect()
    (answer,) = responses_from_b(pair)
    assert answer.payloads[0].notify_type == NotifyType.INVALID_MAJOR_VERSION
    assert pair.b.drops


def test_critical_unknown_payload_inside_sk_gets_an_encrypted_error() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa_a,) = pair.live_ike("a")
    start = len(pair.wire)
    data = sa_a.encode(
        ExchangeType.INFORMATIONAL,
        [UnknownPayload(222, True, b"")],
        response=False,
        message_id=sa_a.tasks.next_request_id,
    )
    pair.b.receive_datagram(data, (B_ADDR, 500), (A_ADDR, 500), pair.now)
    pair._collect()
    (answer,) = [d for side, d in pair.wire[start:] if side == "b"]
    assert sa_a.sk_in is not None
    reply = decode_message(answer.data, sa_a.sk_in)
    assert reply.is_response and reply.encrypted
    assert reply.payloads[0].notify_type == NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    assert pair.live_ike("b")


def test_invalid_spi_makes_the_peer_drop_the_lost_child() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa_a,) = pair.live_ike("a")
    (child_a,) = sa_a.children.values()
    del sa_a.children[child_a.child_sa_id]  # A lost it (a restart of its data plane, say)
    assert pair.a.report_invalid_spi(child_a.spi_in_int, (B_ADDR, 500), pair.now)
    assert not pair.a.report_invalid_spi(child_a.spi_in_int, (B_ADDR, 500), pair.now)
    pair.run(1)
    assert not pair.children("b")
    assert pair.of_type("b", ChildSaDeleted)[0].reason is DownReason.PEER_DELETE
    assert pair.live_ike("a") and pair.live_ike("b")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hostile_datagrams_never_raise_and_leave_sas_alone(data: st.DataObject) -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    captured = [d.data for _, d in pair.wire]
    (sa_b,) = pair.live_ike("b")
    for _ in range(5):
        base = bytearray(data.draw(st.sampled_from(captured)))
        choice = data.draw(st.integers(0, 3))
        if choice == 0:
            blob = data.draw(st.binary(max_size=400))
        elif choice == 1:
            index = data.draw(st.integers(0, len(base) - 1))
            base[index] ^= data.draw(st.integers(1, 255))
            blob = bytes(base)
        elif choice == 2:
            blob = bytes(base[: data.draw(st.integers(0, len(base)))])
        else:
            blob = bytes(base[:28]) + data.draw(st.binary(max_size=200))
        pair.b.receive_datagram(blob, (B_ADDR, 500), (A_ADDR, 500), pair.now)
    pair.b.datagrams_to_send()
    assert sa_b.is_up and len(sa_b.children) == 1


@pytest.mark.parametrize("where", ["receive", "timer"])
def test_a_defect_costs_one_sa_not_the_engine(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception from exchange code never reaches the transport: the SA it hit is
    closed (no half state), the fault is reported, and other peers are still served."""
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa_b,) = pair.live_ike("b")

    def broken(*args: object) -> list[object]:
        raise ValueError("a bug in an exchange")

    if where == "receive":
        monkeypatch.setattr(responder, "respond", broken)
        (sa_a,) = pair.live_ike("a")
        pair.a.create_child_sa(sa_a.ike_sa_id, pair.now)
    else:
        monkeypatch.setattr(sa_b, "handle_timer", broken)
        sa_b.rekey_at = pair.now + 1
        pair.b.reschedule(sa_b)
    pair.run(3)
    (fault,) = pair.of_type("b", EngineFault)
    assert fault.where == where and "ValueError" in fault.error
    assert [e.reason for e in pair.of_type("b", IkeSaDown)] == [DownReason.INTERNAL_ERROR]
    assert pair.b.stats["internal errors"] == 1
    monkeypatch.undo()
    pair.initiate()  # the engine still serves a new negotiation
    pair.run(5)
    assert len(pair.live_ike("b")) == 1
