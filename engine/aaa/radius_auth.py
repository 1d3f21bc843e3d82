"""RADIUS authentication (Access-Request, RFC 2865) for XAUTH users, over the
accounting client's transport (engine/accounting/transport.py: its sockets, Identifier
bookkeeping, RFC 5080 timers, dead servers); pyrad encodes and checks the packets.

A group's servers are tried in order: the next one only when a server does not answer
(within `radius-server timeout` and `retransmit`), and a server that fails is skipped
for `radius-server deadtime`. An Access-Reject is an answer: no other server is asked.
An Access-Challenge (a token's next code, a new PIN) is not supported and counts as a
reject with that reason. Every request carries a Message-Authenticator (the BlastRADIUS
countermeasure, RFC 3579 3.2); a reply's is checked when it has one, and required
when `require_message_authenticator` is set. Reasons name servers, never passwords.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
from collections.abc import Sequence

from pyrad.dictionary import Dictionary
from pyrad.packet import AccessAccept, AccessChallenge, AccessReject, AccessRequest, AuthPacket

from engine.aaa.results import NO_ATTRIBUTES, AuthResult, ModeConfigAttributes
from engine.accounting.dictionary import load_dictionary
from engine.accounting.transport import (
    ACCESS_RESPONSES,
    RadiusTransport,
    ServerConfig,
    Timers,
)
from engine.secret import Secret

#: RFC 2865 5.2: User-Password holds at most 128 octets; 5.1: User-Name at most 253
MAX_PASSWORD = 128
MAX_USER_NAME = 253
#: NAS-Port-Type Virtual (RFC 2865 5.41), as IOS sends for VPN users
NAS_PORT_VIRTUAL = 5
#: how much of a server's Reply-Message a reason quotes
MAX_REPLY_MESSAGE = 80
AVPAIR_PREFIX = "ipsec:"


class RadiusAuthClient:
    """The RADIUS servers of one method (`group radius`, `group NAME`), in order."""

    def __init__(
        self,
        method: str,
        servers: Sequence[ServerConfig],
        timers: Timers,
        transport: RadiusTransport,
        *,
        dictionary: Dictionary | None = None,
        nas_ip: str | None = None,
        nas_identifier: str | None = None,
        require_message_authenticator: bool = False,
    ) -> None:
        self.method = method
        self.servers = tuple(
            s if s.authentication else dataclasses.replace(s, authentication=True) for s in servers
        )
        self.timers = timers
        self.transport = transport
        self.dictionary = dictionary or load_dictionary()
        self.nas_ip = nas_ip
        self.nas_identifier = nas_identifier
        self.require_message_authenticator = require_message_authenticator

    async def authenticate(
        self, user: str, password: str, *, calling_station_id: str | None = None
    ) -> AuthResult:
        """Accept, reject, or an error (no server answered: the list's next method)."""
        secret = password.encode("utf-8")
        if len(secret) > MAX_PASSWORD:
            return self._result(False, f"the password is longer than {MAX_PASSWORD} octets")
        if not user or len(user.encode("utf-8")) > MAX_USER_NAME:
            return self._result(False, "the user name is empty or too long")
        if not self.servers:
            return self._result(False, "no RADIUS server is configured", error=True)
        failures: list[str] = []
        for server in self.servers:
            if not self.transport.is_alive(server):
                failures.append(f"{_name(server)} (dead)")
                continue
            answered = await self._ask(server, user, secret, calling_station_id)
            if answered is not None:
                return answered
            self.transport.mark_dead(server, self.timers)
            why = self.transport.state(server).last_failure or "no response"
            failures.append(f"{_name(server)} ({why})")
        return self._result(False, "no RADIUS server answered: " + "; ".join(failures), error=True)

    def _result(self, ok: bool, reason: str, **more: object) -> AuthResult:
        return AuthResult(ok, self.method, reason, **more)  # type: ignore[arg-type]

    async def _ask(
        self, server: ServerConfig, user: str, password: bytes, calling_station_id: str | None
    ) -> AuthResult | None:
        """One server's verdict; None when it gave none."""
        sent: dict[bytes, AuthPacket] = {}

        def encode(ident: int) -> tuple[bytes, bytes]:
            packet = AuthPacket(
                code=AccessRequest, id=ident, secret=server.key.reveal(), dict=self.dictionary
            )
            packet.add_message_authenticator()
            packet["User-Name"] = user
            packet["User-Password"] = packet.PwCrypt(password)
            packet["NAS-Port-Type"] = NAS_PORT_VIRTUAL
            if self.nas_ip:
                packet["NAS-IP-Address"] = self.nas_ip
            if self.nas_identifier:
                packet["NAS-Identifier"] = self.nas_identifier
            if calling_station_id:
                packet["Calling-Station-Id"] = calling_station_id
            raw = packet.RequestPacket()
            sent[packet.authenticator] = packet
            return raw, packet.authenticator

        def verify(data: bytes, authenticator: bytes, key: Secret) -> bool:
            request = sent.get(authenticator)
            if request is None:
                return False
            try:
                reply = request.CreateReply(packet=data)
                return bool(
                    request.VerifyReply(reply, data, enforce_ma=self.require_message_authenticator)
                )
            except Exception:  # pyrad raises bare Exceptions on malformed input
                return False

        answer = await self.transport.exchange(
            server,
            self.timers,
            port=server.auth_port,
            encode=encode,
            codes=ACCESS_RESPONSES,
            verify=verify,
        )
        if answer is None:
            return None
        where = _name(server)
        try:
            reply = AuthPacket(packet=answer.raw, dict=self.dictionary, secret=server.key.reveal())
        except Exception:  # verified above, so this is not expected; never a traceback
            return self._result(False, f"unreadable reply from {where}", server=where)
        code = answer.raw[0]
        if code == AccessAccept:
            return self._result(
                True, f"Access-Accept from {where}", attributes=attributes(reply), server=where
            )
        message = _reply_message(reply)
        if code == AccessReject:
            return self._result(False, f"Access-Reject from {where}{message}", server=where)
        assert code == AccessChallenge
        return self._result(
            False,
            f"Access-Challenge from {where}: challenges (next token, new PIN) are not "
            f"supported{message}",
            server=where,
        )


def _name(server: ServerConfig) -> str:
    return server.name


def _values(reply: AuthPacket, name: str) -> list[object]:
    try:
        return list(reply.get(name) or [])
    except (KeyError, ValueError, TypeError, struct.error, UnicodeDecodeError):
        return []


def _reply_message(reply: AuthPacket) -> str:
    text = " ".join(str(v) for v in _values(reply, "Reply-Message"))
    shown = "".join(c for c in text if c.isprintable())[:MAX_REPLY_MESSAGE].strip()
    return f" ({shown})" if shown else ""


def _address(value: object) -> ipaddress.IPv4Address | None:
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    return address if isinstance(address, ipaddress.IPv4Address) else None


def _addresses(text: str) -> tuple[ipaddress.IPv4Address, ...]:
    found = [_address(word) for word in text.replace(",", " ").split()]
    return tuple(a for a in found if a is not None)


def _integer(reply: AuthPacket, name: str) -> int | None:
    values = _values(reply, name)
    return values[0] if values and isinstance(values[0], int) else None


def attributes(reply: AuthPacket) -> ModeConfigAttributes:
    """An Access-Accept's attributes for mode-config and accounting; values that do not
    parse are left out (the reply is the server's, and may be anything)."""
    fields: dict[str, object] = {}
    framed = [_address(v) for v in _values(reply, "Framed-IP-Address")]
    if framed and framed[0] is not None:
        fields["framed_ip_address"] = framed[0]
    netmask = [_address(v) for v in _values(reply, "Framed-IP-Netmask")]
    if netmask and netmask[0] is not None:
        fields["framed_ip_netmask"] = netmask[0]
    fields["session_timeout"] = _integer(reply, "Session-Timeout")
    fields["idle_timeout"] = _integer(reply, "Idle-Timeout")
    fields["classes"] = tuple(bytes(v) for v in _values(reply, "Class") if isinstance(v, bytes))
    others: list[tuple[str, str]] = []
    for pair in _values(reply, "Cisco-AVPair"):
        text = str(pair)
        if not text.startswith(AVPAIR_PREFIX):
            continue
        name, sep, value = text[len(AVPAIR_PREFIX) :].partition("=")
        if not sep:
            name, sep, value = name.partition("*")  # `*`: an optional attribute
        if not sep:
            continue
        name, value = name.strip(), value.strip()
        if name == "addr-pool":
            fields["addr_pool"] = value
        elif name == "dns-servers":
            fields["dns_servers"] = _addresses(value)
        elif name == "wins-servers":
            fields["wins_servers"] = _addresses(value)
        elif name == "default-domain":
            fields["default_domain"] = value
        elif name == "split-tunnel-list":
            fields["split_tunnel_list"] = value
        elif name == "key-exchange":
            fields["key_exchange"] = value
        elif name == "tunnel-password":
            fields["tunnel_password"] = Secret(value)
        else:
            others.append((name, value))
    fields["avpairs"] = tuple(others)
    found = ModeConfigAttributes(**fields)  # type: ignore[arg-type]
    return NO_ATTRIBUTES if found.empty else found
