"""The accountant's own attribute encoder gives pyrad's bytes, and leaves to pyrad
whatever it does not handle."""

from __future__ import annotations

from acct_support import T0, session_record
from pyrad.packet import AcctPacket

from engine.accounting import records
from engine.accounting.dictionary import StatusType, load_dictionary
from engine.accounting.encoding import encode_attributes
from engine.accounting.packets import encode_body
from engine.accounting.records import AcctContext, Options
from engine.events import Counters, DownReason
from engine.records import SessionStatus


def pyrad_bytes(attributes: records.Attributes) -> bytes:
    packet = AcctPacket(id=0, secret=b"-", dict=load_dictionary())
    for name, value in attributes:
        packet.AddAttribute(name, value)
    return bytes(packet.RequestPacket()[20:])


def every_kind() -> list[records.Attributes]:
    big = Counters(bytes_in=5 << 32 | 7, packets_in=3, bytes_out=9, packets_out=1 << 33)
    made = []
    for options in (
        Options(),
        Options(vsa=False, nas_ip="192.0.2.1", nas_identifier="gw"),
        Options(nas_ip="2001:db8::1"),
    ):
        for changes in (
            {},
            {"username": "alice@example.net", "assigned_address": "172.16.0.9"},
            {"local_ip": "2001:db8::2", "username": "bé"},
        ):
            record = session_record(SessionStatus.UP_ACTIVE, big, **changes)
            ctx = AcctContext("0000002a", T0, group_id="PROF")
            made += [
                records.start_attributes(record, ctx, T0, options),
                records.interim_attributes(record, ctx, T0 + 60, options),
                records.stop_attributes(record, ctx, T0 + 99, DownReason.CLEARED, options),
            ]
        for status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
            made.append(records.nas_attributes(status, "00000001", T0, options))
    return made


def test_the_records_encode_as_pyrad_encodes_them() -> None:
    dictionary = load_dictionary()
    for attributes in every_kind():
        fast = encode_attributes(dictionary, attributes)
        assert fast is not None, attributes
        assert fast == pyrad_bytes(attributes), attributes


def test_what_it_does_not_handle_goes_to_pyrad() -> None:
    dictionary = load_dictionary()
    for odd in (
        (("No-Such-Attribute", 1),),
        (("User-Name", "x" * 254),),  # too long: pyrad says so
        (("Acct-Session-Time", "12"),),  # an integer given as text
        (("Acct-Session-Time", 1 << 32),),
    ):
        assert encode_attributes(dictionary, odd) is None
    # an integer as its number gives what its name gives
    by_name = encode_attributes(dictionary, (("Acct-Status-Type", "Stop"),))
    assert by_name == encode_attributes(dictionary, (("Acct-Status-Type", 2),))
    assert by_name == encode_body(dictionary, (("Acct-Status-Type", "Stop"),))
