"""Remote access over IKEv1: aggressive mode with a group key, then XAUTH and mode-config
in transaction exchanges, the service's verdict in between (`authorize_client`), and
quick mode from the address the client was given."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from engine.events import (
    AuthenticationFailed,
    ChildSaInstalled,
    ClientAuthorizationRequested,
    DownReason,
    IkeSaDown,
    IkeSaUp,
    NegotiationFailed,
    RemoteAccessGranted,
)
from engine.ike.policy import Identity, IdentityKind, RetransmitPolicy
from engine.ikev1.constants import CfgAttr, CfgType
from engine.ikev1.exchanges import transaction
from engine.ikev1.exchanges.quick_mode import QuickModeInitiator
from engine.ikev1.isakmp_sa import Ikev1State
from engine.ikev1.policy import ClientCredentials, Ikev1PeerSettings
from tests.ike_pair import LinkFaults
from tests.ikev1_pair import (
    ANY,
    CLIENT_ADDRESS,
    CLIENT_INSIDE,
    GROUP,
    XAUTH_PASSWORD,
    XAUTH_USER,
    active,
    assert_one_flow,
    grant_for,
    remote_access,
    v1_pair,
)

ASSIGNED = ipaddress.ip_network(f"{CLIENT_ADDRESS}/32")


def connect(cfg, faults: LinkFaults | None = None, grant=None, reason: str = "", wait: float = 2):
    """Client A connects; the service (this test) answers the gateway's question."""
    pair = v1_pair(cfg, faults)
    pair.initiate()
    pair.run(wait)
    (asked,) = pair.of_type("b", ClientAuthorizationRequested)
    assert pair.b.authorize_client(asked.ike_sa_id, grant, reason, pair.now)
    pair.run(10)
    return pair


def test_xauth_accepted_then_address_pulled_and_used_as_selector() -> None:
    pair = v1_pair(remote_access())
    pair.initiate()
    pair.run(2)
    (asked,) = pair.of_type("b", ClientAuthorizationRequested)
    assert (asked.username, asked.group, asked.xauth_list) == (
        XAUTH_USER,
        GROUP.name,
        "cisco-client",
    )
    assert asked.password is not None and asked.password.reveal() == XAUTH_PASSWORD.reveal()
    (sa_b,) = active(pair.b)
    assert sa_b.state is Ikev1State.CONF_XAUTH  # waits for the service
    assert not pair.of_type("a", ChildSaInstalled)
    pair.b.authorize_client(asked.ike_sa_id, grant_for(), "", pair.now)
    pair.run(10)
    assert_one_flow(pair)
    for side in "ab":
        (granted,) = pair.of_type(side, RemoteAccessGranted)
        assert granted.username == XAUTH_USER and granted.address == str(CLIENT_ADDRESS)
        assert granted.group == (GROUP.name if side == "b" else "")
    (client_child,), (gw_child,) = pair.children("a"), pair.children("b")
    assert client_child.local_ts == ASSIGNED and gw_child.remote_ts == ASSIGNED
    assert sa_b.state is Ikev1State.QM_IDLE
    (sa_a,) = active(pair.a)
    assert sa_a.client is not None and sa_a.client.address == CLIENT_ADDRESS


def test_xauth_rejected_ends_the_session_and_installs_nothing() -> None:
    pair = connect(remote_access(), grant=None, reason="bad password")
    (at_b,) = pair.of_type("b", AuthenticationFailed)
    assert at_b.remote_id == XAUTH_USER and "bad password" in at_b.reason
    assert pair.of_type("a", AuthenticationFailed)
    assert pair.of_type("a", IkeSaDown)[0].reason is DownReason.AUTHENTICATION_FAILED
    # the gateway never counted the client as up: no session came and went
    assert not pair.of_type("b", IkeSaUp) and not pair.of_type("b", IkeSaDown)
    for side in "ab":
        assert not pair.of_type(side, ChildSaInstalled)
        assert not pair.of_type(side, RemoteAccessGranted)
    assert not pair.a.ike_sas() and not pair.b.ike_sas()


def test_without_xauth_the_service_is_asked_for_the_address_only() -> None:
    pair = connect(remote_access(xauth=False), grant=grant_for())
    (asked,) = pair.of_type("b", ClientAuthorizationRequested)
    assert asked.password is None and asked.xauth_list == "" and asked.username == ""
    assert_one_flow(pair)
    assert pair.children("b")[0].remote_ts == ASSIGNED


@pytest.mark.parametrize("xauth", [True, False], ids=["xauth", "no-xauth"])
def test_mode_config_push(xauth: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`client configuration address initiate`: the gateway sends CFG_SET with the address;
    a client that asked meanwhile gets its answer too, and the session comes up."""
    sent: list[tuple[int, set[int]]] = []
    begin = transaction.begin_transaction

    def spy(sa, request, expect, owner, now):
        sent.append((request.cfg_type, {a.kind for a in request.attributes}))
        return begin(sa, request, expect, owner, now)

    monkeypatch.setattr(transaction, "begin_transaction", spy)
    pair = connect(remote_access(xauth=xauth, config_mode="initiate"), grant=grant_for())
    pushes = [
        kinds for kind, kinds in sent if kind == CfgType.SET and CfgAttr.XAUTH_STATUS not in kinds
    ]
    if xauth:
        assert pushes and CfgAttr.INTERNAL_IP4_ADDRESS in pushes[0]
    assert_one_flow(pair)
    assert pair.children("a")[0].local_ts == ASSIGNED
    pair.run(60)  # no request of the client is left unanswered to time out
    assert_one_flow(pair)
    assert not pair.of_type("a", IkeSaDown)


def test_the_gateway_refuses_a_selector_other_than_the_given_address() -> None:
    pair = connect(remote_access(), grant=grant_for())
    (sa_a,) = active(pair.a)
    QuickModeInitiator.begin(sa_a, CLIENT_INSIDE, ANY, pair.now)  # not its given address
    pair.run(5)
    (refused,) = pair.of_type("b", NegotiationFailed)
    assert refused.notify == "INVALID_ID_INFORMATION"
    assert str(CLIENT_INSIDE) in refused.reason and str(CLIENT_ADDRESS) in refused.reason
    assert pair.of_type("a", NegotiationFailed)[0].notify == "INVALID_ID_INFORMATION"
    assert_one_flow(pair)  # the flow of the given address goes on


def test_a_client_that_does_not_ask_for_an_address_is_refused_quick_mode() -> None:
    """The gateway answers mode-config requests: until one came, quick mode waits."""
    own_address = ClientCredentials(XAUTH_USER, XAUTH_PASSWORD, request_address=False)
    pair = connect(remote_access(credentials=own_address), grant=grant_for())
    (refused,) = pair.of_type("b", NegotiationFailed)
    assert "before XAUTH and mode-config completed" in refused.reason
    assert not pair.of_type("a", ChildSaInstalled) and not pair.of_type("b", ChildSaInstalled)


def test_quick_mode_is_refused_before_xauth_and_mode_config_complete() -> None:
    """A client that knows nothing of XAUTH starts quick mode at once: refused."""
    no_client = Ikev1PeerSettings(
        aggressive=True, self_identity=Identity(IdentityKind.KEY_ID, GROUP.name)
    )
    pair = v1_pair(remote_access(client={"ikev1": no_client}))
    pair.initiate()
    pair.run(2)
    (refused,) = pair.of_type("b", NegotiationFailed)
    assert "before XAUTH" in refused.reason and refused.notify == "INVALID_EXCHANGE_TYPE"
    assert pair.of_type("a", NegotiationFailed)[0].notify == "INVALID_EXCHANGE_TYPE"
    assert not pair.of_type("a", ChildSaInstalled) and not pair.of_type("b", ChildSaInstalled)
    pair.run(120)  # the gateway's XAUTH request goes unanswered: it gives up cleanly
    assert not pair.b.ike_sas()
    assert not pair.of_type("b", ChildSaInstalled)


def test_no_address_to_give_fails_the_client() -> None:
    pair = connect(remote_access(), grant=grant_for(address=None))
    (failed,) = pair.of_type("b", AuthenticationFailed)
    assert "no address" in failed.reason
    assert not pair.of_type("b", ChildSaInstalled)
    assert not pair.of_type("b", IkeSaUp) and not pair.b.ike_sas()


def test_authorize_client_answers_only_a_waiting_client() -> None:
    pair = connect(remote_access(), grant=grant_for())
    (sa_b,) = active(pair.b)
    # once decided, a second verdict changes nothing
    assert pair.b.authorize_client(sa_b.ike_sa_id, None, "late", pair.now)
    assert_one_flow(pair)
    assert not pair.of_type("b", AuthenticationFailed)
    assert not pair.b.authorize_client(9999, grant_for(), "", pair.now)


def test_the_grant_username_defaults_to_the_xauth_user() -> None:
    pair = connect(remote_access(), grant=replace(grant_for(), username=""))
    assert pair.of_type("b", RemoteAccessGranted)[0].username == XAUTH_USER


@pytest.mark.parametrize("seed", range(4))
def test_remote_access_on_a_lossy_link(seed: int) -> None:
    retransmit = RetransmitPolicy(timeout=1.0, base=1.5, tries=10)
    cfg = tuple(replace(c, retransmit=retransmit) for c in remote_access())
    pair = connect(
        cfg,  # type: ignore[arg-type]
        LinkFaults(loss=0.15, duplicate=0.1, reorder=0.2, seed=seed),
        grant=grant_for(),
        wait=25,
    )
    pair.run(120)
    assert_one_flow(pair)
    assert pair.children("b")[0].remote_ts == ASSIGNED


def test_the_xauth_password_never_shows() -> None:
    pair = connect(remote_access(), grant=grant_for())
    secret = XAUTH_PASSWORD.reveal().decode()
    shown = " ".join(repr(e) for e in pair.events_a + pair.events_b)
    shown += " ".join(repr(sa) for sa in pair.a.ike_sas() + pair.b.ike_sas())
    shown += repr(pair.a.config) + repr(pair.b.config)
    assert secret not in shown
    (asked,) = pair.of_type("b", ClientAuthorizationRequested)
    assert "password" not in repr(asked)
