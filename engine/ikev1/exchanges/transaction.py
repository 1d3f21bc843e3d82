"""The transaction exchange (exchange type 6) of XAUTH (draft-beaulieu-ike-xauth-02)
and mode-config (draft-dukes-ike-mode-cfg-02), the gateway's side of remote access:

    gateway CFG_REQUEST(user, password)  ->  client CFG_REPLY(user, password)
    [the service checks them: local users or RADIUS; picks the address]
    gateway CFG_SET(XAUTH_STATUS)        ->  client CFG_ACK
    client CFG_REQUEST(address ...)      ->  gateway CFG_REPLY(address, DNS, split ...)
      (or, with `client configuration address initiate`: gateway CFG_SET -> CFG_ACK)

Every message is protected by HASH = prf(SKEYID_a, M-ID | ATTR).
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.events import (
    AuthenticationFailed,
    ClientAuthorizationRequested,
    DownReason,
    RemoteAccessGranted,
)
from engine.ikev1.constants import CfgAttr, CfgType, ExchangeType
from engine.ikev1.errors import Ikev1Error
from engine.ikev1.exchanges.base import Exchange
from engine.ikev1.message import Header
from engine.ikev1.payloads import AttributePayload, Payload
from engine.ikev1.payloads.attributes import DataAttribute, basic
from engine.ikev1.policy import ClientGrant, RemoteAccessPolicy
from engine.secret import Secret

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa

XAUTH_GENERIC = 0
#: the first 4 bytes of each UNITY_SPLIT_INCLUDE entry are the address, then the mask,
#: then protocol and ports that no client uses (Cisco's layout, as strongSwan reads it)
SPLIT_ENTRY_PADDING = b"\x00" * 6


def _attributes_of(payloads: list[Payload]) -> AttributePayload:
    for payload in payloads:
        if isinstance(payload, AttributePayload):
            return payload
    raise Ikev1Error("transaction without an attribute payload")


def grant_attributes(grant: ClientGrant, wanted: set[int] | None) -> list[DataAttribute]:
    """What mode-config hands the client; with `wanted`, only what it asked for (and its
    address, which it always needs)."""
    out: list[DataAttribute] = []

    def want(kind: int) -> bool:
        return wanted is None or kind in wanted

    if grant.address is not None:
        out.append(DataAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, grant.address.packed))
        if want(CfgAttr.INTERNAL_IP4_NETMASK):
            netmask = grant.netmask or ipaddress.IPv4Address("255.255.255.255")
            out.append(DataAttribute(CfgAttr.INTERNAL_IP4_NETMASK, netmask.packed))
    if want(CfgAttr.INTERNAL_IP4_DNS):
        out += [DataAttribute(CfgAttr.INTERNAL_IP4_DNS, a.packed) for a in grant.dns]
    if want(CfgAttr.INTERNAL_IP4_NBNS):
        out += [DataAttribute(CfgAttr.INTERNAL_IP4_NBNS, a.packed) for a in grant.wins]
    if grant.domain and want(CfgAttr.UNITY_DEF_DOMAIN):
        out.append(DataAttribute(CfgAttr.UNITY_DEF_DOMAIN, grant.domain.encode()))
    if grant.split_networks and want(CfgAttr.UNITY_SPLIT_INCLUDE):
        out.append(
            DataAttribute(
                CfgAttr.UNITY_SPLIT_INCLUDE,
                b"".join(
                    n.network_address.packed + n.netmask.packed + SPLIT_ENTRY_PADDING
                    for n in grant.split_networks
                ),
            )
        )
    if grant.split_networks and wanted is not None and CfgAttr.INTERNAL_IP4_SUBNET in wanted:
        out += [
            DataAttribute(CfgAttr.INTERNAL_IP4_SUBNET, n.network_address.packed + n.netmask.packed)
            for n in grant.split_networks
        ]
    if grant.save_password and want(CfgAttr.UNITY_SAVE_PASSWD):
        out.append(basic(CfgAttr.UNITY_SAVE_PASSWD, 1))
    if grant.banner and want(CfgAttr.UNITY_BANNER):
        out.append(DataAttribute(CfgAttr.UNITY_BANNER, grant.banner.encode()))
    return out


class OutgoingTransaction(Exchange):
    """A transaction we start (the gateway's XAUTH request, XAUTH status and mode-config
    push; a client's mode-config request); `owner` hears the answer."""

    name = "transaction"

    def __init__(
        self, message_id: int, request: AttributePayload, expect: CfgType, owner: object
    ) -> None:
        super().__init__(message_id)
        self.request = request
        self.expect = expect
        self.owner = owner

    def start(self, sa: IsakmpSa, now: float) -> None:
        data = sa.seal_protected(ExchangeType.TRANSACTION, self.message_id, [self.request])
        sa.transmit(self, data, now, wait=True)

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        if header.exchange != ExchangeType.TRANSACTION or self.done:
            raise Ikev1Error("unexpected transaction message")
        sa.check_protected(self.message_id, payloads, tail)
        answer = _attributes_of(payloads)
        if answer.cfg_type != self.expect:
            raise Ikev1Error(f"expected a {self.expect.name}, got type {answer.cfg_type}")
        self.finish()
        self.last_sent = None
        self.owner.answered(sa, self, answer, now)  # type: ignore[attr-defined]


class TransactionResponder(Exchange):
    """A transaction the client starts: its mode-config request (pull)."""

    name = "transaction"

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        if self.done:
            raise Ikev1Error("transaction already answered")
        sa.check_protected(self.message_id, payloads, tail)
        request = _attributes_of(payloads)
        if sa.client is not None:
            sa.client.asked(sa, self, request, now)
            return
        if sa.remote_access is None or request.cfg_type != CfgType.REQUEST:
            raise Ikev1Error("mode-config request the policy does not answer")
        sa.remote_access.config_requested(sa, self, request, now)

    def reply(
        self,
        sa: IsakmpSa,
        attributes: list[DataAttribute],
        identifier: int,
        now: float,
        cfg_type: CfgType = CfgType.REPLY,
    ) -> None:
        payload = AttributePayload(cfg_type, identifier, tuple(attributes))
        data = sa.seal_protected(ExchangeType.TRANSACTION, self.message_id, [payload])
        self.finish()
        sa.transmit(self, data, now, wait=False)


class RemoteAccess:
    """Where one client is on its way: XAUTH, then the service's verdict, then mode-config."""

    def __init__(self, policy: RemoteAccessPolicy, xauth: bool) -> None:
        self.policy = policy
        self.xauth = xauth
        self.username = ""
        self.stage = "start"
        self.complete = False
        self.failed_reason = ""
        self.pending: tuple[TransactionResponder, AttributePayload] | None = None
        self._status: OutgoingTransaction | None = None

    # ----------------------------------------------------------------- steps
    def start(self, sa: IsakmpSa, now: float) -> None:
        from engine.ikev1.isakmp_sa import Ikev1State

        if self.xauth:
            sa.state = Ikev1State.CONF_XAUTH
            self.stage = "xauth"
            request = AttributePayload(
                CfgType.REQUEST,
                _identifier(sa),
                (
                    basic(CfgAttr.XAUTH_TYPE, XAUTH_GENERIC),
                    DataAttribute(CfgAttr.XAUTH_USER_NAME, b""),
                    DataAttribute(CfgAttr.XAUTH_USER_PASSWORD, b""),
                ),
            )
            self._begin(sa, request, CfgType.REPLY, now)
            return
        self._ask_service(sa, "", None, now)

    def _begin(
        self, sa: IsakmpSa, request: AttributePayload, expect: CfgType, now: float
    ) -> OutgoingTransaction:
        return begin_transaction(sa, request, expect, self, now)

    def _ask_service(
        self, sa: IsakmpSa, username: str, password: Secret | None, now: float
    ) -> None:
        self.stage = "authorizing"
        sa.ctx.emit(
            ClientAuthorizationRequested(
                sa.ike_sa_id,
                sa.peer_name,
                sa.remote,
                sa.group,
                username,
                password,
                self.policy.xauth_list if password is not None else "",
                self.policy.authorization_list,
                now,
            )
        )

    def answered(
        self, sa: IsakmpSa, exchange: OutgoingTransaction, answer: AttributePayload, now: float
    ) -> None:
        sa.forget_exchange(exchange.message_id)
        if self.stage == "xauth":
            user = answer.get(CfgAttr.XAUTH_USER_NAME)
            password = answer.get(CfgAttr.XAUTH_USER_PASSWORD)
            if user is None or password is None or not isinstance(user.value, bytes):
                self._fail(sa, "", "XAUTH reply without user name or password", now)
                return
            self.username = user.value.decode("utf-8", "replace")
            secret = Secret(password.value if isinstance(password.value, bytes) else b"")
            self._ask_service(sa, self.username, secret, now)
        elif self.stage == "status":
            if self.failed_reason:
                self._close_failed(sa, now)
            else:
                self._configure(sa, now)
        elif self.stage == "push":
            self._done(sa, now)

    def authorize(self, sa: IsakmpSa, grant: ClientGrant | None, reason: str, now: float) -> None:
        """The service's verdict (`IkeV1Engine.authorize_client`)."""
        if self.stage != "authorizing":
            return
        if grant is not None and grant.username == "" and self.username:
            grant = replace(grant, username=self.username)
        if self.xauth:
            self.failed_reason = "" if grant is not None else (reason or "rejected")
            self.stage = "status"
            status = AttributePayload(
                CfgType.SET, _identifier(sa), (basic(CfgAttr.XAUTH_STATUS, int(grant is not None)),)
            )
            if grant is not None:
                sa.grant = grant
            self._status = self._begin(sa, status, CfgType.ACK, now)
            if grant is None:
                sa.ctx.emit(
                    AuthenticationFailed(
                        sa.local,
                        sa.remote,
                        sa.peer_name,
                        self.username,
                        self.failed_reason,
                        now,
                        protocol="XAUTH",
                    )
                )
            return
        if grant is None:
            self._fail(sa, self.username, reason or "no address or attributes for the client", now)
            return
        sa.grant = grant
        self._configure(sa, now)

    def _configure(self, sa: IsakmpSa, now: float) -> None:
        from engine.ikev1.isakmp_sa import Ikev1State

        assert sa.grant is not None
        mode = self.policy.config_mode
        if mode == "initiate" and self.pending is not None:
            # the client asked before we could push: its request gets the answer
            exchange, request = self.pending
            self.pending = None
            self.stage = "config"
            sa.state = Ikev1State.CONF_ADDR
            self._reply(sa, exchange, request, now)
        elif mode == "initiate":
            self.stage = "push"
            sa.state = Ikev1State.CONF_ADDR
            push = AttributePayload(
                CfgType.SET, _identifier(sa), tuple(grant_attributes(sa.grant, None))
            )
            self._begin(sa, push, CfgType.ACK, now)
        elif mode == "respond":
            self.stage = "config"
            sa.state = Ikev1State.CONF_ADDR
            if self.pending is not None:
                exchange, request = self.pending
                self.pending = None
                self._reply(sa, exchange, request, now)
        else:
            self._done(sa, now)

    def config_requested(
        self, sa: IsakmpSa, exchange: TransactionResponder, request: AttributePayload, now: float
    ) -> None:
        if self.stage in ("config", "push") or (self.complete and sa.grant is not None):
            self._reply(sa, exchange, request, now)
        elif self.stage in ("xauth", "authorizing", "status", "start"):
            self.pending = (exchange, request)  # answered once the client is authorized
        else:
            raise Ikev1Error("mode-config request at the wrong time")

    def _reply(
        self, sa: IsakmpSa, exchange: TransactionResponder, request: AttributePayload, now: float
    ) -> None:
        assert sa.grant is not None
        if sa.grant.address is None and request.get(CfgAttr.INTERNAL_IP4_ADDRESS) is not None:
            self._fail(sa, self.username, "no address to assign (pool exhausted or none set)", now)
            return
        wanted = {a.kind for a in request.attributes}
        exchange.reply(sa, grant_attributes(sa.grant, wanted), request.identifier, now)
        if not self.complete:
            self._done(sa, now)

    def _done(self, sa: IsakmpSa, now: float) -> None:
        from engine.ikev1.isakmp_sa import Ikev1State

        self.stage = "done"
        self.complete = True
        sa.state = Ikev1State.QM_IDLE
        sa.announce()
        grant = sa.grant
        sa.ctx.emit(
            RemoteAccessGranted(
                sa.ike_sa_id,
                sa.peer_name,
                grant.username if grant else self.username,
                sa.group,
                str(grant.address) if grant and grant.address else "",
                now,
            )
        )

    def _fail(self, sa: IsakmpSa, username: str, reason: str, now: float) -> None:
        protocol = "XAUTH" if self.xauth else "IKEv1"
        sa.ctx.emit(
            AuthenticationFailed(
                sa.local, sa.remote, sa.peer_name, username, reason, now, protocol=protocol
            )
        )
        self.failed_reason = reason
        self._close_failed(sa, now)

    def _close_failed(self, sa: IsakmpSa, now: float) -> None:
        self.stage = "failed"
        sa.delete(DownReason.AUTHENTICATION_FAILED, now)


def begin_transaction(
    sa: IsakmpSa, request: AttributePayload, expect: CfgType, owner: object, now: float
) -> OutgoingTransaction:
    exchange = OutgoingTransaction(sa.new_message_id(), request, expect, owner)
    sa.exchanges[exchange.message_id] = exchange
    exchange.start(sa, now)
    return exchange


def _identifier(sa: IsakmpSa) -> int:
    return int.from_bytes(sa.ctx.random_bytes(2), "big")
