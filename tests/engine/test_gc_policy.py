"""The collector's thresholds for a gateway's heap: raised, never lowered, and left alone
when collection is off; a started service has them (tests/engine/test_service.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine.gc_policy import GATEWAY_THRESHOLDS, apply_gateway_thresholds


@pytest.fixture(autouse=True)
def thresholds_restored() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_thresholds_raised_and_the_previous_ones_returned() -> None:
    gc.set_threshold(700, 10, 10)
    assert apply_gateway_thresholds() == (700, 10, 10)
    assert gc.get_threshold() == GATEWAY_THRESHOLDS


def test_a_threshold_already_higher_is_kept() -> None:
    gc.set_threshold(700, 10, 1_000)  # as the console sets it once its heap is frozen
    apply_gateway_thresholds()
    assert gc.get_threshold() == (GATEWAY_THRESHOLDS[0], GATEWAY_THRESHOLDS[1], 1_000)


def test_a_disabled_collector_stays_disabled() -> None:
    gc.set_threshold(0, 10, 10)
    apply_gateway_thresholds()
    assert gc.get_threshold() == (0, 10, 10)
