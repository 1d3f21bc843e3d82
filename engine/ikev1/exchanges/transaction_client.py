"""The client's side of XAUTH and mode-config (an Easy VPN remote, the lab's remote
users): answer the gateway's XAUTH request with our user name and password, acknowledge
its status, ask for (or accept the push of) an address, then run quick mode from it."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from engine.events import AuthenticationFailed, DownReason, RemoteAccessGranted
from engine.ikev1.constants import CfgAttr, CfgType
from engine.ikev1.errors import Ikev1Error
from engine.ikev1.exchanges.transaction import (
    OutgoingTransaction,
    TransactionResponder,
    begin_transaction,
)
from engine.ikev1.payloads import AttributePayload
from engine.ikev1.payloads.attributes import DataAttribute, basic
from engine.ikev1.policy import ClientCredentials

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa

REQUESTED = (
    CfgAttr.INTERNAL_IP4_ADDRESS,
    CfgAttr.INTERNAL_IP4_NETMASK,
    CfgAttr.INTERNAL_IP4_DNS,
    CfgAttr.UNITY_DEF_DOMAIN,
    CfgAttr.UNITY_SPLIT_INCLUDE,
)


class RemoteAccessClient:
    def __init__(self, credentials: ClientCredentials) -> None:
        self.credentials = credentials
        self.address: ipaddress.IPv4Address | None = None
        #: the networks the gateway tunnels for us (Unity split include); none: all
        self.split_networks: tuple[ipaddress.IPv4Network, ...] = ()
        self.complete = False

    def start(self, sa: IsakmpSa, now: float) -> None:
        """Phase 1 is up. With XAUTH credentials the gateway speaks first; without, we
        ask for our address at once."""
        if not self.credentials.username:
            self._request_address(sa, now)

    def asked(
        self, sa: IsakmpSa, exchange: TransactionResponder, request: AttributePayload, now: float
    ) -> None:
        if request.cfg_type == CfgType.REQUEST and request.get(CfgAttr.XAUTH_USER_NAME):
            creds = self.credentials
            if not creds.username:
                raise Ikev1Error("the gateway asks for XAUTH and we have no user name")
            answer = [
                DataAttribute(CfgAttr.XAUTH_USER_NAME, creds.username.encode()),
                DataAttribute(CfgAttr.XAUTH_USER_PASSWORD, creds.password.reveal()),
            ]
            kind = request.get(CfgAttr.XAUTH_TYPE)
            if kind is not None:
                answer.insert(0, basic(CfgAttr.XAUTH_TYPE, kind.number))
            exchange.reply(sa, answer, request.identifier, now)
            return
        if request.cfg_type == CfgType.SET:
            status = request.get(CfgAttr.XAUTH_STATUS)
            if status is not None:
                exchange.reply(
                    sa,
                    [basic(CfgAttr.XAUTH_STATUS, status.number)],
                    request.identifier,
                    now,
                    CfgType.ACK,
                )
                if status.number != 1:
                    sa.ctx.emit(
                        AuthenticationFailed(
                            sa.local,
                            sa.remote,
                            sa.peer_name,
                            self.credentials.username,
                            "the gateway refused our XAUTH credentials",
                            now,
                            protocol="XAUTH",
                        )
                    )
                    sa.close(DownReason.AUTHENTICATION_FAILED, now, notify_peer=True)
                    return
                if self.credentials.request_address:
                    self._request_address(sa, now)
                else:
                    self._done(sa, now)
                return
            exchange.reply(sa, [], request.identifier, now, CfgType.ACK)
            self._take(sa, request, now)
            return
        raise Ikev1Error(f"transaction type {request.cfg_type} not expected by a client")

    def _request_address(self, sa: IsakmpSa, now: float) -> None:
        request = AttributePayload(
            CfgType.REQUEST,
            int.from_bytes(sa.ctx.random_bytes(2), "big"),
            tuple(DataAttribute(kind, b"") for kind in REQUESTED),
        )
        begin_transaction(sa, request, CfgType.REPLY, self, now)

    def answered(
        self, sa: IsakmpSa, exchange: OutgoingTransaction, answer: AttributePayload, now: float
    ) -> None:
        sa.forget_exchange(exchange.message_id)
        self._take(sa, answer, now)

    def _take(self, sa: IsakmpSa, attributes: AttributePayload, now: float) -> None:
        address = attributes.get(CfgAttr.INTERNAL_IP4_ADDRESS)
        if address is not None and isinstance(address.value, bytes) and len(address.value) == 4:
            self.address = ipaddress.IPv4Address(address.value)
        split = attributes.get(CfgAttr.UNITY_SPLIT_INCLUDE)
        if split is not None and isinstance(split.value, bytes):
            self.split_networks = tuple(_split_networks(split.value))
        self._done(sa, now)

    def _done(self, sa: IsakmpSa, now: float) -> None:
        if self.complete:
            return
        self.complete = True
        sa.ctx.emit(
            RemoteAccessGranted(
                sa.ike_sa_id,
                sa.peer_name,
                self.credentials.username,
                sa.group,
                str(self.address) if self.address else "",
                now,
            )
        )
        sa.ctx.quick_modes_for(sa, now)  # type: ignore[attr-defined]


def _split_networks(data: bytes) -> list[ipaddress.IPv4Network]:
    """UNITY_SPLIT_INCLUDE: 14 bytes per network (address, mask, 6 bytes unused)."""
    out = []
    for offset in range(0, len(data) - 7, 14):
        try:
            address = ipaddress.IPv4Address(data[offset : offset + 4])
            mask = ipaddress.IPv4Address(data[offset + 4 : offset + 8])
            out.append(ipaddress.IPv4Network(f"{address}/{mask}", strict=False))
        except ValueError:
            continue
    return out
