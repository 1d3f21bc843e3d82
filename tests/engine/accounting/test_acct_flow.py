"""Flow control of accounting delivery: measured retransmission timers (RFC 6298 with
Karn's rule), the AIMD window of records in flight per server, and what that does for
a slow server."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest
from acct_support import KEY, T0, Clock, Received, Responder

from engine.accounting import packets
from engine.accounting.dictionary import load_dictionary
from engine.accounting.rtt import GRANULARITY, RttEstimator
from engine.accounting.transport import (
    Outbound,
    RadiusTransport,
    Sent,
    ServerConfig,
    Timers,
)
from engine.accounting.window import Window
from engine.secret import Secret

ATTRS = (("Acct-Session-Id", "00000001"), ("Acct-Status-Type", "Start"))


# ---------------------------------------------------------------------- the estimator
def test_first_sample_sets_srtt_and_half_of_it_as_rttvar() -> None:
    rtt = RttEstimator()
    assert rtt.rto is None
    assert rtt.timeout(2.0, 5.0) == 2.0  # nothing measured: IRT
    rtt.sample(0.4)
    assert rtt.srtt == pytest.approx(0.4)
    assert rtt.rttvar == pytest.approx(0.2)
    assert rtt.rto == pytest.approx(0.4 + 4 * 0.2)


def test_later_samples_follow_rfc6298() -> None:
    rtt = RttEstimator()
    rtt.sample(1.0)
    rtt.sample(2.0)
    # RTTVAR = 3/4 * 0.5 + 1/4 * |1.0 - 2.0|, SRTT = 7/8 * 1.0 + 1/8 * 2.0
    assert rtt.rttvar == pytest.approx(0.625)
    assert rtt.srtt == pytest.approx(1.125)
    assert rtt.rto == pytest.approx(1.125 + 2.5)
    steady = RttEstimator()
    for _ in range(200):
        steady.sample(0.01)
    assert steady.srtt == pytest.approx(0.01)
    assert steady.rto == pytest.approx(0.01 + GRANULARITY)  # RTTVAR gone: G remains


def test_timeout_is_floored_by_irt_and_capped_by_mrt() -> None:
    fast = RttEstimator()
    fast.sample(0.001)
    assert fast.timeout(1.0, 5.0) == 1.0
    slow = RttEstimator()
    slow.sample(1.0)
    assert slow.timeout(1.0, 5.0) == pytest.approx(3.0)
    assert slow.timeout(1.0, 2.5) == 2.5
    assert slow.timeout(1.0, 0.0) == pytest.approx(3.0)  # no MRT: no cap


def test_an_expired_timer_backs_off_the_next_exchanges_until_a_sample() -> None:
    rtt = RttEstimator()
    rtt.expired(1.0)
    assert rtt.timeout(1.0, 5.0) == 2.0
    rtt.expired(2.0)
    assert rtt.timeout(1.0, 5.0) == 4.0
    assert rtt.timeout(1.0, 3.0) == 3.0
    rtt.sample(0.1)
    assert rtt.backoff is None and rtt.timeout(1.0, 5.0) == 1.0


def test_first_wait_replaces_irt_in_the_rfc5080_backoff() -> None:
    timers = Timers(irt=1.0, mrt=8.0, jitter=0.1)
    rng = random.Random(3)
    for _ in range(100):
        first = timers.next_rt(None, lambda: rng.uniform(-1, 1), 3.0)
        assert 2.7 <= first <= 3.3
        assert 1.9 * first <= timers.next_rt(first, lambda: rng.uniform(-1, 1)) <= 2.1 * first


# ---------------------------------------------------------------------- the window
def test_window_grows_in_slow_start_then_by_one_per_window() -> None:
    window = Window(initial=4, maximum=64)
    for _ in range(4):
        window.answered()
    assert window.limit == 8
    window.lost(now=0.0, hold=1.0)
    assert window.limit == 4 and window.ssthresh == 4
    for _ in range(4):  # at the threshold: about one slot per window of answers
        window.answered()
    assert window.limit == 4 + 0  # 4 + 1/4 + 1/4.25 + ... stays under 5
    for _ in range(8):
        window.answered()
    assert window.limit >= 5
    big = Window(initial=60, maximum=64)
    for _ in range(100):
        big.answered()
    assert big.limit == 64


def test_window_halves_once_per_loss_event() -> None:
    window = Window(initial=32)
    window.lost(now=10.0, hold=0.5)
    window.lost(now=10.1, hold=0.5)  # the same burst of expired timers
    assert window.limit == 16
    window.lost(now=10.6, hold=0.5)
    assert window.limit == 8
    for _ in range(10):
        window.lost(now=100.0 + _, hold=0.5)
    assert window.limit == 1  # never below its minimum


async def test_window_holds_records_back_and_lets_them_go_on_answers() -> None:
    window = Window(initial=2)
    assert await window.acquire() and await window.acquire()
    third = asyncio.ensure_future(window.acquire())
    await asyncio.sleep(0)
    assert not third.done() and window.waiting == 1
    window.answered()  # one more slot
    assert await third is True
    fourth = asyncio.ensure_future(window.acquire())
    await asyncio.sleep(0)
    assert not fourth.done()
    window.release()
    assert await fourth is True and window.in_flight == 3


async def test_a_failed_exchange_lets_the_waiting_records_fail_over() -> None:
    window = Window(initial=1)
    assert await window.acquire()
    waiting = [asyncio.ensure_future(window.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    window.failed(now=0.0, hold=1.0)
    assert [await w for w in waiting] == [False, False, False]
    assert window.limit == 1 and window.waiting == 0


# ---------------------------------------------------------------------- on the wire
def drop_first_transmission() -> tuple[list[int], Responder]:
    """A server that ignores each record's first transmission and answers the rest."""
    seen: list[int] = []

    def policy(received: Received) -> Sequence[float]:
        key = received.session
        first = key not in {s for s in map(str, seen)}
        seen.append(int(key))
        return [] if first else [0.0]

    return seen, Responder(policy=policy)


async def test_karn_no_sample_from_a_retransmitted_exchange() -> None:
    _, server = drop_first_transmission()
    await server.start()
    transport = RadiusTransport(rng=random.Random(1))
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=0.05, mrt=0.2, mrc=4, mrd=2.0)
    try:
        attrs = (("Acct-Session-Id", "1"), ("Acct-Status-Type", "Start"))
        assert await transport.send(Outbound(1, attrs, 0.0), config, timers) is not None
        assert transport.state(config).retransmissions == 1
        rtt = transport.rtt(config)
        assert rtt.samples == 0 and rtt.srtt is None  # answered, but after a retransmission
        assert rtt.backoff is not None
        attrs = (("Acct-Session-Id", "2"), ("Acct-Status-Type", "Start"))
        server.policy = lambda r: [0.0]
        assert await transport.send(Outbound(2, attrs, 0.0), config, timers) is not None
        assert rtt.samples == 1 and rtt.srtt is not None and rtt.backoff is None
        state = transport.state(config)
        assert state.srtt_ms is not None and state.rto_ms == pytest.approx(50.0, abs=1.0)
    finally:
        await transport.close()
        server.close()


async def test_a_slow_server_gets_no_retransmissions_once_its_rtt_is_learned() -> None:
    jitter = random.Random(5)
    delay = 0.25  # give or take 0.05, as a busy server does
    server = Responder(policy=lambda r: [jitter.uniform(delay - 0.05, delay + 0.05)])
    await server.start()
    transport = RadiusTransport(rng=random.Random(2))
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    # IRT far below the server's answer time: a fixed RFC 5080 timer resends each record
    timers = Timers(irt=0.03, mrt=2.0, mrc=5, mrd=8.0, jitter=0.0)
    try:
        record = 0
        while transport.rtt(config).samples == 0:  # back off until one is sent once
            record += 1
            assert record < 5
            assert await transport.send(Outbound(record, ATTRS, 0.0), config, timers)
        learned = transport.state(config).retransmissions
        assert learned >= 1  # it did cost retransmissions to learn it
        assert transport.rtt(config).timeout(timers.irt, timers.mrt) > 2 * delay
        window = transport.state(config).window
        sends = [transport.send(Outbound(100 + i, ATTRS, 0.0), config, timers) for i in range(40)]
        before = len(server.received)
        results = await asyncio.gather(*sends)
        assert all(r is not None for r in results)
        state = transport.state(config)
        assert state.retransmissions == learned
        assert len(server.received) - before == 40  # each record sent once
        assert state.window > window  # and its window grew back
    finally:
        await transport.close()
        server.close()


async def test_the_window_bounds_what_is_in_flight_to_a_server() -> None:
    in_flight: list[int] = []
    server = await Responder(policy=lambda r: [0.05]).start()
    transport = RadiusTransport(rng=random.Random(3), window_initial=4, window_max=8)
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=1.0, mrt=2.0, mrc=3, mrd=5.0)

    async def sample() -> None:
        while True:
            in_flight.append(transport.window(config).in_flight)
            await asyncio.sleep(0.005)

    sampler = asyncio.ensure_future(sample())
    try:
        sends = [transport.send(Outbound(i, ATTRS, 0.0), config, timers) for i in range(60)]
        assert all(r is not None for r in await asyncio.gather(*sends))
        assert max(in_flight) <= 8
        assert in_flight[0] <= 4 < max(in_flight)  # it grew with the answers
        assert transport.state(config).retransmissions == 0
    finally:
        sampler.cancel()
        await transport.close()
        server.close()


async def test_a_record_encoded_once_is_retransmitted_with_a_new_id_and_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attributes are encoded once per record; each transmission still carries its
    own Acct-Delay-Time, and so a new Identifier (RFC 5080 2.2.1)."""
    encoded: list[object] = []
    real = packets.encode_attributes

    def counting(dictionary: object, attributes: object) -> bytes | None:
        encoded.append(attributes)
        return real(dictionary, attributes)  # type: ignore[arg-type]

    monkeypatch.setattr(packets, "encode_attributes", counting)
    _, server = drop_first_transmission()
    await server.start()
    clock = Clock()

    def advance(event: object) -> None:
        if isinstance(event, Sent) and event.attempt == 1:
            clock.advance(3.0)  # the first transmission is lost; time passes

    transport = RadiusTransport(clock=clock, on_event=advance, rng=random.Random(1))
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=0.05, mrt=0.2, mrc=4, mrd=2.0)
    try:
        for n, body in ((1, True), (2, False)):
            attrs = (("Acct-Session-Id", str(n)), ("Acct-Status-Type", "Start"))
            encoded.clear()
            made = packets.ensure_encodable(load_dictionary(), attrs) if body else None
            out = Outbound(n, attrs, T0 - 2.0, made)
            assert await transport.send(out, config, timers) is not None
            assert len(encoded) == 1  # by the caller, or by the first transmission
            first, second = [
                r for r in server.received if r.attributes["Acct-Session-Id"] == [str(n)]
            ]
            assert first.ident != second.ident
            assert first.attributes["Acct-Delay-Time"] == [2 + 3 * (n - 1)]
            assert second.attributes["Acct-Delay-Time"] == [5 + 3 * (n - 1)]
            rest = [
                {k: v for k, v in r.attributes.items() if k != "Acct-Delay-Time"}
                for r in (first, second)
            ]
            assert rest[0] == rest[1]
    finally:
        await transport.close()
        server.close()
