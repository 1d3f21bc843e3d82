"""One IPsec SA pair negotiated by quick mode, as the IKEv1 core keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.crypto import ChildKeys
from engine.ike.policy import IPNetwork
from engine.ikev1.proposals import EspChoice


@dataclass(slots=True)
class Phase2Sa:
    child_sa_id: int
    spi_in: bytes
    spi_out: bytes
    choice: EspChoice
    local_ts: IPNetwork
    remote_ts: IPNetwork
    #: the IP protocol of the client IDs (0: any)
    protocol: int
    #: True when we initiated its quick mode (`ChildKeys` direction, and who rekeys)
    initiator: bool
    created_at: float
    rekey_at: float
    expire_at: float
    keys: ChildKeys = field(repr=False)
    rekeyed_from: int | None = None
    #: set once a newer SA carries the same selectors
    superseded: bool = False

    @property
    def spi_in_int(self) -> int:
        return int.from_bytes(self.spi_in, "big")

    @property
    def spi_out_int(self) -> int:
        return int.from_bytes(self.spi_out, "big")

    @property
    def selectors(self) -> tuple[IPNetwork, IPNetwork, int]:
        return self.local_ts, self.remote_ts, self.protocol
