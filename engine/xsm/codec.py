"""How data set snapshots and row changes become bytes: the seam between the service and
its encoders.

The service only knows the `Codec` protocol; `JsonCodec` and `XmlCodec` here are plain,
compact encodings, to be replaced by the schema-bound encoders without touching the
service. Snapshots come out in chunks so a large data set is never one string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

from engine.xsm.datasets import DataSet, Row, RowChanges

#: rows per snapshot chunk: big enough to amortise a write, small enough to interleave
CHUNK_ROWS = 200


class Codec(Protocol):
    #: "json" or "xml": how clients ask for it (`?format=`)
    name: str
    #: the Content-Type of a document in this encoding
    media_type: str
    #: what starts a whole document (an XML declaration), b"" for none
    prologue: bytes

    def snapshot(self, xrd: str, rows: Mapping[str, Row], event_id: int) -> Iterator[bytes]:
        """A whole data set, in chunks whose concatenation is one document."""
        ...

    def change(self, changes: RowChanges, event_id: int) -> bytes:
        """One data set's row changes as one document."""
        ...

    def xrd_list(self, sets: Sequence[DataSet]) -> bytes: ...


def _chunks(rows: Mapping[str, Row], encode: Any) -> Iterator[list[str]]:
    batch: list[str] = []
    for key, row in rows.items():
        batch.append(encode(key, row))
        if len(batch) >= CHUNK_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _xrd_entries(sets: Sequence[DataSet]) -> list[dict[str, Any]]:
    return [
        {
            "name": ds.name,
            "adapter": ds.adapter,
            "level": ds.level,
            "description": ds.description,
            "sampled": ds.table is None,
        }
        for ds in sets
    ]


class JsonCodec:
    """Compact JSON: `{"type": "snapshot", "xrd", "id", "rows": {key: row}}` and
    `{"type": "change", "xrd", "id", "upserted": {key: row}, "removed": [key]}`.
    Compact JSON has no newline, so one document is one SSE data line."""

    name = "json"
    media_type = "application/json"
    prologue = b""

    @staticmethod
    def _dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)

    def snapshot(self, xrd: str, rows: Mapping[str, Row], event_id: int) -> Iterator[bytes]:
        head = f'{{"type":"snapshot","xrd":{self._dumps(xrd)},"id":{event_id},"rows":{{'
        first = True
        for batch in _chunks(rows, lambda k, r: f"{self._dumps(k)}:{self._dumps(r)}"):
            text = ",".join(batch)
            yield ((head if first else ",") + text).encode()
            first = False
        yield ((head if first else "") + "}}").encode()

    def change(self, changes: RowChanges, event_id: int) -> bytes:
        return self._dumps(
            {
                "type": "change",
                "xrd": changes.xrd,
                "id": event_id,
                "upserted": dict(changes.upserted),
                "removed": list(changes.removed),
            }
        ).encode()

    def xrd_list(self, sets: Sequence[DataSet]) -> bytes:
        return self._dumps({"xrds": _xrd_entries(sets)}).encode()


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _attr(value: object) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def _xml_fields(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield f"<f name={_attr(name)}{_xml_value(item)}</f>"
    else:
        for item in value:
            yield f"<item{_xml_value(item)}</item>"


def _xml_value(value: Any) -> str:
    """The rest of an element whose open tag's name is written: attributes, `>`, content."""
    if value is None:
        return ' nil="true">'
    if isinstance(value, bool):
        return ">" + ("true" if value else "false")
    if isinstance(value, Mapping | list | tuple):
        return ">" + "".join(_xml_fields(value))
    return ">" + _text(value)


class XmlCodec:
    """Plain XML: `<snapshot xrd id><row key><f name>value</f>...</row></snapshot>` and
    `<change xrd id><upsert key>...</upsert><remove key/></change>`."""

    name = "xml"
    media_type = "application/xml"
    prologue = b'<?xml version="1.0" encoding="UTF-8"?>\n'

    def snapshot(self, xrd: str, rows: Mapping[str, Row], event_id: int) -> Iterator[bytes]:
        yield f'<snapshot xrd={_attr(xrd)} id="{event_id}">'.encode()
        for batch in _chunks(rows, lambda k, r: f"<row key={_attr(k)}{_xml_value(r)}</row>"):
            yield "".join(batch).encode()
        yield b"</snapshot>"

    def change(self, changes: RowChanges, event_id: int) -> bytes:
        parts = [f'<change xrd={_attr(changes.xrd)} id="{event_id}">']
        parts.extend(
            f"<upsert key={_attr(k)}{_xml_value(r)}</upsert>" for k, r in changes.upserted.items()
        )
        parts.extend(f"<remove key={_attr(k)}/>" for k in changes.removed)
        parts.append("</change>")
        return "".join(parts).encode()

    def xrd_list(self, sets: Sequence[DataSet]) -> bytes:
        parts = ["<xrd-list>"]
        for entry in _xrd_entries(sets):
            attrs = " ".join(
                f"{k}={_attr(str(v).lower() if isinstance(v, bool) else v)}"
                for k, v in entry.items()
            )
            parts.append(f"<xrd {attrs}/>")
        parts.append("</xrd-list>")
        return "".join(parts).encode()


def default_codecs() -> dict[str, Codec]:
    return {"json": JsonCodec(), "xml": XmlCodec()}
