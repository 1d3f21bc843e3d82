"""The collector's young generation is raised for a gateway's heap, never lowered, and
left alone when collection is off (threshold 0)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine import gc_tuning


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_default_young_threshold_is_raised_and_the_others_kept() -> None:
    gc.set_threshold(700, 10, 10)
    assert gc_tuning.tune() == (gc_tuning.YOUNG_THRESHOLD, 10, 10)


def test_a_higher_or_disabled_threshold_stays() -> None:
    gc.set_threshold(50_000, 20, 30)
    assert gc_tuning.tune() == (50_000, 20, 30)
    gc.set_threshold(0, 10, 10)
    assert gc_tuning.tune() == (0, 10, 10)
