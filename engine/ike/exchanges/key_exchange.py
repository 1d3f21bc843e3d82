"""What every exchange with a KE payload shares (RFC 7296 sections 1.2, 1.3, 2.7):
the responder's answer to a KE, and the initiator's retry after INVALID_KE_PAYLOAD."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.ike.constants import NotifyType
from engine.ike.crypto import DhKeyPair, dh_group
from engine.ike.errors import InvalidPublicValue, RemoteProtocolError
from engine.ike.exchanges.base import Exchange
from engine.ike.payloads import KePayload

if TYPE_CHECKING:
    from engine.ike.ike_sa import IkeSa
    from engine.ike.message import IkeMessage

#: how often an initiator follows a responder's INVALID_KE_PAYLOAD before giving up
MAX_KE_RETRIES = 2


def answer_key_exchange(
    sa: IkeSa, ke: KePayload | None, group: int, refusal: type[RemoteProtocolError]
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
        raise refusal(str(err), notify=NotifyType.INVALID_SYNTAX) from err


class KeRetrying(Exchange):
    """An initiator-side exchange that can restart with the group the responder asks for."""

    def __init__(self) -> None:
        self.group: int | None = None
        self.ke_retries = 0

    def retried_for_group(self, sa: IkeSa, response: IkeMessage, now: float) -> bool:
        notify = response.get_notify(NotifyType.INVALID_KE_PAYLOAD)
        if notify is None or len(notify.data) < 2 or self.ke_retries >= MAX_KE_RETRIES:
            return False
        self.ke_retries += 1
        self.group = int.from_bytes(notify.data[:2], "big")
        sa.start(self, now, first=True)
        return True
