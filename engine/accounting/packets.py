"""Accounting-Request datagrams and the check of their answers (RFC 2866 3).

A record's attributes are encoded once, when it is made (`encode_body`, our own encoder
from the pyrad dictionary, pyrad only for what it does not cover): each transmission
then only appends its Acct-Delay-Time and signs the header with its Identifier
(`sign_request`). The MD5 of each datagram, sent and received, is the one cost per
packet that cannot be shared.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingRequest, AccountingResponse, AcctPacket

from engine.accounting.encoding import encode_attributes
from engine.accounting.records import Attributes
from engine.secret import Secret

ACCT_DELAY_TIME = 41
_HEADER = struct.Struct("!BBH")
_DELAY = struct.Struct("!BBI")
_LENGTH = struct.Struct("!H")
_ZERO_AUTHENTICATOR = bytes(16)


class EncodeError(ValueError):
    """A record that cannot become a packet (an attribute too long or unknown)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The verified reply that ended an exchange."""

    raw: bytes
    ident: int
    rtt: float


#: (datagram, the Request Authenticator it answers, the key) -> verified
Verifier = Callable[[bytes, bytes, Secret], bool]
#: a transmission's Identifier -> (datagram, its Request Authenticator)
Encoder = Callable[[int], tuple[bytes, bytes]]
ACCOUNTING_RESPONSES = frozenset({AccountingResponse})
#: Access-Accept, Access-Reject, Access-Challenge
ACCESS_RESPONSES = frozenset({2, 3, 11})
RESPONSES = ACCOUNTING_RESPONSES | ACCESS_RESPONSES


@dataclass(frozen=True, slots=True)
class Outbound:
    """A record to send: its attributes without Acct-Delay-Time, and its event's time.

    `body` is the attributes' wire form when the caller encoded them already (once per
    record); else each `Outbound` encodes them when it is first sent."""

    record_id: int
    attributes: Attributes
    event_time: float
    body: bytes | None = None


def encode_body(dictionary: Dictionary, attributes: Attributes) -> bytes:
    """The attributes' wire form (without Acct-Delay-Time); EncodeError if it cannot be.

    Our encoder (encoding.py) covers what accounting sends; pyrad's Packet, about a fifth
    of a millisecond per record, only what it does not, and says what is wrong."""
    fast = encode_attributes(dictionary, attributes)
    if fast is not None:
        return fast
    packet = AcctPacket(id=0, secret=b"-", dict=dictionary)
    try:
        for name, value in attributes:
            packet.AddAttribute(name, value)
        return bytes(packet.RequestPacket()[20:])
    except (KeyError, ValueError, TypeError, struct.error) as err:
        raise EncodeError(f"cannot encode the record: {err}") from None


def sign_request(body: bytes, delay: int, ident: int, key: Secret) -> tuple[bytes, bytes]:
    """The Accounting-Request datagram of encoded attributes with this transmission's
    Acct-Delay-Time and Identifier, and its Request Authenticator."""
    if not 0 <= delay < 1 << 32:
        raise EncodeError(f"cannot encode the record: Acct-Delay-Time {delay}")
    body = body + _DELAY.pack(ACCT_DELAY_TIME, 6, delay)
    header = _HEADER.pack(AccountingRequest, ident, 20 + len(body))
    authenticator = hashlib.md5(header + _ZERO_AUTHENTICATOR + body + key.reveal()).digest()
    return header + authenticator + body, authenticator


def encode_request(
    dictionary: Dictionary, attributes: Attributes, delay: int, ident: int, key: Secret
) -> tuple[bytes, bytes]:
    """The Accounting-Request datagram and its Request Authenticator (RFC 2866 3)."""
    return sign_request(encode_body(dictionary, attributes), delay, ident, key)


def ensure_encodable(dictionary: Dictionary, attributes: Attributes) -> bytes:
    """The attributes' wire form now, or EncodeError now rather than at the first
    transmission."""
    return encode_body(dictionary, attributes)


def verify_response(raw: bytes, request_authenticator: bytes, key: Secret) -> bool:
    """Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret)."""
    if len(raw) < 20:
        return False
    length = _LENGTH.unpack_from(raw, 2)[0]
    if length < 20 or length > len(raw):
        return False
    raw = raw[:length]
    expected = hashlib.md5(raw[0:4] + request_authenticator + raw[20:] + key.reveal()).digest()
    return hmac.compare_digest(expected, raw[4:20])
