"""The RADIUS dictionary accounting packets are built with.

pyrad ships no dictionary and FreeRADIUS's top-level one does not load in pyrad, so the
package carries its own small file (``dictionary`` next to this module) with exactly the
attributes IPsec VPN accounting sends: the gateway runs without FreeRADIUS installed.
"""

from __future__ import annotations

import io
from enum import IntEnum, StrEnum
from functools import cache
from importlib import resources

from pyrad.dictionary import Dictionary

CISCO_VENDOR_ID = 9


class StatusType(IntEnum):
    """Acct-Status-Type (RFC 2866 5.1); the names are the dictionary's value names."""

    START = 1
    STOP = 2
    INTERIM_UPDATE = 3
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8

    @property
    def label(self) -> str:
        return _LABELS[self.value]


#: by value: an enum member's own hash is a Python-level call
_LABELS = {
    StatusType.START.value: "Start",
    StatusType.STOP.value: "Stop",
    StatusType.INTERIM_UPDATE.value: "Interim-Update",
    StatusType.ACCOUNTING_ON.value: "Accounting-On",
    StatusType.ACCOUNTING_OFF.value: "Accounting-Off",
}


class TerminateCause(StrEnum):
    """Acct-Terminate-Cause value names (RFC 2866 5.10) the accountant uses."""

    USER_REQUEST = "User-Request"
    LOST_CARRIER = "Lost-Carrier"
    IDLE_TIMEOUT = "Idle-Timeout"
    SESSION_TIMEOUT = "Session-Timeout"
    ADMIN_RESET = "Admin-Reset"
    NAS_ERROR = "NAS-Error"
    NAS_REQUEST = "NAS-Request"
    NAS_REBOOT = "NAS-Reboot"
    USER_ERROR = "User-Error"


def dictionary_text() -> str:
    """The shipped dictionary file, read through importlib so it works from any install."""
    return resources.files(__package__).joinpath("dictionary").read_text(encoding="utf-8")


@cache
def load_dictionary() -> Dictionary:
    """Parsed once per process: pyrad dictionaries are read-only after loading."""
    return Dictionary(io.StringIO(dictionary_text()))
