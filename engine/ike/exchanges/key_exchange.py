"""What every exchange with a KE payload shares (RFC 7296 sections 1.2, 1.3, 2.7):
the responder's answer to a KE, and the initiator's retry after INVALID_KE_PAYLOAD."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

from engine.crypto import SUPPORTED_DH_GROUPS, DhKeyPair, InvalidPublicValue, dh_group
from engine.ike.constants import NotifyType
from engine.ike.errors import IkeDrop, RemoteProtocolError
from engine.ike.exchanges.base import Exchange
from engine.ike.payloads import KePayload

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

#: how often an initiator follows a responder's INVALID_KE_PAYLOAD before giving up
MAX_KE_RETRIES = 2


def answer_key_exchange(
    sa: IkeSaHandle, ke: KePayload | None, group: int, refusal: type[RemoteProtocolError]
) -> tuple[DhKeyPair, bytes]:
    """Our key pair and the shared secret for the peer's KE in the chosen group.

    Raises `refusal` with INVALID_KE_PAYLOAD (naming the group we want) when the KE is
    missing or for another group, and with INVALID_SYNTAX for an invalid public value.
    """
    if ke is None or ke.dh_group != group:
        offered = "no KE" if ke is None else f"KE for group {ke.dh_group}"
        raise refusal(
            f"{offered}, we want group {group}",
            notify=NotifyType.INVALID_KE_PAYLOAD,
            data=group.to_bytes(2, "big"),
        )
    keypair = dh_group(group).generate(sa.ctx.random_bytes)
    try:
        return keypair, keypair.shared_secret(ke.data)
    except InvalidPublicValue as err:
        raise refusal(
            str(err), notify=NotifyType.INVALID_SYNTAX, drop=IkeDrop.INVALID_KE_VALUE
        ) from err


def agree(keypair: DhKeyPair, peer_value: bytes) -> bytes:
    """The shared secret with a responder's KE; an invalid value is the peer's error."""
    try:
        return keypair.shared_secret(peer_value)
    except InvalidPublicValue as err:
        raise RemoteProtocolError(str(err), drop=IkeDrop.INVALID_KE_VALUE) from err


class KeRetrying(Exchange):
    """An initiator-side exchange that can restart with the group the responder asks for."""

    def __init__(self) -> None:
        self.group: int | None = None
        self.ke_retries = 0

    @abstractmethod
    def offered_groups(self, sa: IkeSaHandle) -> list[int]:
        """The DH groups this exchange's SA payload offers."""

    @abstractmethod
    def sent_group(self, sa: IkeSaHandle) -> int | None:
        """The group of the KE payload the request carried (None: no KE)."""

    def retried_for_group(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> bool:
        """Restart with the group an INVALID_KE_PAYLOAD names, if it is one we offered and
        support and not the one just sent (RFC 7296 1.3: a responder may only pick among
        the offered groups); any other group is the peer's error, not ours to follow."""
        notify = response.get_notify(NotifyType.INVALID_KE_PAYLOAD)
        if notify is None or len(notify.data) < 2 or self.ke_retries >= MAX_KE_RETRIES:
            return False
        wanted = int.from_bytes(notify.data[:2], "big")
        if (
            wanted == self.sent_group(sa)
            or wanted not in self.offered_groups(sa)
            or wanted not in SUPPORTED_DH_GROUPS
        ):
            return False
        self.ke_retries += 1
        self.group = wanted
        sa.start(self, now, first=True)
        return True


def invalid_ke_reason(response: IkeMessage) -> str:
    """`peer wants DH group N` for a refusal we did not follow, else empty."""
    notify = response.get_notify(NotifyType.INVALID_KE_PAYLOAD)
    if notify is None or len(notify.data) < 2:
        return ""
    return f"peer wants DH group {int.from_bytes(notify.data[:2], 'big')}, which we did not offer"


def detail_of(text: str) -> str:
    """` (text)` to append to a reason, or nothing."""
    return f" ({text})" if text else ""
