"""The transport's pieces on their own: RFC 5080 timers, authenticators, Identifiers,
and what happens to datagrams that answer nothing."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import socket
import struct

import pytest
from acct_support import KEY, Responder

from engine.accounting.dictionary import load_dictionary
from engine.accounting.transport import (
    Acked,
    EncodeError,
    Outbound,
    RadiusTransport,
    Sent,
    ServerConfig,
    ServerState,
    TimedOut,
    Timers,
    TransportEvent,
    encode_request,
    verify_response,
)
from engine.secret import Secret

ATTRS = (("Acct-Session-Id", "00000001"), ("Acct-Status-Type", "Start"))


def test_timers_follow_the_radius_server_commands() -> None:
    timers = Timers.from_settings(retransmit=3, timeout=5, deadtime_minutes=2)
    assert (timers.irt, timers.mrt, timers.mrc, timers.mrd) == (2.0, 5.0, 4, 20.0)
    assert timers.deadtime == 120.0
    assert Timers.from_settings(0, 1, 0).mrc == 1
    assert Timers.from_settings(0, 1, 0).irt == 1.0


def test_rfc5080_backoff_with_jitter() -> None:
    timers = Timers(irt=2.0, mrt=16.0, jitter=0.1)
    rng = random.Random(1)
    for _ in range(200):
        rt = timers.next_rt(None, lambda: rng.uniform(-1, 1))
        assert 1.8 <= rt <= 2.2
        second = timers.next_rt(rt, lambda: rng.uniform(-1, 1))
        assert 1.9 * rt <= second <= 2.1 * rt
        capped = timers.next_rt(15.0, lambda: rng.uniform(-1, 1))
        assert 14.4 <= capped <= 17.6


def test_response_authenticator() -> None:
    key = Secret(KEY)
    raw, authenticator = encode_request(load_dictionary(), ATTRS, 3, 42, key)
    assert raw[1] == 42 and raw[4:20] == authenticator
    body = b""
    header = struct.pack("!BBH", 5, 42, 20)
    good = header + hashlib.md5(header + authenticator + body + KEY.encode()).digest()
    assert verify_response(good, authenticator, key)
    assert not verify_response(good, authenticator, Secret("other"))
    assert not verify_response(good, b"\0" * 16, key)
    assert not verify_response(good[:19], authenticator, key)
    assert not verify_response(good[:2] + b"\x00\x30" + good[4:], authenticator, key)


def test_a_record_that_cannot_be_encoded() -> None:
    with pytest.raises(EncodeError):
        encode_request(load_dictionary(), (("No-Such-Attribute", 1),), 0, 1, Secret("k"))
    with pytest.raises(EncodeError):
        encode_request(load_dictionary(), (("User-Name", "x" * 300),), 0, 1, Secret("k"))


def test_server_config_hides_its_key() -> None:
    server = ServerConfig("127.0.0.1", 1813, Secret(KEY))
    assert KEY not in repr(server) and KEY not in str(server)
    assert ServerConfig("::1", 1813, Secret(KEY)).name == "[::1]:1813"


async def test_stray_and_unmatched_datagrams_are_counted() -> None:
    server = await Responder(policy=lambda r: [0.0]).start()
    events: list[TransportEvent] = []
    states: list[ServerState] = []
    transport = RadiusTransport(on_event=events.append, on_state=states.append)
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=0.2, mrt=0.2, mrc=2, mrd=1.0)
    try:
        assert await transport.send(Outbound(1, ATTRS, 0.0), config, timers) is not None
        assert [type(e) for e in events] == [Sent, Acked]
        [port] = transport.source_ports()
        # a datagram from nobody we talk to
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.sendto(b"\x05\x01\x00\x14" + b"\0" * 16, ("127.0.0.1", port))
        # from the server, but answering an Id nobody waits for
        assert server.transport is not None
        server.transport.sendto(b"\x05\x07\x00\x14" + b"\0" * 16, ("127.0.0.1", port))
        server.transport.sendto(b"\x05", ("127.0.0.1", port))
        await asyncio.sleep(0.1)
        assert transport.stray == 1
        state = transport.state(config)
        assert state.unmatched == 1 and state.malformed == 1 and state.responses == 1
    finally:
        await transport.close()
        server.close()


async def test_a_silent_server_times_out_after_mrc() -> None:
    server = await Responder(policy=lambda r: []).start()
    events: list[TransportEvent] = []
    transport = RadiusTransport(on_event=events.append)
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    try:
        timers = Timers(irt=0.02, mrt=0.04, mrc=3, mrd=5.0)
        assert await transport.send(Outbound(1, ATTRS, 0.0), config, timers) is None
        assert [type(e) for e in events] == [Sent, Sent, Sent, TimedOut]
        assert len(server.received) == 3
        silent = events[-1]
        assert isinstance(silent, TimedOut) and silent.replies.total == 0
        assert silent.summary() == "no response after 3 attempts"
        # MRD ends an exchange before MRC does
        events.clear()
        timers = Timers(irt=0.1, mrt=0.1, mrc=10, mrd=0.25)
        assert await transport.send(Outbound(2, ATTRS, 0.0), config, timers) is None
        # sends at about 0, 0.1 and 0.2 s; a loop late by a few tens of milliseconds
        # under load reaches MRD after the second: either way far short of MRC's 10
        assert 2 <= [type(e) for e in events].count(Sent) <= 3
        state = transport.state(config)
        assert state.timeouts == 2 and state.in_flight == 0
    finally:
        await transport.close()
        server.close()


async def test_identifiers_are_reused_as_late_as_possible() -> None:
    server = await Responder().start()
    transport = RadiusTransport()
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    try:
        timers = Timers(irt=1.0, mrt=1.0, mrc=1, mrd=1.0)
        for i in range(20):
            await transport.send(Outbound(i, ATTRS, 0.0), config, timers)
        ids = [r.ident for r in server.received]
        assert len(set(ids)) == 20  # sequential sends never reuse a just-freed Id
        assert all((b - a) % 256 == 1 for a, b in itertools.pairwise(ids))
    finally:
        await transport.close()
        server.close()


async def test_transmissions_and_answers_reach_hooks_without_events() -> None:
    """With `on_sent`/`on_acked` set, every transmission and answer is a plain call
    with what a Sent or an Acked would carry, and `on_event` sees neither."""
    server = await Responder(policy=lambda r: [] if len(server.received) == 1 else [0.0]).start()
    events: list[TransportEvent] = []
    transport = RadiusTransport(on_event=events.append)
    sent: list[tuple[int, str, int, int, int]] = []
    acked: list[tuple[int, str, int]] = []
    transport.on_sent = lambda rid, srv, ident, attempt, mrc, delay: sent.append(
        (rid, srv.name, ident, attempt, mrc)
    )
    transport.on_acked = lambda rid, srv, ident, rtt: acked.append((rid, srv.name, ident))
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    try:
        timers = Timers(irt=0.02, mrt=0.04, mrc=3, mrd=5.0)
        assert await transport.send(Outbound(7, ATTRS, 0.0), config, timers) is not None
        assert [(rid, attempt, mrc) for rid, _, _, attempt, mrc in sent] == [(7, 1, 3), (7, 2, 3)]
        assert sent[0][2] != sent[1][2]  # each transmission has its own Identifier
        assert acked == [(7, config.name, sent[1][2])]
        assert not [e for e in events if isinstance(e, Sent | Acked)]
    finally:
        await transport.close()
        server.close()
