"""The gateway process runs with the collector's larger thresholds, whatever its mode."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine import cli
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


@pytest.mark.parametrize(
    "argv", [["daemon", "--config", "gw.conf"], ["--config", "gw.conf"], []], ids=str
)
def test_every_gateway_mode_runs_with_them(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    def fake_run(main: object) -> None:
        seen.append(gc.get_threshold())
        main.close()  # type: ignore[attr-defined]  # the coroutine is never started

    monkeypatch.setattr(cli.asyncio, "run", fake_run)
    assert cli.main(argv) == 0
    assert seen == [GATEWAY_THRESHOLDS]
