"""Liveness checks / dead peer detection: empty INFORMATIONAL requests (RFC 7296 1.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import DownReason
from engine.ike.constants import ExchangeType
from engine.ike.exchanges.base import Exchange
from engine.ike.payloads import Payload

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle


class LivenessCheck(Exchange):
    exchange_type = ExchangeType.INFORMATIONAL
    name = "INFORMATIONAL (DPD)"

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        if sa.busy:
            return None
        return []

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        """Nothing to do: any authentic message already proved the peer alive."""

    def retransmit_delays(self, sa: IkeSaHandle) -> list[float]:
        """IOS semantics: retry every `retry_interval`, `retries` times, then declare dead."""
        dpd = sa.peer.dpd if sa.peer else None
        if dpd is None:
            return super().retransmit_delays(sa)
        return [dpd.retry_interval] * (dpd.retries + 1)

    def give_up(self, sa: IkeSaHandle, now: float) -> None:
        sa.close(
            DownReason.DPD_TIMEOUT, now, notify_peer=False, detail="no answer to liveness checks"
        )


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    return []
