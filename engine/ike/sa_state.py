"""An IKE SA's states and every transition between them, in one place, as data (the way
h11 keeps its state machine): a move the table does not allow is a defect of ours and
raises at once instead of leaving an SA in a state nothing expects.

Also the small records the exchanges and the SA share, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from engine.ike.constants import NotifyType
from engine.ike.errors import LocalProtocolError

if TYPE_CHECKING:
    from engine.ike.child_sa import ChildSa
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

ZERO_SPI = bytes(8)


class IkeState(Enum):
    INIT_SENT = "init-sent"
    HALF_OPEN = "half-open"
    #: made by an IKE rekey (CREATE_CHILD_SA): keyed from the old SA, up at once
    REKEY_NEW = "rekey-new"
    AUTH_SENT = "auth-sent"
    ESTABLISHED = "established"
    REKEYED = "rekeyed"
    DELETING = "deleting"
    CLOSED = "closed"


#: state -> the states it may move to (RFC 7296: IKE_SA_INIT, IKE_AUTH, rekey, delete)
TRANSITIONS: dict[IkeState, frozenset[IkeState]] = {
    # initiator: IKE_SA_INIT answered, or given up / refused
    IkeState.INIT_SENT: frozenset({IkeState.AUTH_SENT, IkeState.CLOSED}),
    # responder: IKE_AUTH verified, or failed / timed out
    IkeState.HALF_OPEN: frozenset({IkeState.ESTABLISHED, IkeState.CLOSED}),
    IkeState.REKEY_NEW: frozenset({IkeState.ESTABLISHED}),
    # initiator: the responder's AUTH verified, or not
    IkeState.AUTH_SENT: frozenset({IkeState.ESTABLISHED, IkeState.CLOSED}),
    # up: replaced by a rekey, deleted by us, or gone (peer's delete, DPD, expiry)
    IkeState.ESTABLISHED: frozenset({IkeState.REKEYED, IkeState.DELETING, IkeState.CLOSED}),
    # its children moved to the new SA: only the delete of the old one is left
    IkeState.REKEYED: frozenset({IkeState.DELETING, IkeState.CLOSED}),
    IkeState.DELETING: frozenset({IkeState.CLOSED}),
    IkeState.CLOSED: frozenset(),
}

#: states in which the SA has keys and a peer: it counts as up
UP_STATES = frozenset({IkeState.ESTABLISHED, IkeState.REKEYED, IkeState.DELETING})


class IllegalTransition(LocalProtocolError):
    """A move the transition table forbids."""


def initial_state(*, initiator: bool, by_rekey: bool) -> IkeState:
    if by_rekey:
        return IkeState.REKEY_NEW
    return IkeState.INIT_SENT if initiator else IkeState.HALF_OPEN


def check_transition(old: IkeState, new: IkeState) -> None:
    if new not in TRANSITIONS[old]:
        raise IllegalTransition(f"an IKE SA cannot go from {old.value} to {new.value}")


@dataclass(slots=True)
class RekeyRecord:
    """A finished or running IKE/child rekey exchange, kept to resolve collisions."""

    nonce_i: bytes
    nonce_r: bytes
    #: what the exchange made: a child SA (child rekey) or an IKE SA (IKE rekey)
    child: ChildSa | None = None
    ike: IkeSaHandle | None = None
    we_initiated: bool = False

    @property
    def lowest(self) -> bytes:
        return min(self.nonce_i, self.nonce_r)


@dataclass(slots=True)
class Liveness:
    last_inbound: float
    last_outbound_traffic: float = 0.0


def error_notify_name(message: IkeMessage) -> str:
    notify = message.error_notify()
    if notify is None:
        return ""
    try:
        return NotifyType(notify.notify_type).name
    except ValueError:
        return f"ERROR_{notify.notify_type}"
