"""The IKE SA as the exchange modules see it, and what an SA needs from its engine.

The exchanges (`engine.ike.exchanges`) are written against these protocols, not against
`engine.ike.ike_sa`, so the SA can use the exchanges without an import circle: the SA,
its task manager and its timers depend on the exchanges, never the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from engine.crypto import IkeKeys, Prf, RandomBytes
from engine.events import Address, DownReason, IkeEvent
from engine.ike.constants import ExchangeType
from engine.ike.policy import IkeConfig, PeerPolicy
from engine.ike.proposals import IkeSuite
from engine.ike.sa_state import IkeState, RekeyRecord
from engine.ike.sk_cipher import SkCipher

if TYPE_CHECKING:
    from engine.ike.child_sa import ChildSa
    from engine.ike.exchanges.base import Exchange
    from engine.ike.payloads import Payload


class SaContext(Protocol):
    """What an IKE SA needs from the engine that holds it."""

    config: IkeConfig
    random_bytes: RandomBytes

    def new_id(self) -> int: ...
    def new_ike_spi(self) -> bytes: ...
    def new_child_spi(self) -> bytes: ...
    def emit(self, event: IkeEvent) -> None: ...
    def send(self, data: bytes, local: Address, remote: Address) -> None: ...
    def register(self, sa: IkeSaHandle) -> None: ...
    def leave_half_open(self, sa: IkeSaHandle) -> None: ...
    def unregister(self, sa: IkeSaHandle) -> None: ...
    def reschedule(self, sa: IkeSaHandle) -> None: ...
    def new_ike_sa(
        self,
        *,
        initiator: bool,
        local: Address,
        remote: Address,
        peer: PeerPolicy | None,
        spi_i: bytes,
        spi_r: bytes,
        now: float,
        rekeyed_from: int,
    ) -> IkeSaHandle: ...


class IkeSaHandle(Protocol):
    """One IKE SA: its identity, keys, children and lifecycle, as exchanges use them."""

    ctx: SaContext
    ike_sa_id: int
    initiator: bool
    state: IkeState
    peer: PeerPolicy | None
    local: Address
    remote: Address
    spi_i: bytes
    spi_r: bytes
    nonce_i: bytes
    nonce_r: bytes
    init_request: bytes
    init_response: bytes
    local_id_text: str
    remote_id_text: str
    nat_local: bool
    nat_remote: bool
    suite: IkeSuite | None
    prf: Prf | None
    keys: IkeKeys | None
    sk_out: SkCipher | None
    rekey_at: float
    rekeyed_from: int | None
    redundant: bool
    successor: IkeSaHandle | None
    children: dict[int, ChildSa]
    child_rekeys: dict[int, RekeyRecord]
    ike_rekey_by_us: RekeyRecord | None
    ike_rekey_by_peer: RekeyRecord | None

    @property
    def peer_name(self) -> str: ...
    @property
    def is_up(self) -> bool: ...
    @property
    def busy(self) -> bool:
        """A request of ours is waiting for its answer."""

    def move_to(self, state: IkeState) -> None: ...
    def install_keys(self, suite: IkeSuite, keys: IkeKeys) -> None: ...
    def lifetimes(self, now: float, lifetime: float) -> tuple[float, float]: ...
    def start(self, exchange: Exchange, now: float, *, first: bool = False) -> None: ...
    def restart_init(self, exchange: Exchange, now: float) -> None: ...
    def send_one_shot(self, exchange: ExchangeType, payloads: list[Payload]) -> None: ...
    def established(self, now: float) -> None: ...
    def add_child(self, child: ChildSa, now: float) -> None: ...
    def remove_child(
        self, child: ChildSa, reason: DownReason, now: float, *, with_ike_sa: bool = False
    ) -> None: ...
    def delete_child(self, child: ChildSa, reason: DownReason, now: float) -> None: ...
    def find_child_by_spi_out(self, spi: bytes) -> ChildSa | None: ...
    def adopt_children(self, old: IkeSaHandle, now: float) -> None: ...
    def delete(self, reason: DownReason, now: float) -> None: ...
    def close(
        self, reason: DownReason, now: float, *, notify_peer: bool, detail: str = ""
    ) -> None: ...
