"""The ESP data plane (RFC 4303 tunnel mode), sans-IO: bytes and `now` in, bytes out.

`SaTable` holds the gateway's child SA pairs; `InboundSa`/`OutboundSa` are one
direction each; refusals come back as counted `Drop`/`DropReason` values, never raised.
"""

from engine.esp.drops import Drop, DropReason
from engine.esp.replay import ReplayWindow
from engine.esp.sa import EspConfigError, InboundSa, Lifetime, OutboundSa
from engine.esp.selectors import NetworkSet, SelectorIndex, parse_addresses
from engine.esp.table import ChildSaPair, SaTable

__all__ = [
    "ChildSaPair",
    "Drop",
    "DropReason",
    "EspConfigError",
    "InboundSa",
    "Lifetime",
    "NetworkSet",
    "OutboundSa",
    "ReplayWindow",
    "SaTable",
    "SelectorIndex",
    "parse_addresses",
]
