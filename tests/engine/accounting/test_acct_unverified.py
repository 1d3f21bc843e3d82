"""A server that answers, but never with a reply that verifies (a wrong shared key,
garbage, stale answers), is reported for what it does, not as a silent one."""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from acct_support import (
    FAST,
    KEY,
    T0,
    Answer,
    Responder,
    config_text,
    log_lines,
    make_accountant,
    up,
)

from engine.accounting import idbook
from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState
from engine.accounting.transport import (
    Outbound,
    RadiusTransport,
    ServerConfig,
    ServerState,
    TimedOut,
    Timers,
    TransportEvent,
)
from engine.secret import Secret
from engine.store import ACCOUNTING, SERVERS, Store

#: slower than FAST, so that most answers land within their exchange on a loaded machine
TIMERS = replace(FAST, irt=0.1, mrt=0.2, mrd=1.0)
#: the last attempt's answer may come after that attempt gave up on a loaded machine
COUNT = "[123]"
WRONG_KEY = b"not-the-acct-key"
ATTRS = (("Acct-Session-Id", "00000001"), ("Acct-Status-Type", "Start"))


@pytest.fixture
async def responders() -> AsyncIterator[Callable[..., object]]:
    started: list[Responder] = []

    async def make(**kwargs: object) -> Responder:
        responder = await Responder(**kwargs).start()  # type: ignore[arg-type]
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.close()


def start_record(store: Store) -> AccountingRecord | None:
    rows = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    return next((r for r in rows if r.kind == "Start"), None)


async def spooled_start(accountant: Accountant, store: Store) -> AccountingRecord:
    """Open a session and wait until its Start failed its first delivery."""
    accountant.on_transition(up(T0))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while (record := start_record(store)) is None or record.state is not DeliveryState.SPOOLED:
        assert loop.time() < deadline, "the Start was never spooled"
        await asyncio.sleep(0.01)
    return record


def server_state(store: Store, port: int) -> ServerState:
    state = store.get(SERVERS, f"127.0.0.1:{port}")
    assert isinstance(state, ServerState)
    return state


async def test_a_wrong_shared_key_is_named(tmp_path: Path, responders) -> None:
    server = await responders(answer_secret=WRONG_KEY)
    name = f"127.0.0.1:{server.port}"
    accountant, store = make_accountant(tmp_path, config_text([server.port]), timers=TIMERS)
    await accountant.start()
    try:
        record = await spooled_start(accountant, store)
        why = f"no verified reply after 3 attempts: {COUNT} replies with a bad authenticator"
        hint = re.escape(" (shared key mismatch?)")
        lines = log_lines(store)
        # Accounting-On and Start both failed so: the operator is told once
        warnings = [line for line in lines if "RADIUS_BADREPLY" in line]
        assert len(warnings) == 1
        assert re.fullmatch(
            f"%RADIUS-4-RADIUS_BADREPLY: RADIUS server 127.0.0.1:1812,{server.port}: no "
            f"verified accounting reply after 3 attempts: {COUNT} replies with a bad "
            f"authenticator{hint}",
            warnings[0],
        )
        assert re.search(
            f"AAA: accounting Start for session 00000002: no verified reply from {name} after "
            f"3 attempts: {COUNT} replies with a bad authenticator{hint}",
            "\n".join(lines),
        )
        assert not [line for line in lines if "no response" in line or "no answer" in line]
        assert re.fullmatch(why + hint, server_state(store, server.port).last_failure)
        assert re.fullmatch(f"waiting for {name} \\({why}{hint}\\)", record.detail)
        shown = "\n".join(lines) + repr(record) + repr(server_state(store, server.port))
        assert KEY not in shown and WRONG_KEY.decode() not in shown

        server.answer_secret = None  # the key is fixed on the server
        assert await accountant.wait_idle(5)
        assert server_state(store, server.port).last_failure == ""
        server.answer_secret = WRONG_KEY  # and broken again: told again, once
        accountant.on_transition(up(T0, session_id="another"))
        await asyncio.sleep(1.5)  # two failed rounds
        lines = log_lines(store)
        queued = next(i for i, line in enumerate(lines) if "queued for session 00000003" in line)
        assert len([line for line in lines[queued:] if "RADIUS_BADREPLY" in line]) == 1
    finally:
        accountant.drain_timeout = 0.1
        await accountant.stop()


def junk(ident: int, good: bytes) -> bytes:
    return b"<html>Service Unavailable</html>"


def wrong_code(ident: int, good: bytes) -> bytes:
    return bytes([2]) + good[1:]  # an Access-Accept, with the request's Id


def too_long(ident: int, good: bytes) -> bytes:
    return good[:2] + struct.pack("!H", len(good) + 10) + good[4:]


@pytest.mark.parametrize("answer", [junk, wrong_code, too_long])
async def test_garbage_answers_are_named(tmp_path: Path, responders, answer: Answer) -> None:
    server = await responders(answer=answer)
    accountant, store = make_accountant(tmp_path, config_text([server.port]), timers=TIMERS)
    await accountant.start()
    try:
        await spooled_start(accountant, store)
        why = f"no verified reply after 3 attempts: {COUNT} malformed replies"
        assert re.fullmatch(why, server_state(store, server.port).last_failure)
        lines = "\n".join(log_lines(store))
        assert f"RADIUS server 127.0.0.1:1812,{server.port}: no verified accounting reply " in (
            lines
        )
        assert f"Start for session 00000002: no verified reply from 127.0.0.1:{server.port} " in (
            lines
        )
        assert re.search(f"{COUNT} malformed replies", lines) and "no response" not in lines
    finally:
        accountant.drain_timeout = 0.1
        await accountant.stop()


async def test_stale_answers_are_named(tmp_path: Path, responders) -> None:
    """A server that replays an answer it made before: the right key, an earlier Id."""
    first: list[bytes] = []

    def replay(ident: int, good: bytes) -> bytes:
        if not first:
            first.append(good)
        return first[0]

    server = await responders(answer=replay)
    accountant, store = make_accountant(tmp_path, config_text([server.port]), timers=TIMERS)
    await accountant.start()
    try:
        assert await accountant.wait_idle(5)  # the first answer was Accounting-On's own
        await spooled_start(accountant, store)
        stale = f"only stale replies \\({COUNT}, answering earlier requests\\)"
        why = f"no verified reply after 3 attempts: {stale}"
        assert re.fullmatch(why, server_state(store, server.port).last_failure)
        assert server_state(store, server.port).duplicates >= 1
        assert re.search(stale, "\n".join(log_lines(store)))
    finally:
        accountant.drain_timeout = 0.1
        await accountant.stop()


async def test_a_silent_server_is_still_no_response(tmp_path: Path, responders) -> None:
    server = await responders(policy=lambda r: [])
    accountant, store = make_accountant(tmp_path, config_text([server.port]), timers=TIMERS)
    await accountant.start()
    try:
        record = await spooled_start(accountant, store)
        assert server_state(store, server.port).last_failure == "no response after 3 attempts"
        assert (
            record.detail == f"waiting for 127.0.0.1:{server.port} (no response after 3 attempts)"
        )
        assert not [line for line in log_lines(store) if "RADIUS_BADREPLY" in line]
    finally:
        accountant.drain_timeout = 0.1
        await accountant.stop()


async def test_a_replayed_answer_to_a_reused_id_is_stale(monkeypatch) -> None:
    """Identifiers come back after 256 exchanges (here 2): a server that answers by
    (port, Id) from its cache replays the earlier exchange's answer to the new one."""
    monkeypatch.setattr(idbook, "IDS_PER_SOCKET", 2)
    cache: dict[tuple[int, int], bytes] = {}
    server = await Responder().start()

    def cached(ident: int, good: bytes) -> bytes:
        port = server.received[-1].source[1]
        return cache.setdefault((port, ident), good)

    server.answer = cached
    events: list[TransportEvent] = []
    transport = RadiusTransport(on_event=events.append)
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=0.1, mrt=0.1, mrc=2, mrd=1.0)
    try:
        for n in (1, 2, 3):  # other records: other Request Authenticators
            out = Outbound(n, (("Acct-Session-Id", f"0000000{n}"), ATTRS[1]), 0.0)
            assert (await transport.send(out, config, timers) is None) == (n == 3)
        failed = events[-1]
        assert isinstance(failed, TimedOut) and failed.attempts == 2
        assert (failed.replies.stale, failed.replies.total) == (2, 2)
        assert failed.summary() == (
            "no verified reply after 2 attempts: only stale replies (2, answering earlier requests)"
        )
    finally:
        await transport.close()
        server.close()


async def test_replies_count_for_the_exchange_they_name() -> None:
    """Two records in flight to a server with the wrong key: each exchange counts the
    answers to its own Ids, not the other's."""
    server = await Responder(answer_secret=WRONG_KEY).start()
    events: list[TransportEvent] = []
    transport = RadiusTransport(on_event=events.append)
    config = ServerConfig("127.0.0.1", server.port, Secret(KEY))
    timers = Timers(irt=0.1, mrt=0.1, mrc=3, mrd=1.0)
    try:
        results = await asyncio.gather(
            *(transport.send(Outbound(i, ATTRS, 0.0), config, timers) for i in (1, 2))
        )
        assert results == [None, None]
        failures = [e for e in events if isinstance(e, TimedOut)]
        counted = sorted((f.record_id, f.replies.bad_authenticators) for f in failures)
        assert counted == [(1, 3), (2, 3)]
        assert transport.state(config).bad_authenticators == 6
    finally:
        await transport.close()
        server.close()
