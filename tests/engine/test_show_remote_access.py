"""An IKEv1 remote-access client as the gateway shows it: `show crypto session detail`
(and so the console's describe page) names its XAUTH user and assigned address, and
`show crypto isakmp sa` lists its ISAKMP SA in QM_IDLE."""

from __future__ import annotations

from ikev1_pair import grant_for, remote_access, v1_pair

from engine.events import ClientAuthorizationRequested
from engine.records import FlowRecord, IkeSaRecord, SessionRecord
from engine.sessions import SessionModel
from engine.show import SessionView, show_crypto_session
from engine.show_isakmp import rows_of, show_crypto_isakmp_sa
from engine.store import FLOWS, IKE_SAS, SESSIONS, Store


def test_the_gateway_shows_the_user_and_address_of_its_client() -> None:
    pair = v1_pair(remote_access())
    pair.initiate()
    pair.run(2)
    (request,) = pair.of_type("b", ClientAuthorizationRequested)
    assert pair.b.authorize_client(request.ike_sa_id, grant_for(), "", pair.now)
    pair.run(3)
    store = Store()
    sessions = SessionModel(store, clock=lambda: pair.now)
    for event in pair.events_b:
        sessions.handle(event)
    (record,) = store.table(SESSIONS).values()
    assert isinstance(record, SessionRecord)
    ikes = tuple(
        r for i in record.ike_sa_ids if isinstance(r := store.get(IKE_SAS, i), IkeSaRecord)
    )
    flows = tuple(r for f in record.flow_ids if isinstance(r := store.get(FLOWS, f), FlowRecord))
    text = show_crypto_session([SessionView(record, ikes, flows)], detail=True, now=pair.now)
    lines = text.splitlines()
    assert f"Username: {request.username}" in lines
    assert f"Assigned address: {grant_for().address}" in lines
    assert "Session status: UP-ACTIVE" in lines
    table = show_crypto_isakmp_sa(rows_of(pair.b, pair.now), detail=False)
    (row,) = table.splitlines()[2:]
    assert row.split()[2:] == ["QM_IDLE", str(request.ike_sa_id), "ACTIVE"]
    detail = show_crypto_isakmp_sa(rows_of(pair.b, pair.now), detail=True)
    assert f"XAUTH user: {request.username}" in detail
