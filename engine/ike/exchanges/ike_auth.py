"""IKE_AUTH (RFC 7296 sections 1.2 and 2.15): PSK authentication and the first child SA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.events import AuthenticationFailed, DownReason, NegotiationFailed
from engine.ike.constants import AuthMethod, ExchangeType, IdType, NotifyType
from engine.ike.errors import RemoteProtocolError
from engine.ike.exchanges.base import Exchange
from engine.ike.exchanges.child_negotiation import (
    ChildOffer,
    ChildRefused,
    accept_response,
    make_offer,
    offer_payloads,
    refusal,
    respond_child,
)
from engine.ike.payloads import (
    AuthPayload,
    IdiPayload,
    IdPayload,
    IdrPayload,
    NotifyPayload,
    Payload,
)
from engine.ike.policy import Identity, PeerPolicy, parse_ip
from engine.ike.psk_auth import auth_matches, psk_auth
from engine.ike.sa_state import IkeState, error_notify_name

if TYPE_CHECKING:
    from engine.ike.message import IkeMessage
    from engine.ike.sa_interface import IkeSaHandle

CHILD_ERRORS = {
    NotifyType.NO_PROPOSAL_CHOSEN,
    NotifyType.TS_UNACCEPTABLE,
    NotifyType.SINGLE_PAIR_REQUIRED,
    NotifyType.INTERNAL_ADDRESS_FAILURE,
    NotifyType.FAILED_CP_REQUIRED,
    NotifyType.INVALID_SELECTORS,
    NotifyType.NO_ADDITIONAL_SAS,
}


def own_identity(sa: IkeSaHandle) -> Identity:
    assert sa.peer is not None
    return sa.peer.local_identity or Identity.address(sa.local[0])


def identity_matches(wanted: Identity, received: IdPayload) -> bool:
    if wanted.id_type != received.id_type:
        return False
    if received.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
        return received.data == wanted.data
    return received.data.lower() == wanted.data.lower()


def id_text(payload: IdPayload) -> str:
    return payload.display()


def _psk_auth(
    sa: IkeSaHandle, psk: bytes, signed: bytes, nonce: bytes, sk_p: bytes, id_body: bytes
) -> bytes:
    assert sa.prf is not None
    return psk_auth(sa.prf, psk, signed, nonce, sk_p, id_body)


class IkeAuth(Exchange):
    exchange_type = ExchangeType.IKE_AUTH
    name = "IKE_AUTH"

    def __init__(self) -> None:
        self.offer: ChildOffer | None = None

    def build(self, sa: IkeSaHandle, now: float) -> list[Payload] | None:
        assert sa.peer is not None and sa.keys is not None
        identity = own_identity(sa)
        idi = IdiPayload(identity.id_type, identity.data)
        sa.local_id_text = str(identity)
        auth = _psk_auth(
            sa, sa.peer.psk_local.reveal(), sa.init_request, sa.nonce_r, sa.keys.sk_pi, idi.body
        )
        self.offer = make_offer(sa, with_nonce=False, pfs_group=None)
        payloads: list[Payload] = [idi]
        if sa.peer.remote_identity is not None:
            wanted = sa.peer.remote_identity
            payloads.append(IdrPayload(wanted.id_type, wanted.data))
        payloads += [
            AuthPayload(AuthMethod.SHARED_KEY_MIC, auth),
            NotifyPayload(NotifyType.INITIAL_CONTACT),
        ]
        payloads += offer_payloads(sa, self.offer)
        return payloads

    def complete(self, sa: IkeSaHandle, response: IkeMessage, now: float) -> None:
        assert sa.peer is not None and sa.keys is not None and self.offer is not None
        idr = response.get(IdrPayload)
        auth = response.get(AuthPayload)
        if idr is None or auth is None:
            error = error_notify_name(response) or "IKE_AUTH response without AUTH"
            if response.get_notify(NotifyType.AUTHENTICATION_FAILED):
                fail_auth(sa, now, "peer rejected our authentication", notify_peer=False)
            else:
                sa.ctx.emit(
                    NegotiationFailed(
                        sa.local, sa.remote, sa.peer_name, error, now, error_notify_name(response)
                    )
                )
                sa.close(DownReason.NEGOTIATION_FAILED, now, notify_peer=False, detail=error)
            return
        sa.remote_id_text = id_text(idr)
        expected = _psk_auth(
            sa, sa.peer.psk_remote.reveal(), sa.init_response, sa.nonce_i, sa.keys.sk_pr, idr.body
        )
        if auth.method != AuthMethod.SHARED_KEY_MIC or not auth_matches(expected, auth.data):
            fail_auth(sa, now, "responder's AUTH payload does not verify", notify_peer=True)
            return
        wanted = sa.peer.remote_identity
        if wanted is not None and not identity_matches(wanted, idr):
            fail_auth(
                sa, now, f"responder identity {sa.remote_id_text} is not {wanted}", notify_peer=True
            )
            return
        sa.established(now)
        error = response.error_notify()
        if error is not None and error.notify_type in CHILD_ERRORS:
            name = error_notify_name(response)
            sa.ctx.emit(
                NegotiationFailed(
                    sa.local, sa.remote, sa.peer_name, f"child SA refused: {name}", now, name
                )
            )
            return
        try:
            child = accept_response(
                sa, self.offer, response, nonce_i=sa.nonce_i, nonce_r=sa.nonce_r, now=now
            )
        except RemoteProtocolError as err:
            sa.ctx.emit(
                NegotiationFailed(sa.local, sa.remote, sa.peer_name, f"child SA: {err.reason}", now)
            )
            return
        sa.add_child(child, now)


def fail_auth(sa: IkeSaHandle, now: float, reason: str, *, notify_peer: bool) -> None:
    """Authentication failed: one event, an optional notify, and nothing left behind."""
    sa.ctx.emit(
        AuthenticationFailed(sa.local, sa.remote, sa.peer_name, sa.remote_id_text, reason, now)
    )
    if notify_peer and sa.sk_out is not None:
        sa.send_one_shot(
            ExchangeType.INFORMATIONAL, [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
        )
    sa.close(DownReason.AUTHENTICATION_FAILED, now, notify_peer=False, detail=reason)


def find_peer(sa: IkeSaHandle, idi: IdPayload) -> PeerPolicy | None:
    """The configured peer for this address and identity: an exact identity wins; else
    the peer naming the address most closely (a hub's tunnel interface to 192.0.2.7
    before its dynamic crypto map for 0.0.0.0/0), the first in the file among equals."""
    address, local = parse_ip(sa.remote[0]), parse_ip(sa.local[0])
    wildcard, closest = None, -1
    for peer in sa.ctx.config.peers_for(address):
        if peer.local_addresses and local not in peer.local_addresses:
            continue  # `match address local`: not on this address
        if peer.remote_identity is None:
            length = max(
                (net.prefixlen for net in peer.remote_addresses if address in net), default=0
            )
            if length > closest:
                wildcard, closest = peer, length
        elif identity_matches(peer.remote_identity, idi):
            return peer
    return wildcard


def respond(sa: IkeSaHandle, request: IkeMessage, now: float) -> list[Payload]:
    if sa.state is not IkeState.HALF_OPEN or sa.keys is None:
        return [NotifyPayload(NotifyType.INVALID_SYNTAX)]
    idi = request.get(IdiPayload)
    auth = request.get(AuthPayload)
    if idi is None or auth is None:
        sa.remote_id_text = id_text(idi) if idi else ""
        fail_auth(
            sa, now, "IKE_AUTH request without ID or AUTH (EAP is not offered)", notify_peer=False
        )
        return [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
    sa.remote_id_text = id_text(idi)
    peer = find_peer(sa, idi)
    if peer is None:
        fail_auth(
            sa,
            now,
            f"no peer configured for {sa.remote[0]} / {sa.remote_id_text}",
            notify_peer=False,
        )
        return [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
    sa.peer = peer
    expected = _psk_auth(
        sa, peer.psk_remote.reveal(), sa.init_request, sa.nonce_r, sa.keys.sk_pi, idi.body
    )
    if auth.method != AuthMethod.SHARED_KEY_MIC or not auth_matches(expected, auth.data):
        fail_auth(
            sa,
            now,
            "initiator's AUTH payload does not verify (pre-shared key mismatch?)",
            notify_peer=False,
        )
        return [NotifyPayload(NotifyType.AUTHENTICATION_FAILED)]
    identity = own_identity(sa)
    sa.local_id_text = str(identity)
    idr = IdrPayload(identity.id_type, identity.data)
    our_auth = _psk_auth(
        sa, peer.psk_local.reveal(), sa.init_response, sa.nonce_i, sa.keys.sk_pr, idr.body
    )
    sa.established(now)
    payloads: list[Payload] = [idr, AuthPayload(AuthMethod.SHARED_KEY_MIC, our_auth)]
    try:
        child, child_payloads = respond_child(
            sa,
            request,
            nonce_i=sa.nonce_i,
            nonce_r=sa.nonce_r,
            allow_pfs=False,
            send_nonce=False,
            now=now,
        )
    except ChildRefused as err:
        sa.ctx.emit(
            NegotiationFailed(
                sa.local,
                sa.remote,
                sa.peer_name,
                f"child SA refused: {err.reason}",
                now,
                err.notify.name if err.notify else "",
            )
        )
        return payloads + refusal(err)
    sa.add_child(child, now)
    return payloads + child_payloads
