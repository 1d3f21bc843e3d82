"""`show crypto session detail` and the describe page point out weak algorithms."""

from __future__ import annotations

import pytest
from ike_pair import EnginePair, site_to_site_config

from engine.crypto.algorithms import DhId, IntegId, PrfId
from engine.ike.policy import (
    AES_CBC_128,
    AES_GCM_256,
    TRIPLE_DES,
    EspProposalPolicy,
    IkeProposalPolicy,
)
from engine.records import FlowRecord, IkeSaRecord, SessionRecord
from engine.sessions import SessionModel
from engine.show import SessionView, show_crypto_session, weak_text
from engine.store import FLOWS, IKE_SAS, SESSIONS, Store
from tui.screens.describe import flows_text, ike_text

WEAK_IKE = IkeProposalPolicy(
    "old", (TRIPLE_DES,), (PrfId.HMAC_SHA1,), (IntegId.HMAC_SHA1_96,), (DhId.MODP_1024,)
)
STRONG_IKE = IkeProposalPolicy(
    "new", (AES_CBC_128,), (PrfId.HMAC_SHA2_256,), (IntegId.HMAC_SHA2_256_128,), (DhId.ECP_256,)
)
WEAK_ESP = EspProposalPolicy("old", (AES_CBC_128,), (IntegId.HMAC_MD5_96,))
STRONG_ESP = EspProposalPolicy("gcm", (AES_GCM_256,))


def view_of(ike: IkeProposalPolicy, esp: EspProposalPolicy) -> SessionView:
    config = {"ike_proposals": (ike,), "esp_proposals": (esp,)}
    pair = EnginePair(*site_to_site_config(config, config))
    pair.established()
    store = Store()
    sessions = SessionModel(store, clock=lambda: pair.now, publish=lambda _: None)
    for event in pair.events_a:
        sessions.handle(event)
    (record,) = store.table(SESSIONS).values()
    assert isinstance(record, SessionRecord)
    ikes = tuple(
        r for i in record.ike_sa_ids if isinstance(r := store.get(IKE_SAS, i), IkeSaRecord)
    )
    flows = tuple(r for f in record.flow_ids if isinstance(r := store.get(FLOWS, f), FlowRecord))
    return SessionView(record, ikes, flows)


def test_show_detail_names_the_weak_algorithms_of_ike_and_ipsec() -> None:
    view = view_of(WEAK_IKE, WEAK_ESP)
    text = show_crypto_session([view], detail=True, now=view.ike_sas[0].established_at or 0)
    lines = text.splitlines()
    ike_at = next(i for i, line in enumerate(lines) if "Capabilities:" in line)
    assert lines[ike_at + 1] == (
        "    Weak algorithms: encryption 3des, prf sha1, integrity sha1, DH group 2"
    )
    out_at = next(i for i, line in enumerate(lines) if line.startswith("    Outbound:"))
    assert lines[out_at + 1] == "    in use settings ={Tunnel, }"
    assert lines[out_at + 2] == "    Weak algorithms: integrity md5"


def test_show_without_weak_algorithms_has_no_such_line() -> None:
    view = view_of(STRONG_IKE, STRONG_ESP)
    assert "Weak" not in show_crypto_session([view], detail=True, now=0.0)
    assert weak_text(view.ike_sas[0].algorithms) == ""
    # the summary never carries it, weak or not
    assert "Weak" not in show_crypto_session([view_of(WEAK_IKE, WEAK_ESP)], detail=False, now=0)


@pytest.mark.parametrize("weak", [True, False])
def test_describe_marks_each_weak_value(weak: bool) -> None:
    view = view_of(WEAK_IKE, WEAK_ESP) if weak else view_of(STRONG_IKE, STRONG_ESP)
    ike = ike_text(view.ike_sas, 0.0).plain
    flows = flows_text(view.flows, 0.0).plain
    if weak:
        assert "encryption 3des (weak)" in ike
        assert "prf sha1 (weak)" in ike
        assert "integrity sha1 (weak)" in ike
        assert "DH group 2 (weak)" in ike
        assert "transform aes-cbc-128/md5 (weak)" in flows
        assert "PFS no  " in flows or ("PFS no" in flows and "PFS no (weak)" not in flows)
    else:
        assert "(weak)" not in ike + flows
        assert "encryption aes-cbc-128  prf sha256" in ike
