"""JSON and XML documents of the data sets: round trips, the schema, streaming, hostile
keys and values, secrets."""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from engine.events import Counters, IkeAlgorithms, IkeSaUp
from engine.secret import MASK, Secret
from engine.sessions import SessionModel
from engine.store import Store
from engine.xsm.datasets import Row, RowChanges, builtin_datasets
from engine.xsm.encode import (
    encode_changes_json,
    encode_changes_xml,
    encode_snapshot_json,
    encode_snapshot_xml,
    encode_xrd_list_json,
    encode_xrd_list_xml,
    iter_snapshot_json,
    iter_snapshot_xml,
    parse_changes_xml,
    parse_snapshot_xml,
    schema_text,
)
from engine.xsm.samplers import InterfaceSampler, SystemSampler

HOSTILE_KEYS = [
    "",
    "<row>",
    'a"b&c',
    "1starts-with-digit",
    "xmlns",
    "field",
    "has space",
    "ünïcødé",
    "ctl\x00\x01\x1f\x7f",
    "back\\slash\x02",
    "lone\ud800surrogate",
    "\U0001f512",
]
HOSTILE_VALUES = [
    "<script>alert(1)</script>",
    "]]>",
    "&amp; not an entity",
    "tab\tnewline\ncr\r",
    "nul\x00bell\x07esc\x1b",
    "\\u0041 is not an escape here",
    "\\u0041 but this one is escaped\x01",
    "\ufffe\uffff",
    "日本語",
    "",
]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(schema_text())


def session_rows() -> dict[str, Row]:
    """Real rows: sessions the session model made from engine events."""
    store = Store()
    model = SessionModel(store, clock=lambda: 1_700_000_000.0)
    algorithms = IkeAlgorithms("aes-gcm-256", "sha256", "none", 31)
    for n in range(1, 4):
        model.handle(
            IkeSaUp(
                n, f"peer{n}", ("192.0.2.1", 500), (f"198.51.100.{n}", 500), b"\x01" * 8,
                b"\x02" * 8, True, "gw", f"peer{n}", algorithms, False, False, 3600.0, 0.0,
            )
        )  # fmt: skip
    model.update_counters({1: Counters(1, 2, 3, 4)}, 1.0)

    class Source:
        pass

    source = Source()
    source.store = store  # type: ignore[attr-defined]
    return builtin_datasets(
        system=SystemSampler(lambda p: "", clock_ticks=100), interfaces=InterfaceSampler(list)
    )["crypto-sessions"].snapshot(source)  # type: ignore[arg-type]


def hostile_rows() -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for i, key in enumerate(HOSTILE_KEYS):
        rows[key] = {
            "value": HOSTILE_VALUES[i % len(HOSTILE_VALUES)],
            key: HOSTILE_VALUES[(i + 1) % len(HOSTILE_VALUES)],
            "nested": {key: [HOSTILE_VALUES[(i + 2) % len(HOSTILE_VALUES)], None, {}, []]},
            "numbers": [0, -1, 2**70, 1.5, True, False],
        }
    return rows


def test_json_snapshot_round_trips_real_rows() -> None:
    rows = session_rows()
    assert len(rows) == 3
    document = json.loads(encode_snapshot_json("crypto-sessions", rows, 9))
    assert document == {"xrd": "crypto-sessions", "version": 9, "rows": rows}


def test_xml_snapshot_is_valid_and_reads_back_to_the_same_rows(
    schema: xmlschema.XMLSchema,
) -> None:
    rows = session_rows()
    document = encode_snapshot_xml("crypto-sessions", rows, 9)
    schema.validate(document.decode())
    assert parse_snapshot_xml(document) == ("crypto-sessions", 9, rows)
    root = ET.fromstring(document)
    first = root.find("row")
    assert first is not None and first.findtext("status") == "UP-IDLE"
    assert first.find("ike_sa_ids/item") is not None


def test_hostile_keys_and_values_make_valid_documents(schema: xmlschema.XMLSchema) -> None:
    rows = hostile_rows()
    xml_doc = encode_snapshot_xml("syslog", rows, 1)
    schema.validate(xml_doc.decode("utf-8"))
    assert parse_snapshot_xml(xml_doc)[2] == rows
    # JSON: ASCII only, so even a lone surrogate travels (as an escape)
    json_doc = encode_snapshot_json("syslog", rows, 1)
    assert json_doc.isascii()
    assert json.loads(json_doc)["rows"] == rows
    gone = tuple(HOSTILE_KEYS[:3])  # a key is upserted or removed, never both
    kept = {key: row for key, row in rows.items() if key not in gone}
    changed = encode_changes_xml([RowChanges("syslog", kept, gone)], 4)
    schema.validate(changed.decode())
    event, (back,) = parse_changes_xml(changed)
    assert event == 4 and dict(back.upserted) == kept and back.removed == gone


def test_streamed_snapshots_concatenate_to_the_document() -> None:
    rows = {f"s{n}": {"status": "UP-ACTIVE", "bytes_in": n, "ids": [n]} for n in range(1000)}
    for iterate, encode in (
        (iter_snapshot_json, encode_snapshot_json),
        (iter_snapshot_xml, encode_snapshot_xml),
    ):
        chunks = list(iterate("crypto-sessions", rows, 3, chunk_rows=100))
        assert len(chunks) >= 10 and all(isinstance(c, bytes) and c for c in chunks)
        assert b"".join(chunks) == encode("crypto-sessions", rows, 3)
    assert parse_snapshot_xml(b"".join(iter_snapshot_xml("x", rows, 3, 7)))[2] == rows
    empty = b"".join(iter_snapshot_xml("crypto-sessions", {}, 0))
    assert parse_snapshot_xml(empty) == ("crypto-sessions", 0, {})
    assert json.loads(b"".join(iter_snapshot_json("crypto-sessions", {}, 0)))["rows"] == {}


def test_secrets_never_appear() -> None:
    rows = {"r": {"key": Secret("hunter2"), "nested": {"psk": [Secret(b"hunter2")]}}}
    for document in (
        encode_snapshot_json("running-config", rows, 1),
        encode_snapshot_xml("running-config", rows, 1),
        encode_changes_json([RowChanges("running-config", rows, ())], 1),
        encode_changes_xml([RowChanges("running-config", rows, ())], 1),
    ):
        assert b"hunter2" not in document and MASK.encode() in document


def test_values_json_cannot_hold_become_null() -> None:
    rows = {"r": {"nan": float("nan"), "inf": float("inf"), "t": (1, 2), "b": b"\x01\xff"}}
    assert json.loads(encode_snapshot_json("system", rows, 1))["rows"]["r"] == {
        "nan": None,
        "inf": None,
        "t": [1, 2],
        "b": "01ff",
    }
    assert parse_snapshot_xml(encode_snapshot_xml("system", rows, 1))[2]["r"]["nan"] is None


def test_change_documents(schema: xmlschema.XMLSchema) -> None:
    changes = [
        RowChanges("crypto-sessions", {"a": {"status": "UP-ACTIVE"}}, ("b",)),
        RowChanges("syslog", {"7": {"seq": 7, "text": "line"}}, ()),
    ]
    assert json.loads(encode_changes_json(changes, 12)) == {
        "event": 12,
        "changes": [
            {
                "xrd": "crypto-sessions",
                "upserted": {"a": {"status": "UP-ACTIVE"}},
                "removed": ["b"],
            },
            {"xrd": "syslog", "upserted": {"7": {"seq": 7, "text": "line"}}, "removed": []},
        ],
    }
    document = encode_changes_xml(changes, 12)
    schema.validate(document.decode())
    assert parse_changes_xml(document) == (12, changes)


def test_xrd_list(schema: xmlschema.XMLSchema) -> None:
    datasets = builtin_datasets()
    listed = json.loads(encode_xrd_list_json(datasets.values()))["xrds"]
    assert [x["name"] for x in listed] == list(datasets)
    system = next(x for x in listed if x["name"] == "system")
    assert system["sampled"] is True and system["sample_interval"] > 0 and system["tables"] == []
    sessions = next(x for x in listed if x["name"] == "crypto-sessions")
    assert sessions["sampled"] is False and sessions["tables"] == ["sessions"]
    document = encode_xrd_list_xml(datasets.values())
    schema.validate(document.decode())
    infos = ET.fromstring(document).findall("xrd-info")
    assert [i.get("name") for i in infos] == list(datasets)
    accounting = next(i for i in infos if i.get("name") == "accounting")
    assert [t.text for t in accounting.findall("table")] == ["accounting", "servers"]


@pytest.mark.parametrize(
    "document",
    [
        '<xrd name="crypto-sessions"><row key="a"/></xrd>',  # no version
        '<xrd name="crypto-sessions" version="1"><row/></xrd>',  # a row without a key
        '<xrd name="crypto-sessions" version="1"><row key="a"/><row key="a"/></xrd>',
        '<xrd name="Bad Name" version="1"/>',
        '<xrd name="x" version="-1"/>',
        '<xrd name="x" version="1"><other key="a"/></xrd>',
        '<xrd name="x" version="1"><row key="a" escaped="everything"/></xrd>',
        '<xrd-changes><xrd name="x"/></xrd-changes>',  # no event
        '<xrd-changes event="1"><xrd name="x"><removed key="a"/><row key="b"/></xrd></xrd-changes>',
        '<xrd-list><xrd-info name="x" adapter="other" level="monitor" sampled="false">'
        "<description/></xrd-info></xrd-list>",
    ],
)
def test_the_schema_is_strict_about_the_envelope(
    schema: xmlschema.XMLSchema, document: str
) -> None:
    assert not schema.is_valid(document)


def test_the_schema_ships_with_the_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert "xsm.xsd" in pyproject["tool"]["setuptools"]["package-data"]["engine.xsm"]
    assert schema_text().startswith("<?xml")
