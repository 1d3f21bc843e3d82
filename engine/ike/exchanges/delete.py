"""INFORMATIONAL exchanges carrying DELETE payloads (RFC 7296 section 1.4.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import DownReason
from engine.ike.child_sa import ChildState
from engine.ike.constants import ExchangeType, ProtocolId
from engine.ike.exchanges.base import Exchange
from engine.ike.exchanges.rekey_ike import finish
from engine.ike.payloads import DeletePayload, Payload
from engine.ike.sa_state import IkeState

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle


def delete_ike_payloads() -> list[Payload]:
    return [DeletePayload(ProtocolId.IKE, ())]


class DeleteIke(Exchange):
    exchange_type = ExchangeType.INFORMATIONAL
    name = "INFORMATIONAL (delete IKE SA)"
    runs_while_deleting = True

    def __init__(self, reason: DownReason) -> None:
        self.reason = reason

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        return delete_ike_payloads()

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        sa.close(self.reason, now, notify_peer=False)

    def give_up(self, sa: IkeSaHandle, now: float) -> None:
        sa.close(self.reason, now, notify_peer=False, detail="peer did not confirm the delete")


class DeleteChild(Exchange):
    exchange_type = ExchangeType.INFORMATIONAL
    name = "INFORMATIONAL (delete child SA)"

    def __init__(self, child_sa_id: int, spi_in: bytes, reason: DownReason) -> None:
        self.child_sa_id = child_sa_id
        self.spi_in = spi_in
        self.reason = reason
        #: the child already went here (its hard lifetime): the peer must still hear of it
        self.even_if_gone = False

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        if self.child_sa_id not in sa.children and not self.even_if_gone:
            return None  # the peer deleted it first
        return [DeletePayload(ProtocolId.ESP, (self.spi_in,))]

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        child = sa.children.get(self.child_sa_id)
        if child is not None:
            sa.remove_child(child, self.reason, now)


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    deletes = request.get_all(DeletePayload)
    if any(d.protocol == ProtocolId.IKE for d in deletes):
        _peer_deleted_ike(sa, now)
        return []
    ours: list[bytes] = []
    for payload in deletes:
        if payload.protocol != ProtocolId.ESP:
            continue
        for spi in payload.spis:
            child = sa.find_child_by_spi_out(spi)
            if child is None:
                continue
            if child.state is not ChildState.DELETING:
                ours.append(child.spi_in)
            reason = (
                DownReason.REKEYED
                if child.state is ChildState.REKEYED or child.child_sa_id in _rekeyed_ids(sa)
                else DownReason.PEER_DELETE
            )
            sa.remove_child(child, reason, now)
    return [DeletePayload(ProtocolId.ESP, tuple(ours))] if ours else []


def _rekeyed_ids(sa: IkeSaHandle) -> set[int]:
    return {c.rekeyed_from for c in sa.children.values() if c.rekeyed_from is not None}


def _peer_deleted_ike(sa: IkeSaHandle, now: float) -> None:
    """The peer deleted the IKE SA; after a rekey its children live on elsewhere."""
    theirs = sa.ike_rekey_by_peer
    if (
        sa.successor is None
        and theirs is not None
        and theirs.ike is not None
        and theirs.ike.state is IkeState.ESTABLISHED
        and not theirs.ike.redundant
    ):
        finish(sa, theirs.ike, now, delete_old=False)
    if sa.redundant:
        reason = DownReason.REPLACED
    elif sa.successor is not None:
        reason = DownReason.REKEYED
    else:
        reason = DownReason.PEER_DELETE
    sa.close(reason, now, notify_peer=False)
