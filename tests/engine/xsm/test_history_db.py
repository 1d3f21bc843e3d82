"""The history database: downsampling into the coarser tiers, restart, pruning, the cap."""

from __future__ import annotations

from pathlib import Path

from engine.xsm.history_db import TIERS, Event, HistoryDatabase, Point

#: a day boundary, so minute and five-minute buckets start at round numbers
T0 = 1_800_000_000.0 - 1_800_000_000.0 % 86_400


def feed(db: HistoryDatabase, start: float, seconds: int, bytes_per_sample: int) -> float:
    """A sample every 10 s: a counter growing by ``bytes_per_sample``, a gauge at 5."""
    t = start
    for _ in range(seconds // 10):
        db.write(
            t,
            [
                Point("gateway", "bytes_in", bytes_per_sample, True),
                Point("gateway", "sessions_total", 5, False),
            ],
        )
        t += 10
        db.maintain(t)
    return t


def test_counters_sum_and_gauges_average_into_minutes_and_five_minutes(tmp_path: Path) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite")
    now = feed(db, T0, 900, 1000)  # 15 minutes
    hour = db.points("gateway", "1h", now)
    assert len(hour) == 90
    assert {point["bytes_in"] for _, point in hour} == {1000}
    day = db.points("gateway", "1d", now)
    # every minute holds six samples' growth; the gauge stays its average
    assert [t for t, _ in day] == [T0 + 60 * i for i in range(15)]
    assert {point["bytes_in"] for _, point in day} == {6000}
    assert {point["sessions_total"] for _, point in day} == {5}
    five = db.points("gateway", "5d", now)
    assert [t for t, _ in five] == [T0, T0 + 300, T0 + 600]
    assert [point["bytes_in"] for _, point in five] == [30_000, 30_000, 30_000]
    db.close()


def test_a_bucket_not_yet_rolled_up_is_aggregated_from_the_finest_tier(tmp_path: Path) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite")
    db.write(T0, [Point("gateway", "bytes_in", 7, True)])
    db.write(T0 + 10, [Point("gateway", "bytes_in", 8, True)])
    db.maintain(T0 + 20)
    assert db.points("gateway", "5d", T0 + 20) == [(int(T0), {"bytes_in": 15.0})]
    assert db.points("gateway", "1d", T0 + 20) == [(int(T0), {"bytes_in": 15.0})]
    db.close()


def test_history_and_its_roll_up_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    db = HistoryDatabase(path)
    now = feed(db, T0, 150, 100)  # 2.5 minutes
    db.write(now, [], [Event(now, "session/7", "down", "10.0.0.2:500 cleared")])
    db.close()
    again = HistoryDatabase(path)
    now = feed(again, now, 300, 100)
    day = again.points("gateway", "1d", now)
    # seven whole minutes rolled up, and the half minute still in the finest tier
    assert [point["bytes_in"] for _, point in day] == [600] * 7 + [300]
    assert [e.event for e in again.events(T0, "session/7")] == ["down"]
    again.close()


def test_each_tier_is_pruned_past_its_span(tmp_path: Path) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite")
    db.write(T0, [Point("session/1", "bytes_in", 1, True)], [Event(T0, "session/1", "up", "")])
    db.maintain(T0 + 400)
    assert db.points("session/1", "5d", T0 + 400)
    hour_later = T0 + TIERS[0].span + 20
    db.maintain(hour_later)
    assert db.points("session/1", "1h", hour_later) == []
    assert db.points("session/1", "1d", hour_later)
    five_days_later = T0 + TIERS[2].span + 400
    db.maintain(five_days_later)
    assert db.points("session/1", "5d", five_days_later) == []
    assert db.point_count() == 0
    assert db.events(0) == []
    db.close()


def test_the_cap_drops_the_oldest_finest_points_first(tmp_path: Path) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite", max_points=50)
    for i in range(60):
        db.write(T0 + 10 * i, [Point(f"flow/{i % 3}", "bytes_in", 1, True)])
    db.maintain(T0 + 600)
    assert db.point_count() <= 50
    # the minutes rolled up before the cut still hold the whole ten minutes
    day = db.points("flow/0", "1d", T0 + 600)
    assert sum(point["bytes_in"] for _, point in day) == 20
    db.close()


def test_an_unreadable_file_is_moved_aside_and_history_starts_anew(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    db = HistoryDatabase(path)
    assert db.moved_aside == tmp_path / "history.sqlite.unreadable"
    assert db.moved_aside.read_bytes().startswith(b"this is not")
    db.write(T0, [Point("gateway", "bytes_in", 1, True)])
    assert db.points("gateway", "1h", T0) == [(int(T0), {"bytes_in": 1.0})]
    db.close()


def test_without_a_state_directory_history_lives_until_close() -> None:
    db = HistoryDatabase(None)
    assert not db.persistent
    db.write(T0, [Point("gateway", "bytes_in", 3, True)])
    assert db.series() == ["gateway"]
    scratch = db.path.parent
    db.close()
    assert not scratch.exists()
