"""The one small interface every exchange feature implements.

An `Exchange` is the initiator side of one request/response round (as a
strongSwan task is): `build` returns the request payloads, `complete`
consumes the response. The responder side of each feature is a plain
`respond(sa, request, now)` function in the same module, dispatched by
`engine.ike.responder`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from engine.events import DownReason
from engine.ike.constants import ExchangeType

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.payloads import Payload
    from engine.ike.sa_interface import IkeSaHandle


class Exchange(ABC):
    exchange_type: ClassVar[ExchangeType]
    name: ClassVar[str]
    #: False only for IKE_SA_INIT, whose messages travel in the clear
    encrypted: ClassVar[bool] = True
    #: acted on even while the IKE SA is being deleted (only the DELETE itself)
    runs_while_deleting: ClassVar[bool] = False

    @abstractmethod
    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        """Request payloads, or None when the exchange is no longer needed."""

    @abstractmethod
    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        """Act on the peer's response."""

    def retransmit_delays(self, sa: IkeSaHandle) -> list[float]:
        """Seconds to wait after each send; when they run out, `give_up` is called."""
        policy = sa.ctx.config.retransmit
        return [policy.delay(n) for n in range(policy.tries)]

    def give_up(self, sa: IkeSaHandle, now: float) -> None:
        sa.close(
            DownReason.RETRANSMIT_GIVE_UP,
            now,
            notify_peer=False,
            detail=f"{self.name}: no response after retransmissions",
        )
