"""How data set snapshots and row changes become bytes: the seam between the service and
its encoders.

The service only knows the `Codec` protocol: `JsonCodec` (compact JSON, one SSE data
line per document) and `XmlCodec` (the published schema). Snapshots come out in chunks
so a large data set is never one string.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from engine.xsm.datasets import DataSet, Row, RowChanges
from engine.xsm.encode import (
    XML_DECLARATION,
    encode_changes_xml,
    encode_xrd_list_xml,
    iter_snapshot_xml,
)

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
            "sampled": ds.sampled,
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


class XmlCodec:
    """XML documents of the published schema (`engine/xsm/xsm.xsd`, encoded by
    `engine.xsm.encode`): `<xrd name version>` snapshots with `<row key>` rows,
    `<xrd-changes event>` change sets and `<xrd-list>`."""

    name = "xml"
    media_type = "application/xml"
    prologue = XML_DECLARATION

    def snapshot(self, xrd: str, rows: Mapping[str, Row], event_id: int) -> Iterator[bytes]:
        first = True
        for chunk in iter_snapshot_xml(xrd, rows, event_id, chunk_rows=CHUNK_ROWS):
            if first:
                chunk = chunk.removeprefix(XML_DECLARATION)
                first = False
            yield chunk

    def change(self, changes: RowChanges, event_id: int) -> bytes:
        return encode_changes_xml([changes], event_id).removeprefix(XML_DECLARATION)

    def xrd_list(self, sets: Sequence[DataSet]) -> bytes:
        return encode_xrd_list_xml(sets).removeprefix(XML_DECLARATION)


def default_codecs() -> dict[str, Codec]:
    return {"json": JsonCodec(), "xml": XmlCodec()}
