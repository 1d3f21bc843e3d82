"""A small RADIUS authentication server on 127.0.0.1 for the tests: it decodes each
Access-Request as a real server would (shared key, User-Password, Message-Authenticator)
and answers as the test says."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pyrad.packet import AccessAccept, AccessChallenge, AccessReject, AuthPacket

from engine.accounting.dictionary import load_dictionary
from engine.accounting.transport import ServerConfig, Timers
from engine.secret import Secret

KEY = "auth-test-key"
#: fast timers: 2 transmissions within 0.3 s
FAST = Timers(irt=0.05, mrt=0.1, mrc=2, mrd=0.3, jitter=0.0)


@dataclass
class Seen:
    user: str
    password: str
    attributes: dict[str, list[object]]
    message_authenticator_ok: bool


@dataclass
class Answer:
    code: int = AccessAccept
    attributes: dict[str, object | list[object]] = field(default_factory=dict)
    #: change the reply's bytes after signing (a forged or broken answer)
    tamper: Callable[[bytes], bytes] | None = None
    #: sign with another key
    key: str | None = None
    message_authenticator: bool = True
    #: a wrong Message-Authenticator under a right Response Authenticator
    forge_message_authenticator: bool = False


class AuthServer(asyncio.DatagramProtocol):
    """`answer(user, password) -> Answer | None` (None: stay silent)."""

    def __init__(self, answer: Callable[[str, str], Answer | None], key: str = KEY) -> None:
        self.answer = answer
        self.key = key.encode()
        self.seen: list[Seen] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        dictionary = load_dictionary()
        request = AuthPacket(packet=data, dict=dictionary, secret=self.key)
        ma_ok = request.message_authenticator is not None and request.verify_message_authenticator()
        user = request["User-Name"][0]
        password = request.PwDecrypt(request["User-Password"][0])
        attrs = {k: list(request[k]) for k in request.keys() if isinstance(k, str)}  # noqa: SIM118
        self.seen.append(Seen(user, password, attrs, bool(ma_ok)))
        answer = self.answer(user, password)
        if answer is None:
            return
        reply = request.CreateReply(message_authenticator=answer.message_authenticator)
        reply.code = answer.code
        if answer.key is not None:
            reply.secret = answer.key.encode()
        for name, value in answer.attributes.items():
            for item in value if isinstance(value, list) else [value]:
                reply.AddAttribute(name, item)
        raw = reply.ReplyPacket()
        if answer.tamper is not None:
            raw = answer.tamper(raw)
        if answer.forge_message_authenticator:
            raw = forge_message_authenticator(raw, request.authenticator, self.key)
        assert self.transport is not None
        self.transport.sendto(raw, addr)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def forge_message_authenticator(raw: bytes, request_authenticator: bytes, key: bytes) -> bytes:
    data = bytearray(raw)
    at = 20
    while at + 2 <= len(data):
        if data[at] == 80:
            data[at + 2] ^= 1
            break
        at += data[at + 1]
    data[4:20] = hashlib.md5(
        bytes(data[:4]) + request_authenticator + bytes(data[20:]) + key
    ).digest()
    return bytes(data)


@contextlib.asynccontextmanager
async def auth_server(answer: Callable[[str, str], Answer | None], key: str = KEY):
    loop = asyncio.get_running_loop()
    _, server = await loop.create_datagram_endpoint(
        lambda: AuthServer(answer, key), local_addr=("127.0.0.1", 0)
    )
    try:
        yield server
    finally:
        server.close()


def server_config(port: int, key: str = KEY) -> ServerConfig:
    return ServerConfig("127.0.0.1", 1813, Secret(key), auth_port=port, authentication=True)


def users(table: dict[str, str], **reply: object) -> Callable[[str, str], Answer]:
    """Accept the users of `table` with their passwords, with `reply`'s attributes."""

    def answer(user: str, password: str) -> Answer:
        if table.get(user) == password:
            return Answer(AccessAccept, dict(reply))
        return Answer(AccessReject, {"Reply-Message": "bad credentials"})

    return answer


__all__ = ["FAST", "KEY", "AccessChallenge", "Answer", "AuthServer", "auth_server", "users"]
