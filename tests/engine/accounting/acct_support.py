"""Shared pieces of the accounting tests: configurations, session records, a small
RADIUS accounting server on 127.0.0.1 that checks every request as a real one would,
and a gateway process to SIGKILL (acct_child.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from pyrad.packet import AccountingRequest, AcctPacket
from session_records import session_record as shared_session_record

from engine.accounting.accountant import Accountant
from engine.accounting.dictionary import load_dictionary
from engine.accounting.transport import Timers
from engine.config.compile import CompiledConfig, compile_config
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.events import ZERO, Counters, DownReason, SessionTransition
from engine.log_storms import LogRateLimiter
from engine.logbook import Logbook
from engine.records import SessionRecord, SessionStatus
from engine.store import Store

KEY = "acct-test-key"
PEER = "WAN 10"
SESSION = "10.0.0.2:500 ivrf=CORP"
T0 = 1_700_000_000.0
#: fast RFC 5080 timers: 3 transmissions within half a second
FAST = Timers(irt=0.05, mrt=0.1, mrc=3, mrd=0.5, jitter=0.1, deadtime=0.0, spool_retry=0.2)


class Clock:
    """A wall clock the test moves."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def config_text(
    ports: Sequence[int] = (1813,),
    *,
    mode: str = "start-stop",
    broadcast: bool = False,
    group: str = "radius",
    update: str | None = None,
    vsa: bool = True,
    keys: Sequence[str] | None = None,
    deadtime: int | None = None,
) -> str:
    """A gateway with one static peer (WAN 10 -> 10.0.0.2) accounted by list ACCT."""
    keys = list(keys) if keys is not None else [KEY] * len(ports)
    lines = [
        "hostname gw-test",
        "aaa new-model",
        f"aaa accounting network ACCT {mode} {'broadcast ' if broadcast else ''}group {group}",
        "aaa session-id common",
    ]
    if update:
        lines.append(f"aaa accounting update {update}")
    if group != "radius":
        lines.append(f"aaa group server radius {group}")
        lines += [f" server 127.0.0.1 auth-port 1812 acct-port {p}" for p in ports]
    lines += [
        f"radius-server host 127.0.0.1 auth-port 1812 acct-port {p} key {k}"
        for p, k in zip(ports, keys, strict=True)
    ]
    lines += ["radius-server retransmit 2", "radius-server timeout 1"]
    if deadtime is not None:
        lines.append(f"radius-server deadtime {deadtime}")
    if vsa:
        lines.append("radius-server vsa send accounting")
    lines += [
        "ip vrf CORP",
        "crypto ikev2 keyring KEYS",
        " peer B",
        "  address 10.0.0.2",
        "  pre-shared-key peer-key",
        "crypto ikev2 profile PROF",
        " match identity remote address 10.0.0.2 255.255.255.255",
        " authentication local pre-share",
        " authentication remote pre-share",
        " keyring local KEYS",
        " ivrf CORP",
        " aaa accounting psk ACCT",
        "crypto ipsec transform-set TS esp-gcm 256",
        "ip access-list extended TO-B",
        " permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255",
        "crypto map WAN 10 ipsec-isakmp",
        " set peer 10.0.0.2",
        " set transform-set TS",
        " set ikev2-profile PROF",
        " match address TO-B",
        "interface GigabitEthernet1",
        " ip address 10.0.0.1 255.255.255.0",
        " crypto map WAN",
    ]
    return "\n".join(lines) + "\n"


def load_config(text: str) -> tuple[Config, CompiledConfig]:
    model = validate(parse_text(text, "acct-test.conf"))
    assert model.errors == [], [str(d) for d in model.errors]
    return model, compile_config(model)


def session_record(
    status: SessionStatus = SessionStatus.UP_ACTIVE,
    totals: Counters = ZERO,
    session_id: str = SESSION,
    **changes: object,
) -> SessionRecord:
    return shared_session_record(session_id, status, totals, at=T0, **changes)


def transition(
    old: SessionStatus | None,
    new: SessionStatus,
    at: float,
    *,
    totals: Counters = ZERO,
    reason: DownReason | None = None,
    **changes: object,
) -> SessionTransition:
    return SessionTransition(session_record(new, totals, **changes), old, new, at, reason)


def up(at: float = T0, **changes: object) -> SessionTransition:
    return transition(SessionStatus.UP_IDLE, SessionStatus.UP_ACTIVE, at, **changes)


def down(
    at: float,
    totals: Counters = ZERO,
    reason: DownReason | None = DownReason.PEER_DELETE,
    **changes: object,
) -> SessionTransition:
    return transition(
        SessionStatus.UP_ACTIVE, SessionStatus.DOWN, at, totals=totals, reason=reason, **changes
    )


def make_accountant(
    tmp_path: Path,
    text: str,
    *,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    timers: Timers | None = FAST,
    spool_name: str = "spool.sqlite",
    **kwargs: object,
) -> tuple[Accountant, Store]:
    store = store or Store()
    # The tests read `debug crypto isakmp aaa` lines as a trace of what was sent; the
    # logbook's storm limit (20 lines a minute per message type) would cut it short.
    logbook = Logbook(store, limiter=LogRateLimiter(per_window=1 << 30))
    accountant = Accountant(
        store,
        logbook,
        spool_path=tmp_path / spool_name,
        clock=clock or Clock(),
        timers=timers,
        **kwargs,  # type: ignore[arg-type]
    )
    accountant.apply_config(*load_config(text))
    return accountant, store


def log_lines(store: Store) -> list[str]:
    return [entry.ios_line() for entry in store.table("syslog").values()]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- the responder
@dataclass(frozen=True)
class Received:
    """One Accounting-Request whose Request Authenticator verified."""

    ident: int
    source: tuple[str, int]
    attributes: dict[str, list[object]]
    at: float
    server: int

    def one(self, name: str) -> object:
        values = self.attributes.get(name, [])
        assert len(values) == 1, (name, values)
        return values[0]

    @property
    def status(self) -> str:
        return str(self.one("Acct-Status-Type"))

    @property
    def session(self) -> str:
        return str(self.one("Acct-Session-Id"))

    @property
    def delay(self) -> int:
        return int(self.one("Acct-Delay-Time"))  # type: ignore[call-overload]


#: what to do with a request: a list of reply delays (empty: drop; two: a duplicate)
Policy = Callable[[Received], Sequence[float]]
#: the datagram to send instead of a good answer (the request's Id, the good answer)
Answer = Callable[[int, bytes], bytes]


def always(received: Received) -> Sequence[float]:
    return [0.0]


@dataclass
class Responder(asyncio.DatagramProtocol):
    """A RADIUS accounting server: verifies the Request Authenticator with its secret,
    records the request, answers Accounting-Response per `policy`. `answer_secret`
    other than `secret` forges the answers."""

    secret: bytes = KEY.encode()
    policy: Policy = always
    answer_secret: bytes | None = None
    answer: Answer | None = None
    received: list[Received] = field(default_factory=list)
    bad_requests: int = 0
    transport: asyncio.DatagramTransport | None = None
    replies: int = 0

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> Responder:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        sock = transport.get_extra_info("socket")
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
                    break
        return self

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            packet = AcctPacket(secret=self.secret, dict=load_dictionary(), packet=data)
        except Exception:
            self.bad_requests += 1
            return
        if packet.code != AccountingRequest or not packet.VerifyAcctRequest():
            self.bad_requests += 1
            return
        attributes = {str(k): list(packet[k]) for k in list(packet.keys()) if isinstance(k, str)}
        loop = asyncio.get_running_loop()
        received = Received(packet.id, addr, attributes, loop.time(), self.port)
        self.received.append(received)
        for delay in self.policy(received):
            loop.call_later(delay, self._reply, packet, addr)

    def _reply(self, request: AcctPacket, addr: tuple[str, int]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reply = request.CreateReply()
        if self.answer_secret is not None:
            reply.secret = self.answer_secret
        data = reply.ReplyPacket()
        if self.answer is not None:
            data = self.answer(request.id, data)
        self.transport.sendto(data, addr)
        self.replies += 1

    def statuses(self) -> list[tuple[str, str]]:
        return [(r.session, r.status) for r in self.received]


# ---------------------------------------------------------------------- a process to kill
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


@dataclass
class Child:
    """A gateway process (acct_child.py) and what it reported once its records were out."""

    process: asyncio.subprocess.Process
    report: dict[str, object]

    @property
    def open(self) -> dict[str, str]:
        """Engine session id -> Acct-Session-Id of the sessions it had open."""
        return self.report["open"]  # type: ignore[return-value]

    @property
    def log(self) -> list[str]:
        return self.report["log"]  # type: ignore[return-value]

    async def kill(self) -> None:
        """SIGKILL: no stop(), no Accounting-Off, the spool as last committed."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


async def spawn(spool: Path, port: int, plan: dict[str, object]) -> Child:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(HERE)])}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "acct_child.py"),
        str(spool),
        str(port),
        json.dumps(plan),
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    if not line:
        await process.wait()
        raise AssertionError(f"the gateway process exited with {process.returncode}")
    return Child(process, json.loads(line))
