"""Why the IKEv1 core drops or refuses a message: the same split as `engine.ike.errors`."""

from __future__ import annotations

from engine.ike.errors import IkeDrop
from engine.ikev1.constants import NotifyType


class Ikev1Error(Exception):
    """A message we drop, and answer with `notify` when one is named (in an INFORMATIONAL
    exchange, protected once the ISAKMP SA has keys; see `engine.ikev1.error_notify`)."""

    def __init__(
        self, reason: str, *, notify: NotifyType | None = None, drop: IkeDrop = IkeDrop.PROTOCOL
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify
        self.drop = drop


class MalformedMessage(Ikev1Error):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, notify=NotifyType.PAYLOAD_MALFORMED, drop=IkeDrop.MALFORMED)


class ProposalRefused(Ikev1Error):
    """No proposal taken: NO_PROPOSAL_CHOSEN, or a more specific reason that held for
    every transform offered (INVALID_TRANSFORM_ID, ATTRIBUTES_NOT_SUPPORTED)."""

    def __init__(self, reason: str, notify: NotifyType = NotifyType.NO_PROPOSAL_CHOSEN) -> None:
        super().__init__(reason, notify=notify)


class AuthenticationRefused(Ikev1Error):
    """The peer's HASH did not verify, or no key or policy matches its identity."""

    def __init__(self, reason: str, notify: NotifyType = NotifyType.AUTHENTICATION_FAILED) -> None:
        super().__init__(reason, notify=notify, drop=IkeDrop.INTEGRITY)
