"""Which records the accountant makes from session transitions, and when (no network:
records are made and spooled before anything is sent)."""

from __future__ import annotations

from pathlib import Path

from acct_support import (
    KEY,
    PEER,
    SESSION,
    T0,
    Clock,
    config_text,
    down,
    load_config,
    log_lines,
    make_accountant,
    session_record,
    transition,
    up,
)

from engine.accounting import records
from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState
from engine.crypto import ChildKeys
from engine.events import (
    ChildAlgorithms,
    ChildSaDeleted,
    ChildSaInstalled,
    Counters,
    DownReason,
    EspTransforms,
    IkeAlgorithms,
    IkeSaDown,
    IkeSaUp,
    TrafficSelectorSet,
)
from engine.records import SessionStatus
from engine.sessions import SessionModel
from engine.store import ACCOUNTING, SESSIONS, Store

S = SessionStatus


def made(store: Store) -> list[AccountingRecord]:
    rows = [r for r in store.table(ACCOUNTING).values() if isinstance(r, AccountingRecord)]
    return sorted(rows, key=lambda r: r.record_id)


def kinds(store: Store) -> list[str]:
    return [r.kind for r in made(store)]


def test_start_when_the_first_sa_pair_is_up(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    [start] = made(store)
    assert start.kind == "Start"
    assert start.state is DeliveryState.PENDING
    assert start.session_id == SESSION and start.peer == "10.0.0.2"
    assert start.list_name == "ACCT"
    assert start.acct_session_id == "00000001"
    assert records.avpairs(start.attributes)["isakmp-group-id"] == "PROF"
    assert len(accountant.spool) == 1
    assert "%CRYPTO-7-AAA: AAA: accounting Start queued for session 00000001" in "\n".join(
        log_lines(store)
    )


def test_no_record_for_same_status_or_ike_changes(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    accountant.on_transition(transition(S.UP_ACTIVE, S.UP_ACTIVE, T0 + 5))
    accountant.on_transition(transition(S.UP_ACTIVE, S.UP_NO_IKE, T0 + 6))
    accountant.on_transition(transition(S.UP_NO_IKE, S.UP_ACTIVE, T0 + 7))
    accountant.on_transition(up(T0 + 8))  # already accounted: no second Start
    assert kinds(store) == ["Start"]


def test_stop_when_the_last_flow_is_gone(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    totals = Counters(bytes_in=100, packets_in=1, bytes_out=200, packets_out=2)
    accountant.on_transition(
        transition(S.UP_ACTIVE, S.UP_IDLE, T0 + 30, totals=totals, reason=None)
    )
    start, stop = made(store)
    assert stop.kind == "Stop"
    assert stop.acct_session_id == start.acct_session_id
    values = dict(stop.attributes)
    assert values["Acct-Session-Time"] == 30
    assert values["Acct-Input-Octets"] == 100 and values["Acct-Output-Octets"] == 200
    assert accountant.open_sessions() == {}
    # IKE still up, a new SA pair: a new accounting session
    accountant.on_transition(up(T0 + 40))
    assert made(store)[-1].kind == "Start"
    assert made(store)[-1].acct_session_id == "00000002"


def test_stop_only_sends_just_the_stop(tmp_path: Path) -> None:
    clock = Clock()
    accountant, store = make_accountant(
        tmp_path, config_text(mode="stop-only", update="periodic 1"), clock=clock
    )
    accountant.on_transition(up(T0))
    assert kinds(store) == []
    clock.advance(300)
    assert accountant.tick() == 0  # no interims for a stop-only list
    accountant.on_transition(down(T0 + 300, Counters(bytes_in=5)))
    [stop] = made(store)
    assert stop.kind == "Stop"
    assert dict(stop.attributes)["Acct-Session-Time"] == 300
    assert dict(stop.attributes)["Acct-Terminate-Cause"] == "User-Request"


def test_no_accounting_without_a_list(tmp_path: Path) -> None:
    text = config_text().replace(" aaa accounting psk ACCT\n", "")
    accountant, store = make_accountant(tmp_path, text)
    accountant.on_transition(up(T0))
    accountant.on_transition(down(T0 + 1))
    assert kinds(store) == []
    accountant, store = make_accountant(tmp_path, config_text(mode="none"), spool_name="b.sqlite")
    accountant.on_transition(up(T0))
    assert kinds(store) == []


def test_unknown_peer_is_not_accounted(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0, peer_name="dynamic stranger"))
    assert kinds(store) == []


def test_session_ids_are_unique_and_survive_a_restart(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    accountant.on_transition(down(T0 + 1))
    accountant.on_transition(up(T0 + 2, session_id="other"))
    ids = [r.acct_session_id for r in made(store)]
    assert ids == ["00000001", "00000001", "00000002"]
    accountant.spool.close()
    again, store2 = make_accountant(tmp_path, config_text())
    again.on_transition(up(T0 + 3))
    assert made(store2)[-1].acct_session_id == "00000003"


def test_interim_every_n_minutes_from_the_start(tmp_path: Path) -> None:
    clock = Clock()
    accountant, store = make_accountant(tmp_path, config_text(update="periodic 1"), clock=clock)
    accountant.on_transition(up(T0))
    counters = Counters(bytes_in=1000, packets_in=10, bytes_out=3000, packets_out=30)
    store.put(SESSIONS, SESSION, session_record(totals=counters))
    clock.now = T0 + 59
    assert accountant.tick() == 0
    clock.now = T0 + 60
    assert accountant.tick() == 1
    assert accountant.tick() == 0  # once per period
    interim = made(store)[-1]
    assert interim.kind == "Interim-Update"
    values = dict(interim.attributes)
    assert values["Acct-Session-Time"] == 60
    assert values["Acct-Input-Octets"] == 1000  # the store's fresh counters
    assert values["Acct-Output-Packets"] == 30
    assert values["Event-Timestamp"] == int(T0 + 60)
    clock.now = T0 + 119
    assert accountant.tick() == 0
    clock.now = T0 + 120
    assert accountant.tick() == 1
    clock.now = T0 + 500  # the timer was late: one interim, not a burst
    assert accountant.tick() == 1
    clock.now = T0 + 539
    assert accountant.tick() == 0
    clock.now = T0 + 540
    assert accountant.tick() == 1
    accountant.on_transition(down(T0 + 550))
    clock.now = T0 + 600
    assert accountant.tick() == 0
    assert kinds(store) == ["Start", *["Interim-Update"] * 4, "Stop"]


def test_reload_changes_the_interim_period(tmp_path: Path) -> None:
    clock = Clock()
    accountant, _ = make_accountant(tmp_path, config_text(update="periodic 1"), clock=clock)
    accountant.on_transition(up(T0))
    clock.now = T0 + 30
    accountant.apply_config(*load_config(config_text(update="periodic 5")))
    clock.now = T0 + 60
    assert accountant.tick() == 0
    clock.now = T0 + 300
    assert accountant.tick() == 1
    accountant.apply_config(*load_config(config_text()))  # no update periodic: none
    clock.now = T0 + 900
    assert accountant.tick() == 0


def test_newinfo_sends_an_interim_when_the_identity_changes(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text(update="newinfo"))
    accountant.on_transition(up(T0))
    accountant.on_transition(transition(S.UP_ACTIVE, S.UP_NO_IKE, T0 + 1))
    assert kinds(store) == ["Start"]
    accountant.on_transition(transition(S.UP_NO_IKE, S.UP_ACTIVE, T0 + 2, username="joe@corp"))
    assert kinds(store) == ["Start", "Interim-Update"]
    assert records.attribute(made(store)[-1].attributes, "User-Name") == ["joe@corp"]


def test_secrets_never_leave_the_key(tmp_path: Path) -> None:
    accountant, store = make_accountant(tmp_path, config_text())
    accountant.on_transition(up(T0))
    accountant.on_transition(down(T0 + 1))
    seen = repr(made(store)) + repr(accountant.plans) + repr(accountant.servers)
    seen += "\n".join(log_lines(store))
    assert KEY not in seen
    accountant.spool.close()
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()


# ---------------------------------------------------------------------- with SessionModel
ALG = IkeAlgorithms("aes-gcm-256", "sha256", "none", 31)
CHILD_ALG = ChildAlgorithms("aes-gcm-256", "none", None, False)
CHILD_TRANSFORMS = EspTransforms.named("aes-gcm-256", "none")
KEYS = ChildKeys(b"e" * 36, b"", b"f" * 36, b"")
TS = TrafficSelectorSet(("10.1.0.0/16",), ("10.2.0.0/16",))
LOCAL = ("10.0.0.1", 500)
REMOTE = ("10.0.0.2", 500)


def ike_up(ike: int, rekeyed_from: int | None = None) -> IkeSaUp:
    return IkeSaUp(
        ike,
        PEER,
        LOCAL,
        REMOTE,
        b"i" * 8,
        b"r" * 8,
        True,
        "10.0.0.1",
        "peer.example",
        ALG,
        False,
        False,
        3600.0,
        0.0,
        rekeyed_from,
    )


def child(ike: int, child_id: int, rekeyed_from: int | None = None) -> ChildSaInstalled:
    return ChildSaInstalled(
        ike,
        child_id,
        PEER,
        LOCAL,
        REMOTE,
        0x1000 + child_id,
        0x2000 + child_id,
        CHILD_ALG,
        CHILD_TRANSFORMS,
        TS,
        3600.0,
        4608000,
        False,
        True,
        0.0,
        KEYS,
        rekeyed_from,
    )


def child_gone(ike: int, child_id: int, reason: DownReason) -> ChildSaDeleted:
    return ChildSaDeleted(ike, child_id, PEER, 0x1000 + child_id, 0x2000 + child_id, reason, 0.0)


def test_session_model_life_with_rekeys(tmp_path: Path) -> None:
    """Rekeys of child and IKE SAs are no transitions, hence no records; the Stop comes
    when the last child goes, with the IKE SA's reason."""
    clock = Clock()
    model, compiled = load_config(config_text())
    store = Store()
    accountant = Accountant(store, None, spool_path=tmp_path / "s.sqlite", clock=clock)
    sessions = SessionModel(store, clock=clock, publish=accountant.on_transition)
    accountant.apply_config(model, compiled)
    sessions.apply_config(compiled)
    sessions.handle(ike_up(1))
    assert kinds(store) == []  # UP-IDLE: no SA pair yet
    sessions.handle(child(1, 10))
    assert kinds(store) == ["Start"]
    clock.advance(100)
    sessions.handle(child(1, 11, rekeyed_from=10))
    sessions.handle(child_gone(1, 10, DownReason.REKEYED))
    sessions.handle(ike_up(2, rekeyed_from=1))
    sessions.handle(IkeSaDown(1, PEER, LOCAL, REMOTE, DownReason.REKEYED, 0.0))
    assert kinds(store) == ["Start"]
    sessions.update_counters({11: Counters(bytes_in=4000, packets_in=4)}, clock())
    clock.advance(50)
    sessions.handle(IkeSaDown(2, PEER, LOCAL, REMOTE, DownReason.CLEARED, 0.0))
    assert kinds(store) == ["Start"]  # UP-NO-IKE: the flow lives on
    sessions.handle(child_gone(2, 11, DownReason.CLEARED))
    start, stop = made(store)
    assert stop.kind == "Stop"
    values = dict(stop.attributes)
    assert values["Acct-Terminate-Cause"] == "Admin-Reset"
    assert values["Acct-Session-Time"] == 150
    assert values["Acct-Input-Octets"] == 4000
    assert records.avpairs(start.attributes)["isakmp-phase1-id"] == "peer.example"
    assert dict(start.attributes)["NAS-IP-Address"] == "10.0.0.1"
