"""What each accounting record carries, attribute by attribute, and which session
transitions make one."""

from __future__ import annotations

import pytest
from acct_support import T0, session_record

from engine.accounting import records
from engine.accounting.dictionary import CISCO_VENDOR_ID, load_dictionary
from engine.accounting.records import AcctContext, Options
from engine.accounting.transport import encode_request
from engine.events import Counters, DownReason
from engine.records import SessionStatus
from engine.secret import Secret

CTX = AcctContext("0000002A", T0, group_id="PROF")
VSA = Options(vsa=True)
S = SessionStatus


def values_of(name: str) -> dict[str, int]:
    values = load_dictionary().attributes[name].values.forward
    return {key: v if isinstance(v, int) else int.from_bytes(v) for key, v in values.items()}


def test_dictionary_codes_and_values() -> None:
    d = load_dictionary()
    codes = {
        "User-Name": 1,
        "NAS-IP-Address": 4,
        "NAS-Port": 5,
        "Framed-IP-Address": 8,
        "Class": 25,
        "Called-Station-Id": 30,
        "Calling-Station-Id": 31,
        "NAS-Identifier": 32,
        "Acct-Status-Type": 40,
        "Acct-Delay-Time": 41,
        "Acct-Input-Octets": 42,
        "Acct-Output-Octets": 43,
        "Acct-Session-Id": 44,
        "Acct-Authentic": 45,
        "Acct-Session-Time": 46,
        "Acct-Input-Packets": 47,
        "Acct-Output-Packets": 48,
        "Acct-Terminate-Cause": 49,
        "Acct-Multi-Session-Id": 50,
        "Acct-Input-Gigawords": 52,
        "Acct-Output-Gigawords": 53,
        "Event-Timestamp": 55,
        "NAS-Port-Type": 61,
    }
    for name, code in codes.items():
        assert d.attributes[name].code == code, name
        assert not d.attributes[name].vendor, name
    for name, code in {"Cisco-AVPair": 1, "Cisco-NAS-Port": 2}.items():
        assert d.attributes[name].code == code
        assert d.vendors.GetForward(d.attributes[name].vendor) == CISCO_VENDOR_ID
    status = values_of("Acct-Status-Type")
    assert status == {
        "Start": 1,
        "Stop": 2,
        "Interim-Update": 3,
        "Accounting-On": 7,
        "Accounting-Off": 8,
    }
    cause = values_of("Acct-Terminate-Cause")
    expected = {
        "User-Request": 1,
        "Lost-Carrier": 2,
        "Idle-Timeout": 4,
        "Session-Timeout": 5,
        "Admin-Reset": 6,
        "NAS-Error": 9,
        "NAS-Request": 10,
        "NAS-Reboot": 11,
    }
    for name, value in expected.items():
        assert cause[name] == value


def test_start_record_attributes() -> None:
    attrs = records.start_attributes(session_record(), CTX, T0 + 0.7, VSA)
    assert attrs == (
        ("Acct-Session-Id", "0000002A"),
        ("Cisco-AVPair", "isakmp-group-id=PROF"),
        ("Cisco-AVPair", "vrf-id=CORP"),
        ("Cisco-AVPair", "isakmp-initator-ip=10.0.0.2"),
        ("Cisco-AVPair", "isakmp-phase1-id=10.0.0.2"),
        ("Cisco-AVPair", "connect-progress=No Progress"),
        ("Acct-Status-Type", "Start"),
        ("Cisco-NAS-Port", "GigabitEthernet1"),
        ("NAS-Port", 0),
        ("NAS-IP-Address", "10.0.0.1"),
        ("Event-Timestamp", int(T0)),
    )
    # No usage, no Framed-IP-Address (no pool address is assigned), no User-Name
    # without XAUTH/EAP, no Acct-Delay-Time (the transport adds it per transmission).
    names = {name for name, _ in attrs}
    assert not names & {"Acct-Input-Octets", "Framed-IP-Address", "User-Name", "Acct-Delay-Time"}


def test_start_sends_user_name_only_when_there_is_one() -> None:
    attrs = records.start_attributes(session_record(username="joe@cclient"), CTX, T0, VSA)
    assert records.attribute(attrs, "User-Name") == ["joe@cclient"]


def test_optional_vsas_follow_the_session() -> None:
    record = session_record(ivrf="", phase1_id="")
    attrs = records.start_attributes(record, AcctContext("00000001", T0), T0, VSA)
    assert records.avpairs(attrs) == {
        "isakmp-initator-ip": "10.0.0.2",
        "connect-progress": "No Progress",
    }


def test_without_vsa_send_accounting_no_cisco_attributes() -> None:
    attrs = records.stop_attributes(
        session_record(), CTX, T0 + 5, DownReason.CLEARED, Options(vsa=False)
    )
    names = [name for name, _ in attrs]
    assert "Cisco-AVPair" not in names and "Cisco-NAS-Port" not in names
    assert records.attribute(attrs, "Acct-Terminate-Cause") == ["Admin-Reset"]


def test_interim_record_carries_usage() -> None:
    totals = Counters(bytes_in=152608, packets_in=1004, bytes_out=70000, packets_out=500)
    attrs = records.interim_attributes(session_record(totals=totals), CTX, T0 + 109.9, VSA)
    values = dict(attrs)
    assert values["Acct-Status-Type"] == "Interim-Update"
    assert values["Acct-Session-Id"] == "0000002A"
    assert values["Acct-Session-Time"] == 109
    assert values["Acct-Input-Octets"] == 152608
    assert values["Acct-Output-Octets"] == 70000
    assert values["Acct-Input-Packets"] == 1004
    assert values["Acct-Output-Packets"] == 500
    assert values["Acct-Input-Gigawords"] == 0
    assert values["Acct-Output-Gigawords"] == 0
    assert values["Event-Timestamp"] == int(T0 + 109.9)
    assert "Acct-Terminate-Cause" not in values
    assert records.avpairs(attrs)["vrf-id"] == "CORP"


def test_stop_record_attributes() -> None:
    totals = Counters(bytes_in=1000, packets_in=10, bytes_out=2000, packets_out=20)
    attrs = records.stop_attributes(
        session_record(S.DOWN, totals), CTX, T0 + 709, DownReason.DPD_TIMEOUT, VSA
    )
    assert attrs == (
        ("Acct-Session-Id", "0000002A"),
        ("Cisco-AVPair", "isakmp-group-id=PROF"),
        ("Cisco-AVPair", "vrf-id=CORP"),
        ("Cisco-AVPair", "isakmp-initator-ip=10.0.0.2"),
        ("Cisco-AVPair", "isakmp-phase1-id=10.0.0.2"),
        ("Cisco-AVPair", "connect-progress=No Progress"),
        ("Acct-Status-Type", "Stop"),
        ("Acct-Session-Time", 709),
        ("Acct-Input-Octets", 1000),
        ("Acct-Output-Octets", 2000),
        ("Acct-Input-Packets", 10),
        ("Acct-Output-Packets", 20),
        ("Acct-Input-Gigawords", 0),
        ("Acct-Output-Gigawords", 0),
        ("Acct-Terminate-Cause", "Lost-Carrier"),
        ("Cisco-AVPair", "disc-cause-ext=Lost Carrier"),
        ("Cisco-NAS-Port", "GigabitEthernet1"),
        ("NAS-Port", 0),
        ("NAS-IP-Address", "10.0.0.1"),
        ("Event-Timestamp", int(T0 + 709)),
    )


@pytest.mark.parametrize(
    ("octets", "low", "giga"),
    [
        (0, 0, 0),
        (2**32 - 1, 2**32 - 1, 0),
        (2**32, 0, 1),
        (2**32 + 5, 5, 1),
        (5 * 2**32 + 123456, 123456, 5),
    ],
)
def test_gigawords_carry_the_wraps_of_2_32(octets: int, low: int, giga: int) -> None:
    totals = Counters(bytes_in=octets, bytes_out=octets + 2**32)
    values = dict(records.interim_attributes(session_record(totals=totals), CTX, T0, VSA))
    assert (values["Acct-Input-Octets"], values["Acct-Input-Gigawords"]) == (low, giga)
    assert (values["Acct-Output-Octets"], values["Acct-Output-Gigawords"]) == (low, giga + 1)
    assert values["Acct-Input-Gigawords"] * 2**32 + values["Acct-Input-Octets"] == octets


def test_usage_is_counted_from_the_accounting_start() -> None:
    baseline = Counters(bytes_in=500, packets_in=5, bytes_out=700, packets_out=7)
    ctx = AcctContext("00000003", T0, baseline)
    totals = Counters(bytes_in=1500, packets_in=15, bytes_out=700, packets_out=7)
    values = dict(records.interim_attributes(session_record(totals=totals), ctx, T0 + 60, VSA))
    assert values["Acct-Input-Octets"] == 1000
    assert values["Acct-Input-Packets"] == 10
    assert values["Acct-Output-Octets"] == 0


@pytest.mark.parametrize(
    ("reason", "cause", "disc"),
    [
        (DownReason.CLEARED, "Admin-Reset", "Local Admin Disconnect"),
        (DownReason.CONFIG_REMOVED, "Admin-Reset", "Local Admin Disconnect"),
        (DownReason.DPD_TIMEOUT, "Lost-Carrier", "Lost Carrier"),
        (DownReason.RETRANSMIT_GIVE_UP, "Lost-Carrier", "Lost Carrier"),
        (DownReason.PEER_DELETE, "User-Request", "Remote Hangup"),
        (DownReason.LOCAL_DELETE, "NAS-Request", "Local Hangup"),
        (DownReason.LIFETIME_EXPIRED, "Session-Timeout", "Session Timeout"),
        (DownReason.SHUTDOWN, "NAS-Reboot", "Local Hangup"),
        (DownReason.AUTHENTICATION_FAILED, "User-Error", "Session Failed Security"),
        (DownReason.NEGOTIATION_FAILED, "NAS-Error", "Unknown"),
        (None, "NAS-Request", "No Reason"),
    ],
)
def test_terminate_cause_mapping(reason: DownReason | None, cause: str, disc: str) -> None:
    attrs = records.stop_attributes(session_record(S.DOWN), CTX, T0 + 1, reason, VSA)
    assert records.attribute(attrs, "Acct-Terminate-Cause") == [cause]
    assert records.avpairs(attrs)["disc-cause-ext"] == disc


def test_every_down_reason_has_a_cause_that_encodes() -> None:
    d = load_dictionary()
    for reason in [*DownReason, None]:
        attrs = records.stop_attributes(session_record(S.DOWN), CTX, T0, reason, VSA)
        encode_request(d, attrs, 0, 1, Secret(b"k"))


def test_down_reason_falls_back_to_the_record() -> None:
    record = session_record(S.DOWN, down_reason=DownReason.DPD_TIMEOUT.value)
    assert records.down_reason(None, record) is DownReason.DPD_TIMEOUT
    assert records.down_reason(DownReason.CLEARED, record) is DownReason.CLEARED
    assert records.down_reason(None, session_record(S.DOWN, down_reason="bogus")) is None


def test_long_values_are_cut_to_fit_a_vsa() -> None:
    record = session_record(phase1_id="cn=" + "x" * 400)
    attrs = records.start_attributes(record, CTX, T0, VSA)
    phase1 = next(v for v in records.attribute(attrs, "Cisco-AVPair") if "phase1" in str(v))
    assert len(str(phase1).encode()) == records.MAX_AVPAIR
    encode_request(load_dictionary(), attrs, 0, 1, Secret(b"k"))


def test_ipv6_local_address_is_nas_ipv6_address() -> None:
    attrs = records.start_attributes(session_record(local_ip="2001:db8::1"), CTX, T0, VSA)
    assert records.attribute(attrs, "NAS-IPv6-Address") == ["2001:db8::1"]
    assert records.attribute(attrs, "NAS-IP-Address") == []


def test_accounting_on_and_off() -> None:
    options = Options(nas_ip="192.0.2.1", nas_identifier="gw")
    on = records.nas_attributes(records.StatusType.ACCOUNTING_ON, "00000001", T0, options)
    assert dict(on) == {
        "Acct-Session-Id": "00000001",
        "Acct-Status-Type": "Accounting-On",
        "NAS-Identifier": "gw",
        "NAS-IP-Address": "192.0.2.1",
        "Event-Timestamp": int(T0),
    }
    off = records.nas_attributes(records.StatusType.ACCOUNTING_OFF, "00000002", T0, Options())
    assert dict(off)["Acct-Status-Type"] == "Accounting-Off"


def test_session_id_is_eight_hex_digits() -> None:
    assert records.format_session_id(1) == "00000001"
    assert records.format_session_id(0xABCDEF) == "00ABCDEF"
    assert records.format_session_id(2**32 + 2) == "00000002"


@pytest.mark.parametrize(
    ("old", "new", "opens", "closes"),
    [
        (None, S.UP_ACTIVE, True, False),
        (S.DOWN, S.UP_ACTIVE, True, False),
        (S.DOWN_NEGOTIATING, S.UP_ACTIVE, True, False),
        (S.UP_IDLE, S.UP_ACTIVE, True, False),  # IKE first, then the first SA pair
        (S.DOWN, S.UP_IDLE, False, False),  # IKE up without SAs: not yet
        (S.UP_ACTIVE, S.UP_ACTIVE, False, False),  # a rekey
        (S.UP_ACTIVE, S.UP_NO_IKE, False, False),  # IKE gone, flows live on
        (S.UP_NO_IKE, S.UP_ACTIVE, False, False),
        (S.UP_ACTIVE, S.UP_IDLE, False, True),  # last flow gone
        (S.UP_ACTIVE, S.DOWN, False, True),
        (S.UP_NO_IKE, S.DOWN, False, True),
        (S.UP_IDLE, S.DOWN, False, False),
    ],
)
def test_which_transitions_open_and_close(
    old: SessionStatus | None, new: SessionStatus, opens: bool, closes: bool
) -> None:
    assert records.opens(old, new) is opens
    assert records.closes(old, new) is closes


def test_a_left_open_stop_is_the_stop_of_its_last_record() -> None:
    """What the next run sends for a session a killed run left open: the Stop that run
    would have made at its last Interim-Update, as a crash (NAS-Reboot, cause unknown)."""
    record = session_record(
        totals=Counters(bytes_in=5 * 2**32 + 7, packets_in=9, bytes_out=11, packets_out=3),
        username="joe@corp",
    )
    at = T0 + 125
    interim = records.interim_attributes(record, CTX, at, VSA)
    made = records.left_open_stop(interim)
    real = records.stop_attributes(record, CTX, at, DownReason.SHUTDOWN, VSA)
    assert dict(made)["Acct-Terminate-Cause"] == "NAS-Reboot" == dict(real)["Acct-Terminate-Cause"]
    assert made == tuple(
        ("Cisco-AVPair", "disc-cause-ext=Unknown") if v == "disc-cause-ext=Local Hangup" else (k, v)
        for k, v in real
    )
    # from a Start: no usage yet, at the Start's time; without VSAs, no disc-cause-ext
    plain = Options(vsa=False)
    start = records.start_attributes(record, CTX, T0, plain)
    made = dict(records.left_open_stop(start))
    assert made["Acct-Status-Type"] == "Stop" and made["Event-Timestamp"] == int(T0)
    assert made["Acct-Session-Time"] == made["Acct-Input-Octets"] == 0
    assert "Cisco-AVPair" not in made
    encode_request(load_dictionary(), records.left_open_stop(start), 0, 1, Secret("k"))


def test_a_session_template_is_reused_until_its_fields_change() -> None:
    """Start, Interim-Update and Stop of one session share its who and where, made once;
    a new username (newinfo) makes a new template, and the records carry it."""
    record = session_record(S.UP_ACTIVE, totals=Counters(bytes_in=5))
    parts = records.template(record, CTX, VSA)
    assert records.template(record, CTX, VSA, parts) is parts
    for made, fresh in (
        (
            records.start_attributes(record, CTX, T0, VSA, parts),
            records.start_attributes(record, CTX, T0, VSA),
        ),
        (
            records.stop_attributes(record, CTX, T0 + 9, DownReason.CLEARED, VSA, parts),
            records.stop_attributes(record, CTX, T0 + 9, DownReason.CLEARED, VSA),
        ),
    ):
        assert made == fresh
        assert set(parts.identity) <= set(made) and set(parts.where) <= set(made)
    renamed = session_record(S.UP_ACTIVE, username="carol@example.net")
    again = records.template(renamed, CTX, VSA, parts)
    assert again is not parts
    interim = records.interim_attributes(renamed, CTX, T0 + 5, VSA, again)
    assert records.attribute(interim, "User-Name") == ["carol@example.net"]
    assert records.template(record, CTX, Options(vsa=False), parts) is not parts


def test_usage_is_never_negative() -> None:
    used = records.usage(Counters(10, 1, 20, 2), Counters(15, 0, 5, 3))
    assert (used.bytes_in, used.packets_in, used.bytes_out, used.packets_out) == (0, 1, 15, 0)
