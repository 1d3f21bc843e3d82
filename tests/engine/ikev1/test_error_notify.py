"""Error notifies (RFC 2408 sections 3.14.1 and 5): each refused message is answered with
the notify the RFC names (decoded here from the wire), in the clear before the ISAKMP SA
has keys and protected after; never in answer to a notify, and never more than the
limiter allows. Received error notifies end a negotiation only when protected."""

from __future__ import annotations

import struct
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.events import IkeSaAbandoned, IkeSaUp, NegotiationFailed
from engine.ike.engine import Datagram
from engine.ike.errors import IkeDrop
from engine.ikev1.constants import ExchangeType, HeaderFlag, NotifyType, PayloadType, ProtocolId
from engine.ikev1.engine import IkeV1Engine
from engine.ikev1.isakmp_sa import IsakmpSa
from engine.ikev1.keys import exchange_iv
from engine.ikev1.message import HEADER_SIZE, Header, decrypt, parse_header
from engine.ikev1.notify_limit import GLOBAL_BURST, PER_SOURCE_BURST, NotifyLimiter
from engine.ikev1.payloads import (
    NotifyPayload,
    OpaquePayload,
    Payload,
    SaPayload,
    decode_chain,
    encode_chain,
)
from engine.ikev1.payloads.attributes import basic
from engine.ikev1.payloads.opaque import hash_payload, nonce
from engine.ikev1.payloads.sa import Proposal, Transform
from engine.ikev1.proposals import phase1_offer
from tests.ike_pair import A_ADDR, B_ADDR, seeded
from tests.ikev1_pair import active, site_to_site, v1_pair

A, B = (A_ADDR, 500), (B_ADDR, 500)
COOKIE_I = b"\x11" * 8
ZERO = bytes(8)


def gateway() -> IkeV1Engine:
    return IkeV1Engine(site_to_site()[1], seeded(7))


def offer() -> SaPayload:
    isakmp = site_to_site()[1].isakmp
    assert isakmp is not None
    return phase1_offer(isakmp.proposals)


def message(
    payloads: list[Payload],
    *,
    cookie_i: bytes = COOKIE_I,
    cookie_r: bytes = ZERO,
    exchange: int = ExchangeType.MAIN,
    flags: int = 0,
    message_id: int = 0,
    version: int = 0x10,
    first: int | None = None,
    body: bytes | None = None,
) -> bytes:
    kind, chain = encode_chain(payloads)
    chain = chain if body is None else body
    header = Header(
        cookie_i,
        cookie_r,
        kind if first is None else first,
        exchange,
        flags,
        message_id,
        HEADER_SIZE + len(chain),
        version,
    )
    return header.encode() + chain


def mm1(sa: SaPayload | None = None, **kw: object) -> bytes:
    return message([sa or offer()], **kw)  # type: ignore[arg-type]


def clear_answers(out: list[Datagram]) -> list[tuple[Header, NotifyPayload]]:
    """The unprotected INFORMATIONAL notifies among `out`."""
    found = []
    for dgram in out:
        header = parse_header(dgram.data)
        if header.exchange == ExchangeType.INFORMATIONAL and not header.encrypted:
            (notify,) = decode_chain(header.next_payload, dgram.data[HEADER_SIZE:])
            assert isinstance(notify, NotifyPayload)
            found.append((header, notify))
    return found


def protected_answers(out: list[Datagram], sa: IsakmpSa) -> list[NotifyPayload]:
    """The protected notifies among `out`, opened with the keys of the SA that sent them:
    HASH(1) first, then the notify."""
    assert sa.keys is not None and sa.choice is not None
    found = []
    for dgram in out:
        header = parse_header(dgram.data)
        if header.exchange != ExchangeType.INFORMATIONAL or not header.encrypted:
            continue
        size = sa.choice.encryption.block_size
        iv = exchange_iv(sa.choice.prf, sa.phase1_iv, header.message_id, size)
        plain = decrypt(sa.choice.encryption, sa.keys.key, iv, dgram.data[HEADER_SIZE:])
        payloads = decode_chain(header.next_payload, plain)
        assert isinstance(payloads[0], OpaquePayload)
        assert payloads[0].payload_type == PayloadType.HASH
        assert isinstance(payloads[1], NotifyPayload)
        found.append(payloads[1])
    return found


def answer_to(data: bytes, engine: IkeV1Engine | None = None) -> NotifyType:
    """Feed one datagram from A to a gateway: the one clear notify it answers with."""
    engine = engine or gateway()
    engine.receive_datagram(data, B, A, 0.0)
    out = engine.datagrams_to_send()
    ((header, notify),) = clear_answers(out)
    assert len(out) == 1
    assert header.cookie_i == data[:8] and header.message_id == 0
    assert notify.protocol == ProtocolId.ISAKMP and notify.spi[:8] == data[:8]
    assert sum(engine.drops.values()) >= 1 and not engine.half_open_count()
    return NotifyType(notify.notify_type)


# ------------------------------------------------------------------ the header
def test_unknown_major_version() -> None:
    assert answer_to(mm1(version=0x20)) is NotifyType.INVALID_MAJOR_VERSION


def test_unknown_minor_version() -> None:
    assert answer_to(mm1(version=0x11)) is NotifyType.INVALID_MINOR_VERSION


def test_invalid_and_unsupported_exchange_types() -> None:
    assert answer_to(mm1(exchange=0)) is NotifyType.INVALID_EXCHANGE_TYPE
    assert answer_to(mm1(exchange=100)) is NotifyType.INVALID_EXCHANGE_TYPE
    # Base, Authentication Only, New Group Mode: defined, not implemented here
    for kind in (1, 3, 33, 250):
        assert answer_to(mm1(exchange=kind)) is NotifyType.UNSUPPORTED_EXCHANGE_TYPE


def test_bad_flags() -> None:
    assert answer_to(mm1(flags=0x08)) is NotifyType.INVALID_FLAGS
    assert answer_to(mm1(flags=HeaderFlag.AUTHENTICATION_ONLY)) is NotifyType.INVALID_FLAGS
    # the encryption bit before any key exists
    body = bytes(32)
    assert (
        answer_to(mm1(flags=HeaderFlag.ENCRYPTION, body=body, first=1)) is NotifyType.INVALID_FLAGS
    )


def test_phase_1_message_with_a_message_id() -> None:
    assert answer_to(mm1(message_id=7)) is NotifyType.INVALID_MESSAGE_ID


def test_payload_length_mismatch() -> None:
    data = bytearray(mm1())
    data[24:28] = (len(data) + 4).to_bytes(4, "big")
    assert answer_to(bytes(data)) is NotifyType.UNEQUAL_PAYLOAD_LENGTHS


def test_unknown_payload_type() -> None:
    # 33 is IKEv2's SA payload: reserved in ISAKMP
    assert answer_to(mm1(first=33)) is NotifyType.INVALID_PAYLOAD_TYPE


def test_truncated_payload() -> None:
    body = struct.pack("!BBH", 0, 0, 200) + bytes(20)  # says 200 bytes, holds 24
    assert answer_to(mm1(body=body, first=PayloadType.SA)) is NotifyType.PAYLOAD_MALFORMED


def test_unknown_responder_cookie_is_invalid_cookie() -> None:
    data = message([hash_payload(bytes(20))], cookie_r=b"\x22" * 8, exchange=ExchangeType.MAIN)
    engine = gateway()
    assert answer_to(data, engine) is NotifyType.INVALID_COOKIE
    assert engine.drops[IkeDrop.UNKNOWN_SPI] == 1


def test_an_initiator_cookie_alone_is_a_new_negotiation() -> None:
    """Not INVALID_COOKIE: a first message gets MM2; a quick mode cannot begin one."""
    engine = gateway()
    engine.receive_datagram(mm1(), B, A, 0.0)
    (mm2,) = engine.datagrams_to_send()
    assert parse_header(mm2.data).exchange == ExchangeType.MAIN
    quick = message(
        [],
        cookie_i=b"\x33" * 8,
        exchange=ExchangeType.QUICK,
        flags=HeaderFlag.ENCRYPTION,
        message_id=9,
        body=bytes(32),
        first=PayloadType.HASH,
    )
    assert answer_to(quick) is NotifyType.INVALID_EXCHANGE_TYPE


# ------------------------------------------------------------------ the SA payload
def test_bad_doi() -> None:
    assert answer_to(mm1(replace(offer(), doi=2))) is NotifyType.DOI_NOT_SUPPORTED


def test_bad_situation() -> None:
    assert answer_to(mm1(replace(offer(), situation=2))) is NotifyType.SITUATION_NOT_SUPPORTED


def _with_proposal(**changes: object) -> SaPayload:
    sa = offer()
    return replace(sa, proposals=(replace(sa.proposals[0], **changes),))  # type: ignore[arg-type]


def test_bad_protocol_id() -> None:
    assert answer_to(mm1(_with_proposal(protocol=ProtocolId.ESP))) is NotifyType.INVALID_PROTOCOL_ID


def test_bad_spi_size() -> None:
    assert answer_to(mm1(_with_proposal(spi=b"abc"))) is NotifyType.INVALID_SPI


def test_unknown_transform_id() -> None:
    transforms = tuple(replace(t, transform_id=7) for t in offer().proposals[0].transforms)
    assert answer_to(mm1(_with_proposal(transforms=transforms))) is NotifyType.INVALID_TRANSFORM_ID


def test_unsupported_attribute() -> None:
    transforms = tuple(
        replace(t, attributes=(*t.attributes, basic(16000, 1)))
        for t in offer().proposals[0].transforms
    )
    assert (
        answer_to(mm1(_with_proposal(transforms=transforms))) is NotifyType.ATTRIBUTES_NOT_SUPPORTED
    )


def test_mixed_refusals_are_no_proposal_chosen() -> None:
    """One transform with an unknown ID, one we understand but our policy refuses."""
    first, second = offer().proposals[0].transforms
    odd = replace(first, transform_id=7)
    refused = replace(
        second,
        attributes=tuple(a if a.kind != 4 else basic(4, 5) for a in second.attributes),
    )
    answer = answer_to(mm1(_with_proposal(transforms=(odd, refused))))
    assert answer is NotifyType.NO_PROPOSAL_CHOSEN


def test_bad_proposal_numbering() -> None:
    sa = offer()
    (proposal,) = sa.proposals
    backwards = replace(sa, proposals=(replace(proposal, number=2), replace(proposal, number=1)))
    assert answer_to(mm1(backwards)) is NotifyType.BAD_PROPOSAL_SYNTAX
    twice = tuple(replace(t, number=1) for t in proposal.transforms)
    assert answer_to(mm1(_with_proposal(transforms=twice))) is NotifyType.BAD_PROPOSAL_SYNTAX
    assert answer_to(mm1(_with_proposal(transforms=()))) is NotifyType.BAD_PROPOSAL_SYNTAX


# ------------------------------------------------------------------ key exchange, identity
def test_bad_key_exchange_value() -> None:
    cfg_a, cfg_b = site_to_site()
    a, b = IkeV1Engine(cfg_a, seeded(1)), IkeV1Engine(cfg_b, seeded(2))
    a.initiate("to-b", A, None, 0.0)
    (first,) = a.datagrams_to_send()
    b.receive_datagram(first.data, B, A, 0.0)
    (second,) = b.datagrams_to_send()
    a.receive_datagram(second.data, A, B, 0.0)
    (third,) = a.datagrams_to_send()
    header = parse_header(third.data)
    payloads = decode_chain(header.next_payload, third.data[HEADER_SIZE:])
    bad = [
        OpaquePayload(PayloadType.KE, b"\x01" * 10) if p.payload_type == PayloadType.KE else p
        for p in payloads
    ]
    forged = message(bad, cookie_i=header.cookie_i, cookie_r=header.cookie_r)
    b.receive_datagram(forged, B, A, 0.0)
    ((_, notify),) = clear_answers(b.datagrams_to_send())
    assert notify.notify_type == NotifyType.INVALID_KEY_INFORMATION


def test_unknown_identity_is_answered_protected_and_fails_the_initiator() -> None:
    """B holds a key for A's address but no crypto map entry for it: MM5 is refused with
    a protected INVALID_ID_INFORMATION, which A believes: its negotiation ends at once."""
    import ipaddress

    other = (ipaddress.ip_network("192.0.2.77/32"),)
    pair = v1_pair(site_to_site(b={"remote_addresses": other}))
    pair.initiate()
    pair.run(0.5)
    (refused,) = pair.of_type("a", NegotiationFailed)
    assert refused.notify == "INVALID_ID_INFORMATION" and refused.protocol == "IKEv1"
    assert "peer answered" in refused.reason and refused.at == pair.wire_times[-1]
    (abandoned,) = pair.of_type("a", IkeSaAbandoned)
    assert abandoned.reason.name == "NEGOTIATION_FAILED"
    assert abandoned.detail == "INVALID_ID_INFORMATION"
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
    assert pair.b.stats["error notify sent: INVALID_ID_INFORMATION"] == 1
    assert pair.a.stats["protected error notifies"] == 1
    last = parse_header(pair.wire[-1][1].data)
    assert last.exchange == ExchangeType.INFORMATIONAL and last.encrypted


def test_wrong_psk_is_answered_authentication_failed_protected() -> None:
    import ipaddress

    from engine.ikev1.policy import PresharedKey
    from engine.secret import Secret

    wrong = (PresharedKey(Secret("not-the-key"), ipaddress.ip_network(f"{A_ADDR}/32")),)
    pair = v1_pair(site_to_site(sb={"keys": wrong}))
    pair.initiate()
    pair.run(0.5)
    assert pair.b.stats["error notify sent: AUTHENTICATION_FAILED"] == 1
    sent_by_b = [parse_header(d.data) for side, d in pair.wire if side == "b"]
    assert sent_by_b[-1].exchange == ExchangeType.INFORMATIONAL and sent_by_b[-1].encrypted


# ------------------------------------------------------------------ once the SA is up
def _established() -> tuple[object, IsakmpSa, IsakmpSa]:
    pair = v1_pair(site_to_site())
    pair.established()
    (sa_a,), (sa_b,) = active(pair.a), active(pair.b)
    return pair, sa_a, sa_b


def test_quick_mode_with_message_id_zero_is_answered_protected() -> None:
    pair, sa_a, sa_b = _established()
    data = message(
        [],
        cookie_i=sa_a.cookie_i,
        cookie_r=sa_a.cookie_r,
        exchange=ExchangeType.QUICK,
        flags=HeaderFlag.ENCRYPTION,
        body=bytes(32),
        first=PayloadType.HASH,
    )
    pair.b.receive_datagram(data, B, A, pair.now)  # type: ignore[attr-defined]
    out = pair.b.datagrams_to_send()  # type: ignore[attr-defined]
    (notify,) = protected_answers(out, sa_b)
    assert notify.notify_type == NotifyType.INVALID_MESSAGE_ID
    assert notify.spi == sa_b.cookie_i + sa_b.cookie_r


def test_bad_hash_and_bad_spi_in_quick_mode_are_answered_protected() -> None:
    pair, sa_a, sa_b = _established()
    esp = Proposal(1, ProtocolId.ESP, b"\x00\x01", (Transform(1, 12, ()),))
    body: list[Payload] = [SaPayload((esp,)), nonce(bytes(32))]
    forged = sa_a.seal(ExchangeType.QUICK, 0x1234, [hash_payload(bytes(32)), *body], encrypted=True)
    pair.b.receive_datagram(forged, B, A, pair.now)  # type: ignore[attr-defined]
    (notify,) = protected_answers(pair.b.datagrams_to_send(), sa_b)  # type: ignore[attr-defined]
    assert notify.notify_type == NotifyType.INVALID_HASH_INFORMATION
    signed = sa_a.seal_protected(ExchangeType.QUICK, 0x5678, body)
    pair.b.receive_datagram(signed, B, A, pair.now)  # type: ignore[attr-defined]
    (notify,) = protected_answers(pair.b.datagrams_to_send(), sa_b)  # type: ignore[attr-defined]
    assert notify.notify_type == NotifyType.INVALID_SPI
    assert sa_b.is_up and len(sa_b.children) == 1  # what is up stays up


# ------------------------------------------------------------------ received notifies
def test_an_unprotected_error_notify_does_not_end_phase_1() -> None:
    pair = v1_pair(site_to_site())
    pair.blocked.add("b")
    pair.initiate()
    pair.run(0.1)
    (sa_a,) = pair.a.ike_sas()
    forged = message(
        [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN, ProtocolId.ISAKMP, sa_a.cookie_i + ZERO)],
        cookie_i=sa_a.cookie_i,
        exchange=ExchangeType.INFORMATIONAL,
    )
    pair.a.receive_datagram(forged, A, B, pair.now)
    assert pair.a.ike_sas() == [sa_a] and not sa_a.closed
    assert pair.a.stats["unprotected error notifies"] == 1
    assert pair.a.drops[IkeDrop.PROTOCOL] == 1
    assert not pair.a.datagrams_to_send()  # and not answered
    pair.blocked.clear()
    pair.run(5)  # the retransmitted MM1 gets through: the negotiation completes
    assert pair.of_type("a", IkeSaUp) and not pair.of_type("a", NegotiationFailed)


def test_an_unprotected_error_notify_is_reported_when_phase_1_times_out() -> None:
    pair = v1_pair(site_to_site())
    pair.blocked.add("b")
    pair.initiate()
    pair.run(0.1)
    (sa_a,) = pair.a.ike_sas()
    forged = message(
        [NotifyPayload(NotifyType.INVALID_FLAGS, ProtocolId.ISAKMP, sa_a.cookie_i + ZERO)],
        cookie_i=sa_a.cookie_i,
        exchange=ExchangeType.INFORMATIONAL,
    )
    pair.a.receive_datagram(forged, A, B, pair.now)
    pair.run(60)
    (failed,) = pair.of_type("a", NegotiationFailed)
    assert failed.notify == "INVALID_FLAGS" and "without protection" in failed.reason


def test_a_notify_is_never_answered_with_a_notify() -> None:
    engine = gateway()
    bad = [
        # unknown cookies, an unknown payload type, a bad version: all informational
        message([NotifyPayload(1)], cookie_r=b"\x22" * 8, exchange=ExchangeType.INFORMATIONAL),
        message([], exchange=ExchangeType.INFORMATIONAL, first=40, body=bytes(8)),
        message([NotifyPayload(1)], exchange=ExchangeType.INFORMATIONAL, version=0x20),
        message([NotifyPayload(1)], exchange=ExchangeType.INFORMATIONAL, flags=0x80),
    ]
    for data in bad:
        engine.receive_datagram(data, B, A, 0.0)
    assert not engine.datagrams_to_send()
    assert sum(engine.drops.values()) == len(bad)
    pair, sa_a, sa_b = _established()
    garbled = sa_a.seal(ExchangeType.INFORMATIONAL, 77, [hash_payload(bytes(32))], encrypted=True)
    pair.b.receive_datagram(garbled, B, A, pair.now)  # type: ignore[attr-defined]
    assert not pair.b.datagrams_to_send()  # type: ignore[attr-defined]
    assert sa_b.is_up


# ------------------------------------------------------------------ the limit
def test_a_flood_from_one_address_gets_at_most_the_burst() -> None:
    engine = gateway()
    for n in range(200):
        engine.receive_datagram(mm1(version=0x20, cookie_i=n.to_bytes(8, "big")), B, A, 0.0)
    assert len(engine.datagrams_to_send()) == PER_SOURCE_BURST
    assert engine.stats["error notifies suppressed"] == 200 - PER_SOURCE_BURST
    assert engine.drops[IkeDrop.UNSUPPORTED_VERSION] == 200
    engine.receive_datagram(mm1(version=0x20), B, A, 3.0)  # tokens come back with time
    assert len(engine.datagrams_to_send()) == 1


def test_a_flood_from_many_addresses_gets_at_most_the_global_cap() -> None:
    engine = gateway()
    for n in range(500):
        source = (f"198.51.{n // 250}.{n % 250 + 1}", 500)
        engine.receive_datagram(mm1(version=0x20), B, source, 0.0)
    assert len(engine.datagrams_to_send()) == GLOBAL_BURST
    assert engine.stats["error notifies suppressed"] == 500 - GLOBAL_BURST


def test_the_limiter_forgets_the_oldest_addresses() -> None:
    limiter = NotifyLimiter(per_source_burst=1, sources_kept=2)
    assert limiter.allow("a", 0.0) and not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0) and limiter.allow("c", 0.0)
    assert len(limiter._sources) == 2


def test_a_retransmitted_refused_first_message_is_answered_not_renegotiated() -> None:
    engine = gateway()
    first = mm1(_with_proposal(protocol=ProtocolId.ESP))
    for at in (0.0, 1.0, 3.0):
        engine.receive_datagram(first, B, A, at)
    answers = clear_answers(engine.datagrams_to_send())
    assert [n.notify_type for _, n in answers] == [NotifyType.INVALID_PROTOCOL_ID] * 3
    assert len({h.cookie_r for h, _ in answers}) == 1 and not engine.ike_sas()


FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 4, 5, 6, 32, 33, 99, 250]),
            st.integers(0, 255),
            st.sampled_from([0x10, 0x11, 0x20]),
            st.integers(0, 3),
            st.binary(max_size=120),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_random_datagrams_never_raise_nor_outrun_the_limit(
    datagrams: list[tuple[int, int, int, int, bytes]],
) -> None:
    """Headers of every kind with random bodies, all from one address: nothing raises,
    at most the burst of error notifies goes out, and never more answers than input."""
    engine = gateway()
    for exchange, flags, version, message_id, body in datagrams:
        cookie_r = ZERO if flags & 0x10 else b"\x22" * 8
        data = message(
            [],
            cookie_r=cookie_r,
            exchange=exchange,
            flags=flags & 0x0F,
            message_id=message_id,
            version=version,
            first=body[0] if body else 0,
            body=body[1:],
        )
        engine.receive_datagram(data, B, A, 0.0)
    out = engine.datagrams_to_send()
    informational = [d for d in out if parse_header(d.data).exchange == ExchangeType.INFORMATIONAL]
    assert len(informational) <= PER_SOURCE_BURST
    assert len(out) <= len(datagrams)
    assert not engine.stats["internal errors"]
