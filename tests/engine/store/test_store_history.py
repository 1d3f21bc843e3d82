"""Rates and sparkline series from counter samples, with injected timestamps."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.store import History, Rates, Sample


def feed(history: History, key: str, rows: list[tuple[float, int, int, int, int]]) -> None:
    for row in rows:
        history.record_sample(key, *row)


def test_rates_over_the_window() -> None:
    history = History()
    # 1 Hz for 30 s: 1000 B/s in and 10 pkt/s in for the first 20 s, then 3000 B/s and 30.
    for t in range(31):
        b = 1000 * min(t, 20) + 3000 * max(t - 20, 0)
        p = 10 * min(t, 20) + 30 * max(t - 20, 0)
        history.record_sample("s", float(t), b, 2 * b, p, 2 * p)
    assert history.rates("s") == Rates(3000.0, 6000.0, 30.0, 60.0)  # t in [20, 30]
    assert history.rates("s", window_s=20) == Rates(2000.0, 4000.0, 20.0, 40.0)
    assert history.rates("s", window_s=1) == Rates(3000.0, 6000.0, 30.0, 60.0)


def test_rates_need_two_samples_and_fall_back_to_the_last_interval() -> None:
    history = History()
    assert history.rates("s") == Rates(0.0, 0.0, 0.0, 0.0)
    history.record_sample("s", 0.0, 0, 0, 0, 0)
    assert history.rates("s") == Rates(0.0, 0.0, 0.0, 0.0)
    history.record_sample("s", 30.0, 3000, 0, 30, 0)  # slower than the 10 s window
    assert history.rates("s") == Rates(100.0, 0.0, 1.0, 0.0)


def test_a_falling_counter_counts_as_a_reset() -> None:
    history = History()
    feed(
        history,
        "s",
        [
            (0.0, 0, 0, 0, 0),
            (1.0, 1000, 500, 10, 5),
            (2.0, 100, 1000, 1, 10),  # bytes_in and packets_in reset, the rest went on
            (3.0, 1100, 1500, 11, 15),
        ],
    )
    rates = history.rates("s")
    assert rates.bytes_in_per_s == pytest.approx((1000 + 0 + 1000) / 3)
    assert rates.bytes_out_per_s == pytest.approx(500)
    assert rates.packets_in_per_s == pytest.approx((10 + 0 + 10) / 3)
    assert history.series("s", "bytes_in", points=3) == [1000.0, 0.0, 1000.0]


def test_series_per_second_oldest_first_and_padded() -> None:
    history = History()
    feed(history, "s", [(10.0, 0, 0, 0, 0), (11.0, 5, 0, 0, 0), (12.0, 15, 0, 0, 0)])
    assert history.series("s", "bytes_in", points=4) == [0.0, 0.0, 5.0, 10.0]
    assert history.series("s", "bytes_out", points=2) == [0.0, 0.0]
    assert history.series("missing", "bytes_in", points=3) == [0.0, 0.0, 0.0]
    assert history.series("s", "bytes_in") == [0.0] * 58 + [5.0, 10.0]


def test_series_spreads_a_long_interval_over_its_seconds() -> None:
    history = History()
    feed(history, "s", [(0.0, 0, 0, 0, 0), (4.0, 400, 0, 0, 0), (4.5, 500, 0, 0, 0)])
    # 100/s over [0, 4), then 200/s over [4, 4.5); seconds end at 4.5.
    assert history.series("s", "bytes_in", points=5) == pytest.approx(
        [50.0, 100.0, 100.0, 100.0, 150.0]
    )
    total = sum(history.series("s", "bytes_in", points=10))
    assert total == pytest.approx(500)


def test_series_rejects_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="bytes_in"):
        History().series("s", "octets")


def test_ring_is_bounded_and_times_only_go_forward() -> None:
    history = History(maxlen=5)
    for t in range(10):
        history.record_sample("s", float(t), t, 0, 0, 0)
    assert [s.t for s in history.samples("s")] == [5.0, 6.0, 7.0, 8.0, 9.0]
    history.record_sample("s", 9.0, 90, 0, 0, 0)  # same time: replaces the newest
    history.record_sample("s", 3.0, 999, 0, 0, 0)  # earlier: dropped
    assert history.samples("s")[-1] == Sample(9.0, 90, 0, 0, 0)
    assert len(history.samples("s")) == 5
    assert len(history) == 1
    history.discard("s")
    assert "s" not in history
    assert history.samples("s") == []


def rates_by_hand(samples: list[Sample], window_s: float) -> tuple[float, ...]:
    """The definition: rises only, over the samples of the window (at least the last two)."""
    if len(samples) < 2:
        return (0.0, 0.0, 0.0, 0.0)
    start = samples[-1].t - window_s
    used = samples[-2:]
    for sample in reversed(samples[:-2]):
        if sample.t < start:
            break
        used.insert(0, sample)
    span = used[-1].t - used[0].t
    rises = [
        sum(max(0, later[i] - earlier[i]) for earlier, later in pairwise(used)) for i in range(1, 5)
    ]
    return tuple(rise / span for rise in rises)


counters = st.integers(min_value=0, max_value=2**40)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=40), counters, counters, counters, counters),
        max_size=60,
    ),
    st.integers(min_value=2, max_value=12),
    st.sampled_from([0.5, 3.0, 10.0, 100.0]),
)
def test_rates_match_their_definition(
    rows: list[tuple[int, int, int, int, int]], maxlen: int, window_s: float
) -> None:
    """Rates kept as running rises equal the sum of rises over the window, through
    resets, same-time replacements, out-of-order samples and a full ring."""
    history = History(maxlen=maxlen)
    for t, *values in rows:
        history.record_sample("s", float(t), *values)
    expected = rates_by_hand(history.samples("s"), window_s)
    rates = history.rates("s", window_s)
    got = (
        rates.bytes_in_per_s,
        rates.bytes_out_per_s,
        rates.packets_in_per_s,
        rates.packets_out_per_s,
    )
    assert got == pytest.approx(expected)


def test_a_ring_is_one_compact_buffer_per_key() -> None:
    """At 100k sessions the history is most of the store's memory: a key's samples are
    kept as doubles in one buffer (a deque of tuples of ints took ten times as much)."""
    import tracemalloc

    keys, samples = 2000, 20
    history = History(maxlen=300)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for t in range(samples):
            for key in range(keys):
                history.record_sample(key, float(t), 10**9 + t, 10**9 + 2 * t, 10**6 + t, t)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 5 doubles a sample is 40 bytes; the rest is one array and one dict slot per key.
    assert used / (keys * samples) < 60
    assert history.samples(5)[-1] == Sample(19.0, 10**9 + 19, 10**9 + 38, 10**6 + 19, 19)
    assert history.rates(5) == Rates(1.0, 2.0, 1.0, 1.0)


def test_a_full_ring_wraps_in_place_and_keeps_its_order() -> None:
    history = History(maxlen=3)
    for t in range(7):
        history.record_sample("s", float(t), 100 * t, 0, t, 0)
    assert [s.t for s in history.samples("s")] == [4.0, 5.0, 6.0]
    history.record_sample("s", 6.0, 650, 0, 6, 0)  # same time as the newest, after a wrap
    assert history.samples("s")[-1] == Sample(6.0, 650, 0, 6, 0)
    assert history.rates("s") == Rates(125.0, 0.0, 1.0, 0.0)
    assert history.series("s", "bytes_in", points=2) == [100.0, 150.0]
