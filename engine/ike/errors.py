"""Protocol errors, split as h11 does: the peer's fault vs. our caller's fault.

A `RemoteProtocolError` is expected input from the wire: the receiving code
counts it and drops the message, or answers with `notify` when that is what
RFC 7296 asks for. It is never allowed to escape as a traceback.
"""

from __future__ import annotations

from enum import StrEnum

from engine.ike.constants import NotifyType


class IkeDrop(StrEnum):
    """Why the IKE core dropped a datagram: a few stable reasons, whatever the detail,
    so that counting hostile input never grows with its variety."""

    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported major version"
    UNKNOWN_SPI = "unknown IKE SPI"
    SPI_MISMATCH = "SPI pair mismatch"
    INTEGRITY = "integrity check failed"
    UNEXPECTED_MESSAGE_ID = "unexpected message ID"
    UNEXPECTED_EXCHANGE = "unexpected exchange type"
    UNSUPPORTED_CRITICAL = "unsupported critical payload"
    INVALID_KE_VALUE = "invalid KE value"
    NO_NONCE = "IKE_SA_INIT without nonce"
    PROTOCOL = "protocol error"
    INTERNAL = "internal error"


class IkeError(Exception):
    """Base of every error the IKE core raises on purpose."""


class LocalProtocolError(IkeError):
    """Our caller asked for something impossible (a bug or a bad configuration)."""


class RemoteProtocolError(IkeError):
    """The peer sent something we must drop or answer with an error notify."""

    #: the notify to answer with when the message was a request, or None to drop silently
    notify: NotifyType | None = NotifyType.INVALID_SYNTAX
    notify_data: bytes = b""
    #: how a drop of the message is counted
    drop: IkeDrop = IkeDrop.PROTOCOL

    def __init__(
        self,
        reason: str,
        *,
        notify: NotifyType | None = None,
        data: bytes = b"",
        drop: IkeDrop | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        if notify is not None:
            self.notify = notify
        if data:
            self.notify_data = data
        if drop is not None:
            self.drop = drop


class MalformedMessage(RemoteProtocolError):
    """A length, a field or a payload chain that does not add up (INVALID_SYNTAX)."""

    drop = IkeDrop.MALFORMED


class UnsupportedCriticalPayload(RemoteProtocolError):
    """A payload we do not know with the critical bit set (RFC 7296 section 2.5)."""

    notify = NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD
    drop = IkeDrop.UNSUPPORTED_CRITICAL

    def __init__(self, payload_type: int) -> None:
        super().__init__(
            f"unsupported critical payload type {payload_type}",
            data=bytes([payload_type & 0xFF]),
        )
        self.payload_type = payload_type


class InvalidMajorVersion(RemoteProtocolError):
    notify = NotifyType.INVALID_MAJOR_VERSION
    drop = IkeDrop.UNSUPPORTED_VERSION


class IntegrityError(RemoteProtocolError):
    """ICV mismatch or bad padding in an SK payload: always dropped silently."""

    notify = None
    drop = IkeDrop.INTEGRITY
