"""Display formats shared by the screens: one place decides how a number or a peer reads."""

from __future__ import annotations

import socket

from engine.show import hms
from engine.store import FLOWS, Store

#: Status words in the order the summary line lists them.
STATUS_ORDER = ("UP-ACTIVE", "UP-IDLE", "UP-NO-IKE", "DOWN-NEGOTIATING", "DOWN")

#: Theme variable per status; `tui.themes` gives each a default so any theme works.
STATUS_VARIABLES = {
    "UP-ACTIVE": "status-up-active",
    "UP-IDLE": "status-up-idle",
    "UP-NO-IKE": "status-up-no-ike",
    "DOWN-NEGOTIATING": "status-down-negotiating",
    "DOWN": "status-down",
}

_UNITS = ("", "K", "M", "G", "T", "P")
#: Every character `human`, `bit_rate`, `uptime` and a plain count can write, lower case:
#: a filter with any other character cannot match such a column, so only the text
#: columns need checking (and those do not change with every counter move).
NUMBER_ALPHABET = frozenset("0123456789.:- bkmgtps")


def human(value: float, unit: str = "B", base: int = 1024) -> str:
    """`1.5 MB`: short enough for a table column, exact below one thousand."""
    scaled = float(value)
    for prefix in _UNITS:
        if abs(scaled) < base or prefix == _UNITS[-1]:
            if not prefix:
                return f"{int(scaled)} {unit}"
            return f"{scaled:.1f} {prefix}{unit}"
        scaled /= base
    raise AssertionError("unreachable")


def plural(count: int, word: str) -> str:
    """`1 crypto session`, `2 crypto sessions`."""
    return f"{count} {word}{'s' * (count != 1)}"


def bit_rate(bytes_per_s: float) -> str:
    """Routers speak bits per second (`5 minute input rate 1000 bits/sec`)."""
    if bytes_per_s <= 0:
        return "-"
    return human(bytes_per_s * 8, "bps", 1000)


def uptime(seconds: float | None) -> str:
    return "-" if seconds is None or seconds < 0 else hms(seconds)


def address_key(address: str) -> tuple[int, int]:
    """Numeric order for addresses (10.0.0.9 before 10.0.0.10); junk sorts last.

    inet_pton, not ipaddress: a 100k-session first load spent half its row-making time
    in ipaddress's pure-Python parser."""
    family, version = (socket.AF_INET6, 6) if ":" in address else (socket.AF_INET, 4)
    try:
        packed = socket.inet_pton(family, address.partition("%")[0])  # fe80::1%eth0
    except (OSError, ValueError):
        return (9, 0)
    return (version, int.from_bytes(packed, "big"))


def peer_text(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def spi(value: int | None) -> str:
    return "-" if value is None else f"0x{value:08X}"


def active_sas(store: Store, flow_ids: tuple[str, ...]) -> int:
    """IOS counts each direction, so a child SA pair is two active SAs."""
    total = 0
    for flow_id in flow_ids:
        flow = store.get(FLOWS, flow_id)
        total += getattr(flow, "active_sas", 0)
    return total
