"""Which exchange runs next on one IKE SA, and the window it runs in (RFC 7296 2.1-2.3),
in the spirit of strongSwan's task manager beside its IKE SA.

One request of ours is outstanding at a time; it is retransmitted with exponential
backoff until answered or given up; queued exchanges wait their turn. Requests from the
peer are taken in Message ID order, answered once, and a retransmitted request gets the
cached answer without being processed again. What each exchange puts in its messages
lives in `engine.ike.exchanges`; the responder side is dispatched by `engine.ike.responder`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.events import Address, RetransmitGiveUp
from engine.ike import responder
from engine.ike.constants import ExchangeType
from engine.ike.errors import IkeDrop, IntegrityError, RemoteProtocolError
from engine.ike.exchanges.base import Exchange
from engine.ike.message import IkeHeader, IkeMessage, decode_message
from engine.ike.payloads import NotifyPayload, Payload
from engine.ike.sa_state import IkeState

if TYPE_CHECKING:
    from engine.ike.ike_sa import IkeSa


@dataclass(slots=True)
class Outstanding:
    exchange: Exchange
    message_id: int
    data: bytes
    delays: list[float]
    attempt: int
    next_send_at: float


class TaskManager:
    """The Message IDs, the request window and the queue of one IKE SA."""

    def __init__(self, sa: IkeSa) -> None:
        self.sa = sa
        self.next_request_id = 0
        self.expected_request_id = 0
        self.outstanding: Outstanding | None = None
        self.queue: deque[Exchange] = deque()
        self.cached_response: tuple[int, bytes] | None = None

    # ------------------------------------------------------------------ our requests
    @property
    def busy(self) -> bool:
        return self.outstanding is not None

    def queue_exchange(self, exchange: Exchange, now: float, *, first: bool = False) -> None:
        """Queue an exchange; it runs when the window is free."""
        if self.sa.state is IkeState.CLOSED:
            return
        if first:
            self.queue.appendleft(exchange)
        else:
            self.queue.append(exchange)
        self.pump(now)

    def has_queued(self, kind: type) -> bool:
        return any(isinstance(e, kind) for e in self.queue) or (
            self.outstanding is not None and isinstance(self.outstanding.exchange, kind)
        )

    def pump(self, now: float) -> None:
        """Send the next queued request if the window is free."""
        sa = self.sa
        while self.outstanding is None and self.queue and sa.state is not IkeState.CLOSED:
            exchange = self.queue.popleft()
            payloads = exchange.build(sa, now)
            if payloads is None:
                continue
            data = sa.encode(
                exchange.exchange_type,
                payloads,
                response=False,
                message_id=self.next_request_id,
                encrypted=exchange.encrypted,
            )
            delays = exchange.retransmit_delays(sa)
            self.outstanding = Outstanding(
                exchange, self.next_request_id, data, delays, 0, now + delays[0]
            )
            if exchange.exchange_type == ExchangeType.IKE_SA_INIT:
                sa.init_request = data
            sa.transmit(data)
        sa.ctx.reschedule(sa)

    def restart_init(self, exchange: Exchange, now: float) -> None:
        """Send IKE_SA_INIT again (cookie or INVALID_KE_PAYLOAD): message ID 0 again."""
        self.outstanding = None
        self.next_request_id = 0
        self.queue_exchange(exchange, now, first=True)

    def hurry(self) -> None:
        """Ask again now for the answer to the outstanding request (a DELETE waits on it)."""
        if self.outstanding is not None:
            self.sa.transmit(self.outstanding.data)

    @property
    def one_shot_message_id(self) -> int:
        """The Message ID for a request sent without waiting for the window: past an
        unanswered request, whose ID may already be spent at the peer."""
        return self.next_request_id + (self.outstanding is not None)

    def send_one_shot(self, exchange: ExchangeType, payloads: list[Payload]) -> None:
        sa = self.sa
        sa.transmit(
            sa.encode(exchange, payloads, response=False, message_id=self.one_shot_message_id)
        )

    def retransmission_due(self) -> float:
        return self.outstanding.next_send_at if self.outstanding is not None else float("inf")

    def retransmit(self, now: float) -> None:
        """Resend the outstanding request, or give it up when its tries are spent."""
        out = self.outstanding
        sa = self.sa
        if out is None or now < out.next_send_at:
            return
        out.attempt += 1
        if out.attempt < len(out.delays):
            out.next_send_at = now + out.delays[out.attempt]
            sa.transmit(out.data)
            return
        self.outstanding = None
        sa.ctx.emit(
            RetransmitGiveUp(
                sa.ike_sa_id, sa.peer_name, sa.remote, out.exchange.name, out.attempt, now
            )
        )
        if sa.state is IkeState.DELETING and not out.exchange.runs_while_deleting:
            detail = "peer did not answer before the delete"
            sa.close(sa.deleting_reason, now, notify_peer=False, detail=detail)
            return
        out.exchange.give_up(sa, now)

    def clear(self) -> None:
        self.outstanding = None
        self.queue.clear()

    # ------------------------------------------------------------------ the peer's messages
    def receive_response(self, header: IkeHeader, data: bytes, remote: Address, now: float) -> None:
        sa = self.sa
        out = self.outstanding
        if out is None or header.message_id != out.message_id:
            raise RemoteProtocolError(
                f"unexpected response id {header.message_id}",
                notify=None,
                drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
            )
        if header.exchange != out.exchange.exchange_type:
            raise RemoteProtocolError(
                "response of another exchange type",
                notify=None,
                drop=IkeDrop.UNEXPECTED_EXCHANGE,
            )
        message = self._decode(header, data)
        if header.exchange == ExchangeType.IKE_SA_INIT:
            sa.init_response = data
        else:
            sa.note_authentic(remote, now)
        self.outstanding = None
        self.next_request_id += 1
        if sa.state is not IkeState.DELETING or out.exchange.runs_while_deleting:
            out.exchange.complete(sa, message, now)
        self.pump(now)

    def receive_request(self, header: IkeHeader, data: bytes, remote: Address, now: float) -> None:
        sa = self.sa
        if self.cached_response is not None and header.message_id == self.cached_response[0]:
            # A retransmitted request: the cached answer, nothing processed again.
            if header.exchange != ExchangeType.IKE_SA_INIT:
                self._decode(header, data)  # authenticate before answering
            sa.transmit(self.cached_response[1])
            return
        if header.message_id != self.expected_request_id:
            raise RemoteProtocolError(
                f"request id {header.message_id}, expected {self.expected_request_id}",
                notify=None,
                drop=IkeDrop.UNEXPECTED_MESSAGE_ID,
            )
        try:
            message = self._decode(header, data)
        except IntegrityError:
            raise
        except RemoteProtocolError as err:
            if err.notify is None:
                raise
            self.answer(header, [NotifyPayload(int(err.notify), err.notify_data)], now)
            return
        sa.note_authentic(remote, now)
        self.answer(header, responder.respond(sa, message, now), now)

    def answered_init(self, response: bytes) -> None:
        """The responder's IKE_SA_INIT answer, sent by the engine before the SA existed."""
        self.cached_response = (0, response)
        self.expected_request_id = 1

    def answer(self, header: IkeHeader, payloads: list[Payload], now: float) -> None:
        sa = self.sa
        if sa.state is IkeState.CLOSED and sa.sk_out is None:
            return
        data = sa.encode(
            ExchangeType(header.exchange),
            payloads,
            response=True,
            message_id=header.message_id,
            encrypted=header.exchange != ExchangeType.IKE_SA_INIT,
        )
        self.expected_request_id = header.message_id + 1
        self.cached_response = (header.message_id, data)
        if header.exchange == ExchangeType.IKE_SA_INIT:
            sa.init_response = data
        sa.transmit(data)
        self.pump(now)

    def _decode(self, header: IkeHeader, data: bytes) -> IkeMessage:
        if header.exchange == ExchangeType.IKE_SA_INIT:
            return decode_message(data)
        sk_in = self.sa.sk_in
        if sk_in is None:
            raise IntegrityError("encrypted message before keys exist")
        return decode_message(data, sk_in)
