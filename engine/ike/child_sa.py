"""The state of one child SA (an ESP SA pair) as the IKE core sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from engine.crypto import ChildKeys
from engine.ike.payloads import TrafficSelector
from engine.ike.proposals import EspSuite


class ChildState(Enum):
    INSTALLED = "installed"
    REKEYING = "rekeying"
    REKEYED = "rekeyed"
    DELETING = "deleting"


@dataclass(slots=True)
class ChildSa:
    child_sa_id: int
    spi_in: bytes
    spi_out: bytes
    suite: EspSuite
    local_ts: tuple[TrafficSelector, ...]
    remote_ts: tuple[TrafficSelector, ...]
    #: True when we were the initiator of the exchange that created it (keys direction)
    initiator: bool
    created_at: float
    rekey_at: float
    expire_at: float
    lifetime: float
    lifetime_kb: int | None
    keys: ChildKeys = field(repr=False)
    nonce_i: bytes = field(repr=False, default=b"")
    nonce_r: bytes = field(repr=False, default=b"")
    state: ChildState = ChildState.INSTALLED
    rekeyed_from: int | None = None
    #: ESP in transport mode (USE_TRANSPORT_MODE agreed), else tunnel mode
    transport: bool = False
    #: why the mode is not what our policy asked for ("" when it is)
    mode_note: str = ""

    @property
    def spi_in_int(self) -> int:
        return int.from_bytes(self.spi_in, "big")

    @property
    def spi_out_int(self) -> int:
        return int.from_bytes(self.spi_out, "big")
