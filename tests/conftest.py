"""Shared fixtures: deterministic randomness and a pair of IKE engines on an in-memory link."""

from __future__ import annotations

import ipaddress
import random

import pytest
from ike_pair import EnginePair, site_to_site_config


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7296)


@pytest.fixture
def pair() -> EnginePair:
    """Gateway A (10.0.0.1, initiator by default) and B (10.0.0.2), no loss."""
    return EnginePair(*site_to_site_config())


@pytest.fixture
def net() -> type[ipaddress.IPv4Network]:
    return ipaddress.IPv4Network
