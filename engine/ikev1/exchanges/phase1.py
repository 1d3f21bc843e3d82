"""What main mode and aggressive mode share: vendor IDs, NAT discovery (RFC 3947), the
pre-shared key for a peer, our identity, and the key derivation once the nonces and
Diffie-Hellman halves are known."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from engine.crypto import InvalidPublicValue, dh_group
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm
from engine.events import AuthenticationFailed
from engine.ike.policy import Identity, IdentityKind, PeerPolicy
from engine.ikev1.constants import NATT_PORT, IdType, NotifyType, PayloadType, VendorId
from engine.ikev1.errors import AuthenticationRefused, Ikev1Error, ProposalRefused
from engine.ikev1.keys import derive_phase1_keys, hash_i, hash_r, phase1_iv, plain_hash
from engine.ikev1.payloads import IdPayload, OpaquePayload, Payload
from engine.ikev1.payloads.opaque import nat_d, vendor
from engine.ikev1.policy import PresharedKey

if TYPE_CHECKING:
    from engine.ikev1.isakmp_sa import IsakmpSa

NONCE_SIZE = 32
_NATT_VIDS = (
    VendorId.NATT_RFC3947,
    VendorId.NATT_DRAFT_02,
    VendorId.NATT_DRAFT_02_ALT,
    VendorId.NATT_DRAFT_03,
)


def our_vendor_ids(xauth: bool = False) -> list[Payload]:
    """What we support: RFC 3947 NAT-T, DPD, XAUTH and Cisco Unity (so that Unity
    clients ask for their attributes)."""
    ids = [VendorId.NATT_RFC3947, VendorId.DPD, VendorId.XAUTH]
    if xauth:
        ids.append(VendorId.UNITY)
    return [vendor(v) for v in ids]


def read_vendor_ids(sa: IsakmpSa, payloads: list[Payload]) -> None:
    for payload in payloads:
        if not isinstance(payload, OpaquePayload) or payload.payload_type != PayloadType.VENDOR:
            continue
        data = payload.data
        if data in _NATT_VIDS:
            sa.peer_natt = True
        elif data[:16] == VendorId.DPD[:16] or data == VendorId.DPD:
            sa.peer_dpd = True
        elif data == VendorId.XAUTH:
            sa.peer_xauth = True
        elif data[:14] == VendorId.UNITY[:14]:
            sa.peer_unity = True


def nat_hash(sa: IsakmpSa, address: str, port: int) -> bytes:
    assert sa.choice is not None
    packed = ipaddress.ip_address(address).packed
    return plain_hash(sa.choice.prf, sa.cookie_i + sa.cookie_r + packed + port.to_bytes(2, "big"))


def nat_payloads(sa: IsakmpSa) -> list[Payload]:
    """NAT-D of the peer's address first, then ours (RFC 3947 section 3.2)."""
    if not sa.peer_natt:
        return []
    return [
        nat_d(nat_hash(sa, sa.remote[0], sa.remote[1])),
        nat_d(nat_hash(sa, sa.local[0], sa.local[1])),
    ]


def detect_nat(sa: IsakmpSa, payloads: list[Payload]) -> None:
    hashes = [
        p.data
        for p in payloads
        if isinstance(p, OpaquePayload)
        and p.payload_type in (PayloadType.NAT_D, PayloadType.NAT_D_DRAFT)
    ]
    if not sa.peer_natt or len(hashes) < 2:
        sa.nat_local = sa.nat_remote = False
        return
    # the first names us as the peer saw us, the rest the peer as it knows itself
    sa.nat_local = hashes[0] != nat_hash(sa, sa.local[0], sa.local[1])
    sa.nat_remote = nat_hash(sa, sa.remote[0], sa.remote[1]) not in hashes[1:]


def float_to_natt(sa: IsakmpSa) -> None:
    """With a NAT on the path (or ESP always in UDP), the initiator moves IKE to port
    4500 from the next message on (RFC 3947 section 4); the responder follows it."""
    if not sa.peer_natt or not (sa.nat_local or sa.nat_remote or sa.ctx.config.force_encapsulation):
        return
    remote_port = sa.peer.remote_natt_port if sa.peer else NATT_PORT
    sa.local = (sa.local[0], sa.ctx.config.natt_port)
    sa.remote = (sa.remote[0], remote_port)


def new_key_exchange(sa: IsakmpSa) -> bytes:
    assert sa.choice is not None
    try:
        sa.dh = dh_group(sa.choice.group).generate(sa.ctx.random_bytes)
    except UnsupportedAlgorithm as err:
        raise ProposalRefused(str(err)) from None
    return sa.dh.public


def derive_keys(sa: IsakmpSa, psk: bytes) -> None:
    assert sa.choice is not None and sa.dh is not None
    peer_public = sa.public_r if sa.initiator else sa.public_i
    try:
        shared = sa.dh.shared_secret(peer_public)
    except (InvalidPublicValue, CryptoError, ValueError) as err:
        raise Ikev1Error(
            f"bad key exchange value: {err}", notify=NotifyType.INVALID_KEY_INFORMATION
        ) from None
    sa.keys = derive_phase1_keys(
        sa.choice.prf,
        sa.choice.encryption,
        psk,
        sa.nonce_i,
        sa.nonce_r,
        shared,
        sa.cookie_i,
        sa.cookie_r,
    )
    sa.phase1_iv = phase1_iv(
        sa.choice.prf, sa.public_i, sa.public_r, sa.choice.encryption.block_size
    )


def compute_hash_i(sa: IsakmpSa) -> bytes:
    assert sa.keys is not None and sa.choice is not None and sa.id_i is not None
    return hash_i(
        sa.choice.prf,
        sa.keys.skeyid,
        sa.public_i,
        sa.public_r,
        sa.cookie_i,
        sa.cookie_r,
        sa.sa_i_body,
        sa.id_i.encode(),
    )


def compute_hash_r(sa: IsakmpSa) -> bytes:
    assert sa.keys is not None and sa.choice is not None and sa.id_r is not None
    return hash_r(
        sa.choice.prf,
        sa.keys.skeyid,
        sa.public_i,
        sa.public_r,
        sa.cookie_i,
        sa.cookie_r,
        sa.sa_i_body,
        sa.id_r.encode(),
    )


def check_hash(
    sa: IsakmpSa, expected: bytes, payloads: list[Payload], what: str, now: float
) -> None:
    for payload in payloads:
        if isinstance(payload, OpaquePayload) and payload.payload_type == PayloadType.HASH:
            if payload.data == expected:
                return
            raise authentication_failed(sa, f"{what} does not verify (wrong pre-shared key?)", now)
    raise AuthenticationRefused(f"no {what} in the message", NotifyType.PAYLOAD_MALFORMED)


def authentication_failed(sa: IsakmpSa, reason: str, now: float) -> AuthenticationRefused:
    """Report a phase 1 that failed on the key (sessions and syslog show it), and the
    error that ends it."""
    remote_id = sa.remote_id.text() if sa.remote_id else ""
    sa.ctx.emit(AuthenticationFailed(sa.local, sa.remote, sa.peer_name, remote_id, reason, now))
    return AuthenticationRefused(reason)


def identity_payload(identity: Identity | None, address: str) -> IdPayload:
    """Our phase 1 ID: the profile's self-identity, else our address (RFC 2407 4.6.2:
    protocol UDP and port 500 are what IOS sends)."""
    if identity is None or identity.kind is IdentityKind.ADDRESS:
        ip = ipaddress.ip_address(identity.value if identity else address)
        kind = IdType.IPV4_ADDR if ip.version == 4 else IdType.IPV6_ADDR
        return IdPayload(kind, ip.packed, 17, 500)
    kind = {
        IdentityKind.FQDN: IdType.FQDN,
        IdentityKind.EMAIL: IdType.USER_FQDN,
        IdentityKind.KEY_ID: IdType.KEY_ID,
    }[identity.kind]
    return IdPayload(kind, identity.value.encode(), 17, 500)


def identity_kind(payload: IdPayload) -> str:
    return {
        IdType.IPV4_ADDR: "address",
        IdType.IPV6_ADDR: "address",
        IdType.FQDN: "fqdn",
        IdType.USER_FQDN: "user-fqdn",
        IdType.KEY_ID: "key-id",
    }.get(payload.id_type, "other")  # type: ignore[call-overload]


def psk_for_peer(sa: IsakmpSa, peer: PeerPolicy | None) -> PresharedKey | None:
    """The key by the peer's address (main mode, and aggressive mode by address)."""
    settings = sa.ctx.config.isakmp
    if settings is None:
        return None
    keyrings = peer.ikev1.keyrings if peer and peer.ikev1 else ()
    return settings.key_for_address(ipaddress.ip_address(sa.remote[0]), keyrings)


def psk_for_identity(sa: IsakmpSa, identity: IdPayload) -> tuple[PresharedKey | None, str]:
    """Aggressive mode: the key named by the initiator's ID (a group for ID_KEY_ID, a
    hostname key for an FQDN), else by its address. Returns the key and the group."""
    settings = sa.ctx.config.isakmp
    if settings is None:
        return None, ""
    kind = identity_kind(identity)
    value = identity.text()
    if kind == "key-id":
        group = settings.group(value)
        if group is not None and group.key is not None:
            return PresharedKey(group.key), value
        return psk_for_peer(sa, None), value
    if kind == "fqdn":
        key = settings.key_for_hostname(value)
        if key is not None:
            return key, ""
    return psk_for_peer(sa, None), ""


def nonce(sa: IsakmpSa) -> bytes:
    return sa.ctx.random_bytes(NONCE_SIZE)


def data_of(payloads: list[Payload], kind: int, what: str) -> bytes:
    for payload in payloads:
        if isinstance(payload, OpaquePayload) and payload.payload_type == kind:
            return payload.data
    raise Ikev1Error(f"no {what} payload", notify=NotifyType.PAYLOAD_MALFORMED)


def id_of(payloads: list[Payload]) -> IdPayload:
    for payload in payloads:
        if isinstance(payload, IdPayload):
            return payload
    raise Ikev1Error("no ID payload", notify=NotifyType.INVALID_ID_INFORMATION)


def initiator_psk(sa: IsakmpSa) -> bytes:
    """The key we initiate with: the peer's own (its crypto map entry's address key, an
    Easy VPN client's group key), else the most specific address key for the peer."""
    if sa.peer is not None and sa.peer.psk_local:
        return sa.peer.psk_local.reveal()
    key = psk_for_peer(sa, sa.peer)
    if key is None:
        raise AuthenticationRefused(f"no pre-shared key for {sa.remote[0]}")
    return key.key.reveal()
