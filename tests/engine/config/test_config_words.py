"""engine.config.words: IOS keyword abbreviations, addresses, masks and wildcards."""

from __future__ import annotations

import ipaddress
import re

import pytest

from engine.config.diagnostics import LineError
from engine.config.words import Words, match_keyword, network


@pytest.mark.parametrize(
    ("word", "options", "expected"),
    [
        ("encryption", ("encryption", "integrity"), "encryption"),
        ("encr", ("encryption", "integrity"), "encryption"),
        ("e", ("encryption", "integrity"), "encryption"),
        ("ENCR", ("encryption", "integrity"), "encryption"),
        ("EnCrYpTiOn", ("encryption", "integrity"), "encryption"),
        ("p", ("proposal", "policy", "profile"), None),  # ambiguous
        ("pro", ("proposal", "policy", "profile"), None),  # still ambiguous
        ("prop", ("proposal", "policy", "profile"), "proposal"),
        ("prof", ("proposal", "policy", "profile"), "profile"),
        ("sha", ("sha", "sha256", "sha384"), "sha"),  # an exact match beats prefixes
        ("sha", ("sha256", "sha384", "sha"), "sha"),
        ("encryptions", ("encryption",), None),  # longer than the keyword
        ("x", ("encryption",), None),
    ],
)
def test_match_keyword(word: str, options: tuple[str, ...], expected: str | None) -> None:
    assert match_keyword(word, options) == expected


def test_keyword_advances_and_reports_choices() -> None:
    words = Words("set transform-set TS1")
    assert words.keyword("set", "match") == "set"
    assert words.keyword("peer", "transform-set") == "transform-set"
    assert words.word("name") == "TS1"
    assert not words
    with pytest.raises(LineError, match=re.escape("missing peer | transform-set")):
        words.keyword("peer", "transform-set")


def test_keyword_names_the_bad_word() -> None:
    with pytest.raises(LineError, match="'bogus' is not one of: a1, b1"):
        Words("bogus").keyword("a1", "b1")


def test_optional_keyword_does_not_consume_a_mismatch() -> None:
    words = Words("10 ipsec-isakmp")
    assert words.optional_keyword("client") is None
    assert words.peek() == "10"
    assert Words("CLI x").optional_keyword("client") == "client"
    assert Words("").optional_keyword("client") is None


def test_number_range_and_non_number() -> None:
    assert Words("42").number("n", 1, 100) == 42
    with pytest.raises(LineError, match="n 101 is outside 1-100"):
        Words("101").number("n", 1, 100)
    with pytest.raises(LineError, match="n must be a number, not 'ten'"):
        Words("ten").number("n", 1, 100)
    with pytest.raises(LineError, match="missing n"):
        Words("").number("n", 1, 100)


def test_address_v4_v6_and_bad() -> None:
    assert Words("192.0.2.1").address() == ipaddress.ip_address("192.0.2.1")
    assert Words("2001:db8::1").address().version == 6
    with pytest.raises(LineError, match=re.escape("bad peer address '192.0.2.256'")):
        Words("192.0.2.256").address("peer address")


@pytest.mark.parametrize("mask", ["255.255.255.0", "255.255.255.255", "0.0.0.0", "255.128.0.0"])
def test_contiguous_masks(mask: str) -> None:
    assert str(Words(mask).mask()) == mask


@pytest.mark.parametrize("mask", ["255.0.255.0", "0.0.0.255", "255.255.255.1"])
def test_non_contiguous_masks(mask: str) -> None:
    with pytest.raises(LineError, match=f"mask '{mask}' is not a contiguous netmask"):
        Words(mask).mask()


def test_bad_mask_text() -> None:
    with pytest.raises(LineError, match="bad mask 'fish'"):
        Words("fish").mask()


@pytest.mark.parametrize(
    ("wildcard", "bits"), [("0.0.0.0", 0), ("0.0.0.255", 255), ("0.255.255.255", 0xFFFFFF)]
)
def test_wildcards(wildcard: str, bits: int) -> None:
    assert Words(wildcard).wildcard() == bits


@pytest.mark.parametrize("wildcard", ["0.255.0.255", "255.255.255.0"])
def test_non_contiguous_wildcards(wildcard: str) -> None:
    with pytest.raises(LineError, match="not a contiguous wildcard mask"):
        Words(wildcard).wildcard()


def test_rest_text_keeps_inner_spacing() -> None:
    text = "  description  Branch   office  (primary) "
    words = Words(text)
    words.word("keyword")
    assert words.rest_text(text) == "Branch   office  (primary)"
    assert not words
    only = Words("description")
    only.word("keyword")
    assert only.rest_text("description") == ""


def test_rest_text_after_a_repeated_word() -> None:
    text = "description description of description"
    words = Words(text)
    words.word("keyword")
    assert words.rest_text(text) == "description of description"


def test_end_reports_leftovers() -> None:
    words = Words("a b c")
    words.word("first")
    with pytest.raises(LineError, match="unexpected 'b c'"):
        words.end()


def test_network_uses_mask_and_drops_host_bits() -> None:
    net = network(ipaddress.IPv4Address("10.1.2.3"), ipaddress.IPv4Address("255.255.0.0"))
    assert net == ipaddress.ip_network("10.1.0.0/16")
