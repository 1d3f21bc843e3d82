"""Data set documents as JSON and XML: snapshots, change sets and the list of data sets.

JSON (UTF-8, ASCII-escaped, compact)::

    {"xrd":"crypto-sessions","version":7,"rows":{"KEY":{...},...}}
    {"event":42,"changes":[{"xrd":"NAME","upserted":{"KEY":{...}},"removed":["KEY"]}]}
    {"xrds":[{"name":...,"adapter":"vdm","level":"monitor","description":...,
              "sampled":false,"sample_interval":null,"tables":[...]}]}

XML (the schema is xsm.xsd next to this module)::

    <xrd name="crypto-sessions" version="7"><row key="KEY"><status>UP-ACTIVE</status>
      <ike_sa_ids type="list"><item type="int">1</item></ike_sa_ids>...</row></xrd>
    <xrd-changes event="42"><xrd name="NAME"><row key="KEY">...</row>
      <removed key="KEY"/></xrd></xrd-changes>
    <xrd-list><xrd-info name=... adapter=... level=... sampled=...>
      <description>...</description><table>sessions</table></xrd-info></xrd-list>

A value is an element named after its field; strings carry no type, other values say
`type="int|float|bool|null|list|map"`; a list holds `<item>`s, a map holds its fields.
A field name that is not a safe XML name becomes `<field name="...">`. Text that XML 1.0
cannot carry (control characters, lone surrogates) is written with those characters as
`\\uXXXX` (a carriage return too, which XML would read as a newline) and
backslashes doubled, and its element lists what was so escaped in
`escaped="text name key"`. ``parse_snapshot_xml`` and ``parse_changes_xml`` read it all
back to the same rows. Secrets (``Secret``) are written as the mask, never in clear.

The ``iter_*`` variants yield the document in chunks (a few hundred rows each), so a
snapshot of 10k sessions streams without one huge string; the ``encode_*`` functions
are their concatenation.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import quoteattr

from engine.secret import MASK, Secret
from engine.xsm.datasets import DataSet, Row, RowChanges

#: rows per chunk of a streamed snapshot
CHUNK_ROWS = 256
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
JSON_CONTENT_TYPE = "application/json"
XML_CONTENT_TYPE = "application/xml"


def schema_text() -> str:
    """The XML schema (XSD 1.0) the XML documents follow."""
    return resources.files("engine.xsm").joinpath("xsm.xsd").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- plain values
def plain(value: Any) -> Any:
    """A value as JSON has it: secrets masked, enums by value, tuples as lists, bytes
    as hex, map keys as strings, NaN and infinities as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# ---------------------------------------------------------------------- JSON
def _json(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=True, separators=(",", ":"))


def iter_snapshot_json(
    name: str, rows: Mapping[str, Row], version: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[bytes]:
    parts = [f'{{"xrd":{_json(name)},"version":{int(version)},"rows":{{']
    for count, (key, row) in enumerate(rows.items()):
        parts.append(f"{',' if count else ''}{_json(str(key))}:{_json(row)}")
        if len(parts) >= chunk_rows:
            yield "".join(parts).encode("ascii")
            parts = []
    parts.append("}}")
    yield "".join(parts).encode("ascii")


def encode_snapshot_json(name: str, rows: Mapping[str, Row], version: int) -> bytes:
    return b"".join(iter_snapshot_json(name, rows, version))


def _changes_json(changes: RowChanges) -> dict[str, Any]:
    return {
        "xrd": changes.xrd,
        "upserted": {str(k): v for k, v in changes.upserted.items()},
        "removed": list(changes.removed),
    }


def encode_changes_json(changes: Iterable[RowChanges], event_id: int) -> bytes:
    document = {"event": int(event_id), "changes": [_changes_json(c) for c in changes]}
    return _json(document).encode("ascii")


def xrd_info(dataset: DataSet) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "adapter": dataset.adapter,
        "level": dataset.level,
        "description": dataset.description,
        "sampled": dataset.sampled,
        "sample_interval": dataset.sample_interval,
        "tables": list(dataset.tables),
    }


def encode_xrd_list_json(datasets: Iterable[DataSet]) -> bytes:
    return _json({"xrds": [xrd_info(d) for d in datasets]}).encode("ascii")


# ---------------------------------------------------------------------- XML text
# outside XML 1.0's Char production, and CR (a parser reads a bare CR in text as LF)
_ILLEGAL = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_ESCAPE = re.compile(r"\\(?:\\|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def _xml_safe(text: str) -> tuple[str, bool]:
    """Text XML can carry, and whether it had to be escaped to get there."""
    if not _ILLEGAL.search(text):
        return text, False

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return _ILLEGAL.sub(escape, text.replace("\\", "\\\\")), True


def unescape(text: str) -> str:
    """Undo ``_xml_safe`` on text marked escaped."""

    def back(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else "\\"

    return _ESCAPE.sub(back, text)


@lru_cache(maxsize=4096)
def xml_name(key: str) -> str | None:
    """The key itself when it is a safe element name, else None (use `<field name=>`)."""
    if _NAME.match(key) and not key.lower().startswith("xml") and key != "field":
        return key
    return None


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return quoteattr(text)


def _value_xml(name: str, value: Any, out: list[str]) -> None:
    """Append one field's element; written as text, not through ElementTree, since a
    10k-session snapshot is mostly this loop."""
    tag = xml_name(name)
    escaped = ""
    if tag is None:
        safe, was = _xml_safe(name)
        tag, head = "field", f"<field name={_attr(safe)}"
        escaped = "name" if was else ""
    else:
        head = f"<{tag}"
    if isinstance(value, str):
        text, was = _xml_safe(value)
        if was:
            escaped = f"{escaped} text".lstrip()
        flags = f' escaped="{escaped}"' if escaped else ""
        out.append(f"{head}{flags}>{_text(text)}</{tag}>" if text else f"{head}{flags} />")
        return
    flags = f' escaped="{escaped}"' if escaped else ""
    if value is None:
        out.append(f'{head} type="null"{flags} />')
    elif isinstance(value, bool):
        out.append(f'{head} type="bool"{flags}>{"true" if value else "false"}</{tag}>')
    elif isinstance(value, int):
        out.append(f'{head} type="int"{flags}>{value}</{tag}>')
    elif isinstance(value, float):
        out.append(f'{head} type="float"{flags}>{value!r}</{tag}>')
    elif isinstance(value, list | dict):
        kind = "list" if isinstance(value, list) else "map"
        if not value:
            out.append(f'{head} type="{kind}"{flags} />')
            return
        out.append(f'{head} type="{kind}"{flags}>')
        items = (("item", v) for v in value) if isinstance(value, list) else value.items()
        for key, item in items:
            _value_xml(key, item, out)
        out.append(f"</{tag}>")
    else:  # plain() leaves nothing else
        raise TypeError(f"not a plain value: {type(value).__name__}")


def row_xml(key: str, row: Row, tag: str = "row") -> str:
    """One `<row key="...">` with its fields (or a `<removed key="..."/>`)."""
    safe, was = _xml_safe(str(key))
    head = f"<{tag} key={_attr(safe)}" + (' escaped="key"' if was else "")
    fields = plain(row)
    if not fields:
        return f"{head} />"
    out = [f"{head}>"]
    for field, value in fields.items():
        _value_xml(field, value, out)
    out.append(f"</{tag}>")
    return "".join(out)


def _xml(element: ET.Element) -> bytes:
    return ET.tostring(element, encoding="utf-8", xml_declaration=False)


def _open_tag(tag: str, attributes: Mapping[str, str]) -> bytes:
    """`<tag a="...">` with escaped attributes, for documents streamed row by row."""
    text = "".join(f" {k}={quoteattr(_xml_safe(v)[0])}" for k, v in attributes.items())
    return f"<{tag}{text}>".encode()


# ---------------------------------------------------------------------- XML documents
def iter_snapshot_xml(
    name: str, rows: Mapping[str, Row], version: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[bytes]:
    chunk: list[bytes] = [
        XML_DECLARATION,
        _open_tag("xrd", {"name": name, "version": str(int(version))}),
    ]
    for key, row in rows.items():
        chunk.append(row_xml(str(key), row).encode("utf-8"))
        if len(chunk) >= chunk_rows:
            yield b"".join(chunk)
            chunk = []
    chunk.append(b"</xrd>")
    yield b"".join(chunk)


def encode_snapshot_xml(name: str, rows: Mapping[str, Row], version: int) -> bytes:
    return b"".join(iter_snapshot_xml(name, rows, version))


def encode_changes_xml(changes: Iterable[RowChanges], event_id: int) -> bytes:
    out = [f'<xrd-changes event="{int(event_id)}">']
    for change in changes:
        out.append(f"<xrd name={_attr(_xml_safe(change.xrd)[0])}>")
        out.extend(row_xml(str(key), row) for key, row in change.upserted.items())
        out.extend(row_xml(str(key), {}, "removed") for key in change.removed)
        out.append("</xrd>")
    out.append("</xrd-changes>")
    return XML_DECLARATION + "".join(out).encode("utf-8")


def encode_xrd_list_xml(datasets: Iterable[DataSet]) -> bytes:
    root = ET.Element("xrd-list")
    for dataset in datasets:
        info = ET.SubElement(
            root,
            "xrd-info",
            {
                "name": dataset.name,
                "adapter": dataset.adapter,
                "level": dataset.level,
                "sampled": "true" if dataset.sampled else "false",
            },
        )
        if dataset.sample_interval is not None:
            info.set("sample-interval", repr(float(dataset.sample_interval)))
        ET.SubElement(info, "description").text = _xml_safe(dataset.description)[0]
        for table in dataset.tables:
            ET.SubElement(info, "table").text = table
    return XML_DECLARATION + _xml(root)


# ---------------------------------------------------------------------- reading XML back
def _escaped(element: ET.Element) -> set[str]:
    return set((element.get("escaped") or "").split())


def value_of(element: ET.Element) -> Any:
    """The plain value an element holds (the inverse of the encoder)."""
    kind = element.get("type")
    text = element.text or ""
    if kind == "null":
        return None
    if kind == "bool":
        return text == "true"
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "list":
        return [value_of(child) for child in element]
    if kind == "map":
        return dict(field_of(child) for child in element)
    return unescape(text) if "text" in _escaped(element) else text


def field_of(element: ET.Element) -> tuple[str, Any]:
    name = element.tag
    if name == "field" and element.get("name") is not None:
        name = element.get("name", "")
        if "name" in _escaped(element):
            name = unescape(name)
    return name, value_of(element)


def _key_of(element: ET.Element) -> str:
    key = element.get("key", "")
    return unescape(key) if "key" in _escaped(element) else key


def row_of(element: ET.Element) -> tuple[str, Row]:
    return _key_of(element), dict(field_of(child) for child in element)


def parse_snapshot_xml(document: bytes) -> tuple[str, int, dict[str, Row]]:
    """(data set name, version, rows) from a snapshot document."""
    root = ET.fromstring(document)
    if root.tag != "xrd":
        raise ValueError(f"not a snapshot document: <{root.tag}>")
    rows = dict(row_of(child) for child in root if child.tag == "row")
    return root.get("name", ""), int(root.get("version", "0")), rows


def parse_changes_xml(document: bytes) -> tuple[int, list[RowChanges]]:
    """(event id, changes) from a change-set document."""
    root = ET.fromstring(document)
    if root.tag != "xrd-changes":
        raise ValueError(f"not a change-set document: <{root.tag}>")
    changes = []
    for xrd in root:
        upserted = dict(row_of(child) for child in xrd if child.tag == "row")
        removed = tuple(_key_of(child) for child in xrd if child.tag == "removed")
        changes.append(RowChanges(xrd.get("name", ""), upserted, removed))
    return int(root.get("event", "0")), changes
