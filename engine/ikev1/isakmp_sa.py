"""One ISAKMP SA (IKEv1 phase 1) with the exchanges under way on it and the IPsec SAs
its quick modes made: the encryption of its messages, their IV chains, retransmission,
lifetimes, DPD, and how it ends."""

from __future__ import annotations

import hashlib
import ipaddress
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from engine.crypto import DhKeyPair, RandomBytes
from engine.crypto.algorithms import WEAK_DH_GROUPS, WEAK_ENCRYPTIONS
from engine.events import (
    Address,
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    DownReason,
    EspTransforms,
    IkeAlgorithms,
    IkeEvent,
    IkeSaAbandoned,
    IkeSaDown,
    IkeSaUp,
    NegotiationFailed,
    RetransmitGiveUp,
    TrafficSelectorSet,
)
from engine.ike.errors import IkeDrop
from engine.ike.policy import IkeConfig, PeerPolicy
from engine.ike.proposals import INTEG_NAMES
from engine.ikev1.constants import (
    DOI_IPSEC,
    ExchangeType,
    HeaderFlag,
    NotifyType,
    Phase1Hash,
    ProtocolId,
)
from engine.ikev1.errors import AuthenticationRefused, Ikev1Error
from engine.ikev1.exchanges.base import NEVER, Exchange
from engine.ikev1.keys import Phase1Keys, exchange_iv, protected_hash
from engine.ikev1.message import HEADER_SIZE, Header, decrypt, encrypt
from engine.ikev1.payloads import (
    DeletePayload,
    IdPayload,
    NotifyPayload,
    OpaquePayload,
    Payload,
    decode_chain_with_tail,
    encode_chain,
)
from engine.ikev1.payloads.opaque import hash_payload
from engine.ikev1.phase2_sa import Phase2Sa
from engine.ikev1.policy import ClientGrant
from engine.ikev1.proposals import Phase1Choice

if TYPE_CHECKING:
    from engine.ikev1.exchanges.informational import DeadPeerDetection
    from engine.ikev1.exchanges.transaction import RemoteAccess
    from engine.ikev1.exchanges.transaction_client import RemoteAccessClient

HASH_NAMES = {
    Phase1Hash.MD5: "md5",
    Phase1Hash.SHA1: "sha1",
    Phase1Hash.SHA2_256: "sha256",
    Phase1Hash.SHA2_384: "sha384",
    Phase1Hash.SHA2_512: "sha512",
}
#: seconds an ISAKMP SA may take to get from its first message to authenticated
HALF_OPEN_TIMEOUT = 30.0


class Ikev1State(StrEnum):
    """`show crypto isakmp sa` states."""

    MM_NO_STATE = "MM_NO_STATE"
    MM_SA_SETUP = "MM_SA_SETUP"
    MM_KEY_EXCH = "MM_KEY_EXCH"
    AG_INIT_EXCH = "AG_INIT_EXCH"
    CONF_XAUTH = "CONF_XAUTH"
    CONF_ADDR = "CONF_ADDR"
    QM_IDLE = "QM_IDLE"
    DELETED = "MM_NO_STATE (deleted)"


AUTHENTICATED = (Ikev1State.CONF_XAUTH, Ikev1State.CONF_ADDR, Ikev1State.QM_IDLE)


class SaContext(Protocol):
    """What an ISAKMP SA needs from its engine."""

    config: IkeConfig
    random_bytes: RandomBytes

    def new_id(self) -> int: ...
    def new_child_spi(self) -> bytes: ...
    def release_child_spi(self, spi: bytes) -> None: ...
    def emit(self, event: IkeEvent) -> None: ...
    def send(self, data: bytes, local: Address, remote: Address) -> None: ...
    def reschedule(self, sa: IsakmpSa) -> None: ...
    def unregister(self, sa: IsakmpSa) -> None: ...
    def established(self, sa: IsakmpSa, initial_contact: bool, now: float) -> None: ...
    def drop(self, remote: Address, reason: IkeDrop, detail: str, now: float) -> None: ...


class IsakmpSa:
    def __init__(
        self,
        ctx: SaContext,
        *,
        initiator: bool,
        local: Address,
        remote: Address,
        peer: PeerPolicy | None,
        cookie_i: bytes,
        cookie_r: bytes,
        aggressive: bool,
        now: float,
    ) -> None:
        self.ctx = ctx
        self.ike_sa_id = ctx.new_id()
        self.initiator = initiator
        self.local = local
        self.remote = remote
        self.peer = peer
        self.cookie_i = cookie_i
        self.cookie_r = cookie_r
        self.aggressive = aggressive
        self.state = Ikev1State.AG_INIT_EXCH if aggressive else Ikev1State.MM_NO_STATE
        self.created_at = now
        self.half_open_deadline = now + HALF_OPEN_TIMEOUT
        self.expire_at = NEVER
        self.rekey_at = NEVER
        #: what phase 1 agreed, and the material of its key exchange
        self.choice: Phase1Choice | None = None
        self.dh: DhKeyPair | None = None
        self.public_i = b""
        self.public_r = b""
        self.nonce_i = b""
        self.nonce_r = b""
        self.sa_i_body = b""
        self.id_i: IdPayload | None = None
        self.id_r: IdPayload | None = None
        self.keys: Phase1Keys | None = None
        #: the CBC chain of phase 1, then its last block (every later exchange's IV seed)
        self.phase1_iv = b""
        self.ivs: dict[int, bytes] = {}
        #: what the peer told us it supports (its vendor IDs)
        self.peer_natt = False
        self.peer_dpd = False
        self.peer_xauth = False
        self.peer_unity = False
        self.nat_local = False
        self.nat_remote = False
        self.exchanges: dict[int, Exchange] = {}
        self.children: dict[int, Phase2Sa] = {}
        self.group = ""
        self.grant: ClientGrant | None = None
        self.remote_access: RemoteAccess | None = None
        self.client: RemoteAccessClient | None = None
        self.dpd: DeadPeerDetection | None = None
        self.last_inbound = now
        self.down_reason: DownReason | None = None
        self._pending_iv: tuple[int, bytes] | None = None
        self.rekeyed_from: int | None = None
        #: a newer ISAKMP SA with the same peer took over (ours only waits to expire)
        self.replaced = False
        #: IkeSaUp was published (a remote-access client's only after mode-config)
        self.announced = False
        #: what the peer seemed to say but could not prove (unprotected error notifies,
        #: protected ones that did not verify): (notify name or "", description)
        self.suspicions: list[tuple[str, str]] = []
        #: the IV a refused phase 1 message would have moved the chain to
        self._refused_iv: tuple[int, bytes] | None = None

    # ------------------------------------------------------------------ identity
    @property
    def peer_name(self) -> str:
        return self.peer.name if self.peer else ""

    @property
    def is_up(self) -> bool:
        return self.state in AUTHENTICATED

    @property
    def closed(self) -> bool:
        return self.state is Ikev1State.DELETED

    @property
    def local_id(self) -> IdPayload | None:
        return self.id_i if self.initiator else self.id_r

    @property
    def remote_id(self) -> IdPayload | None:
        return self.id_r if self.initiator else self.id_i

    @property
    def uses_natt_port(self) -> bool:
        return self.local[1] != self.ctx.config.ike_port

    @property
    def udp_encapsulation(self) -> bool:
        return self.nat_local or self.nat_remote or self.ctx.config.force_encapsulation

    def algorithms(self) -> IkeAlgorithms:
        assert self.choice is not None
        weak = []
        if self.choice.encryption.transform_id in WEAK_ENCRYPTIONS:
            weak.append("encryption")
        if self.choice.hash_id in (Phase1Hash.MD5, Phase1Hash.SHA1):
            weak += ["prf", "integrity"]
        if self.choice.group in WEAK_DH_GROUPS:
            weak.append("dh_group")
        name = HASH_NAMES.get(Phase1Hash(self.choice.hash_id), str(self.choice.hash_id))
        return IkeAlgorithms(
            self.choice.encryption.name, name, name, self.choice.group, tuple(weak)
        )

    # ------------------------------------------------------------------ messages
    def header_for(self, exchange: int, message_id: int, flags: int, length: int) -> Header:
        return Header(self.cookie_i, self.cookie_r, 0, exchange, flags, message_id, length)

    def seal(
        self, exchange: int, message_id: int, payloads: list[Payload], *, encrypted: bool
    ) -> bytes:
        first, body = encode_chain(payloads)
        flags = 0
        # answering a message means it was accepted: its last block seeds our reply
        self.accept_iv()
        if encrypted:
            assert self.keys is not None and self.choice is not None
            iv = self._iv(message_id)
            body = encrypt(self.choice.encryption, self.keys.key, iv, body)
            self._set_iv(message_id, body[-self.choice.encryption.block_size :])
            flags |= HeaderFlag.ENCRYPTION
        header = Header(
            self.cookie_i,
            self.cookie_r,
            first,
            exchange,
            flags,
            message_id,
            HEADER_SIZE + len(body),
        )
        return header.encode() + body

    def seal_protected(self, exchange: int, message_id: int, payloads: list[Payload]) -> bytes:
        """[HASH(1) | payloads], HASH(1) = prf(SKEYID_a, M-ID | payloads), encrypted."""
        assert self.keys is not None and self.choice is not None
        _, tail = encode_chain(payloads)
        digest = protected_hash(self.choice.prf, self.keys.skeyid_a, message_id, tail)
        return self.seal(exchange, message_id, [hash_payload(digest), *payloads], encrypted=True)

    def open(self, header: Header, data: bytes) -> tuple[list[Payload], bytes]:
        """The payloads (decrypted when the header says so) and the bytes after the first
        payload. The IV chain moves on only once the caller has accepted the message
        (`accept_iv`): a forged message must not desynchronise it."""
        body = data[HEADER_SIZE:]
        self._pending_iv = None
        if header.encrypted:
            if self.keys is None or self.choice is None:
                raise Ikev1Error(
                    "encrypted message before keys exist", notify=NotifyType.INVALID_FLAGS
                )
            iv = self._iv(header.message_id)
            plain = decrypt(self.choice.encryption, self.keys.key, iv, body)
            self._pending_iv = (header.message_id, body[-self.choice.encryption.block_size :])
            body = plain
        return decode_chain_with_tail(header.next_payload, body)

    def accept_iv(self) -> None:
        pending = self._pending_iv
        if pending is not None:
            self._set_iv(*pending)
            self._pending_iv = None

    def _iv(self, message_id: int) -> bytes:
        if message_id == 0:
            return self.phase1_iv
        iv = self.ivs.get(message_id)
        if iv is None:
            assert self.choice is not None
            iv = exchange_iv(
                self.choice.prf, self.phase1_iv, message_id, self.choice.encryption.block_size
            )
        return iv

    def _set_iv(self, message_id: int, block: bytes) -> None:
        if message_id == 0:
            self.phase1_iv = block
        else:
            self.ivs[message_id] = block

    def forget_exchange(self, message_id: int) -> None:
        self.exchanges.pop(message_id, None)
        self.ivs.pop(message_id, None)

    def check_protected(self, message_id: int, payloads: list[Payload], tail: bytes) -> None:
        """HASH(1) first, and right: else the message is not the peer's."""
        assert self.keys is not None and self.choice is not None
        if not payloads or not _is_hash(payloads[0]):
            raise AuthenticationRefused(
                "protected message without a HASH payload first",
                NotifyType.INVALID_HASH_INFORMATION,
            )
        expected = protected_hash(self.choice.prf, self.keys.skeyid_a, message_id, tail)
        if payloads[0].data != expected:  # type: ignore[union-attr]
            raise AuthenticationRefused("HASH(1) mismatch", NotifyType.INVALID_HASH_INFORMATION)

    def new_message_id(self) -> int:
        while True:
            value = int.from_bytes(self.ctx.random_bytes(4), "big")
            if value and value not in self.exchanges and value not in self.ivs:
                return value

    # ------------------------------------------------------------------ transmission
    def transmit(self, exchange: Exchange, data: bytes, now: float, *, wait: bool) -> None:
        """Send; with `wait`, resend with backoff until the next message arrives."""
        exchange.last_sent = data
        if wait:
            exchange.tries = 1
            exchange.retransmit_at = now + self.ctx.config.retransmit.delay(0)
        else:
            exchange.retransmit_at = NEVER
        self.ctx.send(data, self.local, self.remote)
        self.ctx.reschedule(self)

    def send_one_shot(self, payloads: list[Payload]) -> None:
        """An INFORMATIONAL exchange of one message (RFC 2409 section 5.7)."""
        if self.keys is None:
            return
        message_id = self.new_message_id()
        data = self.seal_protected(ExchangeType.INFORMATIONAL, message_id, payloads)
        self.ivs.pop(message_id, None)
        self.ctx.send(data, self.local, self.remote)

    def retransmit_due(self) -> float:
        return min((e.retransmit_at for e in self.exchanges.values()), default=NEVER)

    def retransmit(self, now: float) -> None:
        policy = self.ctx.config.retransmit
        for exchange in list(self.exchanges.values()):
            if exchange.retransmit_at > now or exchange.last_sent is None:
                continue
            if exchange.tries >= policy.tries:
                self.ctx.emit(
                    RetransmitGiveUp(
                        self.ike_sa_id,
                        self.peer_name,
                        self.remote,
                        exchange.name,
                        exchange.tries,
                        now,
                    )
                )
                self.report_suspicions(now, f"{exchange.name}: no answer")
                self.close(DownReason.RETRANSMIT_GIVE_UP, now, notify_peer=False)
                return
            self.ctx.send(exchange.last_sent, self.local, self.remote)
            exchange.retransmit_at = now + policy.delay(exchange.tries)
            exchange.tries += 1

    def resend_last(self, exchange: Exchange) -> None:
        """The peer resent its last message: ours was lost, so it goes again."""
        if exchange.last_sent is not None:
            self.ctx.send(exchange.last_sent, self.local, self.remote)

    # ------------------------------------------------------------------ input
    def receive(
        self, header: Header, data: bytes, local: Address, remote: Address, now: float
    ) -> None:
        digest = hashlib.sha1(data).digest()
        self._refused_iv = None
        exchange = self.exchanges.get(header.message_id)
        if exchange is not None and digest == exchange.last_received:
            self.resend_last(exchange)
            self.ctx.drop(remote, IkeDrop.PROTOCOL, "retransmitted message answered again", now)
            return
        if exchange is not None and digest in exchange.earlier:
            self.ctx.drop(remote, IkeDrop.PROTOCOL, "late copy of an earlier message", now)
            return
        if exchange is None:
            exchange = self._new_exchange(header, now)
            if exchange is None:
                return
        # a message that does not decode or verify changes nothing: not the IV chain,
        # not the peer's address, not its liveness, and it leaves no exchange behind
        addresses = (self.local, self.remote)
        try:
            try:
                payloads, tail = self.open(header, data)
            except Ikev1Error:
                if header.message_id or not header.encrypted or self.is_up or not self.keys:
                    raise
                from engine.ikev1.exchanges.phase1 import authentication_failed

                # the first encrypted phase 1 message is garbage when the keys differ
                raise authentication_failed(
                    self, "phase 1 message does not decrypt (wrong pre-shared key?)", now
                ) from None
            if (
                header.message_id
                and header.encrypted is False
                and header.exchange != ExchangeType.INFORMATIONAL
            ):
                raise Ikev1Error("phase 2 message in the clear", drop=IkeDrop.PROTOCOL)
            # NAT-T: the peer moved to port 4500 (or a NAT changed its mapping)
            if self.is_up or header.encrypted:
                self._follow(local, remote)
            exchange.receive(self, header, payloads, tail, now)
        except Ikev1Error:
            self._refused_iv, self._pending_iv = self._pending_iv, None
            if not self.closed:
                self.local, self.remote = addresses
            if header.message_id and not exchange.done and exchange.last_sent is None:
                self.forget_exchange(header.message_id)
            raise
        self.last_inbound = now
        self.accept_iv()
        exchange.earlier.add(exchange.last_received)
        exchange.last_received = digest
        if exchange.done and header.message_id and exchange.last_sent is None:
            self.forget_exchange(header.message_id)
        self.ctx.reschedule(self)

    def _follow(self, local: Address, remote: Address) -> None:
        if remote != self.remote or local[1] != self.local[1]:
            self.remote = remote
            self.local = local

    def _new_exchange(self, header: Header, now: float) -> Exchange | None:
        from engine.ikev1.exchanges.informational import Informational
        from engine.ikev1.exchanges.quick_mode import QuickModeResponder
        from engine.ikev1.exchanges.transaction import TransactionResponder

        if header.message_id == 0:
            raise Ikev1Error("phase 1 message after phase 1", drop=IkeDrop.UNEXPECTED_EXCHANGE)
        if not self.is_up and header.exchange != ExchangeType.INFORMATIONAL:
            raise Ikev1Error("phase 2 before phase 1 is done", drop=IkeDrop.UNEXPECTED_EXCHANGE)
        if header.exchange == ExchangeType.INFORMATIONAL:
            if self.keys is None or not header.encrypted:
                # an unauthenticated notify: counted, never acted on (RFC 2408 5.5)
                raise Ikev1Error("unprotected informational", drop=IkeDrop.PROTOCOL)
            return Informational(header.message_id)
        if header.exchange == ExchangeType.QUICK:
            exchange: Exchange = QuickModeResponder(header.message_id)
        elif header.exchange == ExchangeType.TRANSACTION:
            exchange = TransactionResponder(header.message_id)
        else:
            raise Ikev1Error(
                f"exchange type {header.exchange} not supported", drop=IkeDrop.UNEXPECTED_EXCHANGE
            )
        self.exchanges[header.message_id] = exchange
        return exchange

    # ------------------------------------------------------------------ phase 1 done
    def established(
        self, now: float, initial_contact: bool = False, *, defer_announce: bool = False
    ) -> None:
        """Phase 1 is authenticated. A remote-access client is announced (IkeSaUp: the
        session comes up) only once XAUTH and mode-config are through (`announce`)."""
        assert self.choice is not None and self.peer is not None
        self.state = Ikev1State.QM_IDLE
        self.half_open_deadline = NEVER
        lifetime = self.choice.lifetime
        self.expire_at = now + lifetime
        if self.initiator:
            self.rekey_at = now + lifetime * (1 - self.ctx.config.rekey_margin)
        local_id = self.local_id.text() if self.local_id else self.local[0]
        remote_id = self.remote_id.text() if self.remote_id else self.remote[0]
        self._up_event: IkeSaUp | None = IkeSaUp(
            ike_sa_id=self.ike_sa_id,
            peer_name=self.peer_name,
            local=self.local,
            remote=self.remote,
            spi_i=self.cookie_i,
            spi_r=self.cookie_r,
            initiator=self.initiator,
            local_id=local_id,
            remote_id=remote_id,
            algorithms=self.algorithms(),
            nat_local=self.nat_local,
            nat_remote=self.nat_remote,
            lifetime=lifetime,
            at=now,
            rekeyed_from=self.rekeyed_from,
            version=1,
            mode="aggressive" if self.aggressive else "main",
        )
        if not defer_announce:
            self.announce()
        if self.initiator:
            self.exchanges.pop(0, None)
        from engine.ikev1.exchanges.informational import DeadPeerDetection

        dpd = self.peer.dpd or (self.ctx.config.isakmp.dpd if self.ctx.config.isakmp else None)
        if dpd is not None and self.peer_dpd:
            self.dpd = DeadPeerDetection(dpd, now)
        self.ctx.established(self, initial_contact, now)
        self.ctx.reschedule(self)

    def announce(self) -> None:
        """Publish IkeSaUp (once): from now on the SA counts for its session."""
        event = getattr(self, "_up_event", None)
        if event is not None:
            self._up_event = None
            self.announced = True
            self.ctx.emit(event)

    def start_remote_access(self, now: float, *, no_xauth: bool = False) -> None:
        """The gateway's side of remote access once phase 1 is up: XAUTH (unless the
        key says `no-xauth`), then mode-config, as the peer's policy asks."""
        from engine.ikev1.exchanges.transaction import RemoteAccess

        policy = self.peer.ikev1.remote_access if self.peer and self.peer.ikev1 else None
        xauth = policy is not None and bool(policy.xauth_list) and not no_xauth
        if policy is None or (not xauth and not policy.config_mode):
            self.announce()
            return
        self.remote_access = RemoteAccess(policy, xauth)
        self.remote_access.start(self, now)

    # ------------------------------------------------------------------ children
    def add_child(self, child: Phase2Sa, now: float) -> None:
        self.children[child.child_sa_id] = child
        self.ctx.emit(self.installed_event(child, now))
        self.ctx.reschedule(self)

    def installed_event(self, child: Phase2Sa, now: float) -> ChildSaInstalled:
        assert self.peer is not None
        choice = child.choice
        integ = choice.integrity
        weak = []
        if choice.encryption.transform_id in WEAK_ENCRYPTIONS:
            weak.append("encryption")
        if integ is not None and integ.transform_id in (1, 2):
            weak.append("integrity")
        if choice.group in WEAK_DH_GROUPS:
            weak.append("dh_group")
        return ChildSaInstalled(
            ike_sa_id=self.ike_sa_id,
            child_sa_id=child.child_sa_id,
            peer_name=self.peer_name,
            local=self.local,
            remote=self.remote,
            spi_in=child.spi_in_int,
            spi_out=child.spi_out_int,
            algorithms=ChildAlgorithms(
                encryption=choice.encryption.name,
                integrity=INTEG_NAMES.get(integ.transform_id, integ.name) if integ else "none",  # type: ignore[call-overload]
                dh_group=choice.group,
                esn=False,
                mode="transport" if choice.transport else "tunnel",
                weak=tuple(weak),
            ),
            transforms=EspTransforms(choice.encryption, integ, False, choice.transport),
            traffic_selectors=TrafficSelectorSet(
                (str(child.local_ts),), (str(child.remote_ts),), child.protocol
            ),
            lifetime=choice.lifetime,
            lifetime_kb=choice.lifetime_kb,
            udp_encapsulation=self.udp_encapsulation or self.uses_natt_port,
            initiator=child.initiator,
            at=now,
            keys=child.keys,
            rekeyed_from=child.rekeyed_from,
            interface=self.peer.interface,
        )

    def remove_child(
        self, child: Phase2Sa, reason: DownReason, now: float, *, with_ike_sa: bool = False
    ) -> None:
        """`with_ike_sa`: the ISAKMP SA closes too, and says so in an event right after."""
        if self.children.pop(child.child_sa_id, None) is None:
            return
        self.ctx.release_child_spi(child.spi_in)
        self.ctx.emit(
            ChildSaDeleted(
                self.ike_sa_id,
                child.child_sa_id,
                self.peer_name,
                child.spi_in_int,
                child.spi_out_int,
                reason,
                now,
                with_ike_sa,
            )
        )

    def delete_child(self, child: Phase2Sa, reason: DownReason, now: float) -> None:
        """Tell the peer (its inbound SPI is our outbound one), then remove it here."""
        if self.is_up:
            self.send_one_shot([DeletePayload(ProtocolId.ESP, (child.spi_in,))])
        self.remove_child(child, reason, now)

    def child_by_spi_out(self, spi: bytes) -> Phase2Sa | None:
        for child in self.children.values():
            if child.spi_out == spi or child.spi_in == spi:
                return child
        return None

    # ------------------------------------------------------------------ the end
    def delete(self, reason: DownReason, now: float) -> None:
        """IOS's `clear crypto session`: a DELETE for every IPsec SA and the ISAKMP SA."""
        for child in list(self.children.values()):
            self.delete_child(child, reason, now)
        self.close(reason, now, notify_peer=True)

    def close(self, reason: DownReason, now: float, *, notify_peer: bool, detail: str = "") -> None:
        if self.closed:
            return
        was_up = self.is_up and self.announced
        if notify_peer and self.is_up:
            self.send_one_shot(
                [DeletePayload(ProtocolId.ISAKMP, (self.cookie_i + self.cookie_r,), DOI_IPSEC)]
            )
        # Whether an IkeSaDown or IkeSaAbandoned follows (below): the children's events
        # then say they go with it.
        announced = was_up or (self.initiator and self.rekeyed_from is None)
        for child in list(self.children.values()):
            self.remove_child(child, reason, now, with_ike_sa=announced)
        self.state = Ikev1State.DELETED
        self.down_reason = reason
        self.exchanges.clear()
        if not was_up and self.initiator and self.rekeyed_from is None:
            self.ctx.emit(
                IkeSaAbandoned(
                    self.ike_sa_id, self.peer_name, self.local, self.remote, reason, now, detail
                )
            )
        if was_up:
            self.ctx.emit(
                IkeSaDown(
                    self.ike_sa_id, self.peer_name, self.local, self.remote, reason, now, detail
                )
            )
        self.ctx.unregister(self)

    def notify_error(self, notify: NotifyType) -> None:
        """An error notify: protected once keys exist, else in the clear (phase 1)."""
        payload = NotifyPayload(notify, ProtocolId.ISAKMP, self.cookie_i + self.cookie_r)
        if self.keys is not None and self.choice is not None:
            refused = self._refused_iv
            if not self.is_up and refused is not None and refused[0] == 0:
                # phase 1 ends here; the peer seeds its IV from the message it last sent,
                # the one we refuse (RFC 2409 appendix B)
                self.phase1_iv = refused[1]
            self.send_one_shot([payload])
            return
        data = self.seal(ExchangeType.INFORMATIONAL, 0, [payload], encrypted=False)
        self.ctx.send(data, self.local, self.remote)

    def suspect(self, notify: str, description: str) -> None:
        """Keep what the peer seemed to say (a few): reported if the negotiation fails."""
        if len(self.suspicions) < 4 and (notify, description) not in self.suspicions:
            self.suspicions.append((notify, description))

    def report_suspicions(self, now: float, why: str) -> None:
        """A negotiation that ends without an answer says what the peer seemed to say."""
        if self.is_up or not self.suspicions:
            return
        notify = next((n for n, _ in self.suspicions if n), "")
        said = "; ".join(d for _, d in self.suspicions)
        self.ctx.emit(
            NegotiationFailed(
                self.local,
                self.remote,
                self.peer_name,
                f"{why} ({said}, not verified)",
                now,
                notify,
                protocol="IKEv1",
            )
        )

    # ------------------------------------------------------------------ timers
    def next_timer(self) -> float:
        if self.closed:
            return NEVER
        candidates = [self.retransmit_due(), self.expire_at]
        if not self.is_up:
            candidates.append(self.half_open_deadline)
        elif not self.replaced:
            candidates.append(self.rekey_at)
        if self.dpd is not None and self.is_up:
            candidates.append(self.dpd.due(self))
        for child in self.children.values():
            candidates.append(child.expire_at)
            if not child.superseded:
                candidates.append(child.rekey_at)
        return min(candidates)

    def handle_timer(self, now: float) -> None:
        from engine.ikev1.exchanges.quick_mode import QuickModeInitiator

        if self.closed:
            return
        self.retransmit(now)
        if self.closed:
            return
        if not self.is_up and now >= self.half_open_deadline:
            self.report_suspicions(now, "phase 1 did not complete in time")
            self.close(DownReason.HALF_OPEN_TIMEOUT, now, notify_peer=False)
            return
        for child in list(self.children.values()):
            if now >= child.expire_at:
                reason = DownReason.REKEYED if child.superseded else DownReason.LIFETIME_EXPIRED
                self.delete_child(child, reason, now)
            elif not child.superseded and now >= child.rekey_at:
                child.rekey_at = NEVER
                if self.is_up and not self.replaced:
                    QuickModeInitiator.rekey(self, child, now)
        if now >= self.expire_at:
            reason = DownReason.REKEYED if self.replaced else DownReason.LIFETIME_EXPIRED
            self.close(reason, now, notify_peer=True)
            return
        if self.is_up and not self.replaced and now >= self.rekey_at:
            self.rekey_at = NEVER
            self.ctx.rekey_phase1(self, now)  # type: ignore[attr-defined]
        if self.dpd is not None and self.is_up and now >= self.dpd.due(self):
            self.dpd.fire(self, now)

    def __repr__(self) -> str:
        return (
            f"IsakmpSa(id={self.ike_sa_id}, peer={self.peer_name!r}, state={self.state.value}, "
            f"remote={self.remote[0]}:{self.remote[1]})"
        )


def _is_hash(payload: Payload) -> bool:
    from engine.ikev1.constants import PayloadType

    return isinstance(payload, OpaquePayload) and payload.payload_type == PayloadType.HASH


def first_of(payloads: list[Payload], kind: int) -> Payload | None:
    for payload in payloads:
        if payload.payload_type == kind:
            return payload
    return None


def all_of(payloads: list[Payload], kind: int) -> list[Payload]:
    return [p for p in payloads if p.payload_type == kind]


def address_id(address: str) -> IdPayload:
    from engine.ikev1.constants import IdType

    ip = ipaddress.ip_address(address)
    return IdPayload(IdType.IPV4_ADDR if ip.version == 4 else IdType.IPV6_ADDR, ip.packed, 17, 500)
