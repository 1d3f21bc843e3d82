"""What every IKEv1 exchange shares: its message ID, the last message it sent (resent on
a timer by the side that waits, and in answer to a duplicate of what it last received)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.ikev1.message import Header
from engine.ikev1.payloads import Payload

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa

NEVER = float("inf")


class Exchange:
    #: shown in RetransmitGiveUp and `show` (e.g. "main mode")
    name = "exchange"

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.last_sent: bytes | None = None
        #: digest of the last message received, to tell a retransmission from a new one
        self.last_received = b""
        #: digests of the messages received before it: late copies of those are ignored
        self.earlier: set[bytes] = set()
        self.retransmit_at = NEVER
        self.tries = 0
        self.done = False

    def start(self, sa: IsakmpSa, now: float) -> None:
        """Send the first message (exchanges we initiate)."""

    def receive(
        self, sa: IsakmpSa, header: Header, payloads: list[Payload], tail: bytes, now: float
    ) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self.done = True
        self.retransmit_at = NEVER
