"""Five days of statistics in SQLite: 10 s points for an hour, 1 min for a day, 5 min for
five days, and the up/down events, kept in the state directory across restarts.

A point is one metric of one series (``session/ID``, ``flow/ID``, ``tunnel/Tunnel1``,
``gateway``, ``system``, ``interface/eth0``) in one time bucket. Counter metrics hold
the growth within the bucket (so a coarser bucket is the sum of its finer ones, and a
counter that resets at rekey or restart loses nothing); gauge metrics hold the bucket's
average. New points land in the finest tier; once a coarser bucket is complete its finer
points are rolled up into it by one SQL statement, and the progress of that roll-up is
stored, so a restart resumes it. Each tier is pruned past its span, and the whole
database is capped in points (oldest finest points go first), so its size is bounded
whatever the number of sessions.

The recorder writes through ``asyncio.to_thread`` on one connection; queries (the data
sets, the console's graphs) read on another from the event loop. The database is in WAL
mode, so a read never waits for a write in progress: the loop is never held up by the
disk. Without a state directory the file lives in a temporary directory removed at
close (history for as long as the process runs). A file that is not a readable history
database is moved aside and a new one started: losing history must never stop the
gateway.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

SCHEMA_VERSION = 2
#: the most points kept, all tiers together (about 60 bytes each on disk)
DEFAULT_MAX_POINTS = 3_000_000


@dataclass(frozen=True, slots=True)
class Tier:
    """One resolution: buckets of ``step`` seconds, kept for ``span`` seconds."""

    name: str
    step: int
    span: int


TIERS = (
    Tier("1h", 10, 3600),
    Tier("1d", 60, 86_400),
    Tier("5d", 300, 5 * 86_400),
)
RANGES = {tier.name: index for index, tier in enumerate(TIERS)}
Range = Literal["1h", "1d", "5d"]


class Point(NamedTuple):
    """One metric's value for one series at one sample; ``summed`` for a counter's
    growth, not for a gauge."""

    series: str
    metric: str
    value: float
    summed: bool


class Event(NamedTuple):
    t: float
    series: str
    event: str
    detail: str


class HistoryError(RuntimeError):
    """The history database could not be opened or written (disk full, read-only)."""


# Series and metric names are stored once and points refer to them by number: a session
# id is ~40 bytes, and a point 20-30 bytes on disk. The primary key's order (series, then
# time) serves a series' range; the (tier, t) index serves pruning and the roll-up.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, last_t INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS series_by_time ON series (last_t);
CREATE TABLE IF NOT EXISTS metrics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS points (
    tier INTEGER NOT NULL, series INTEGER NOT NULL, t INTEGER NOT NULL,
    metric INTEGER NOT NULL, value REAL NOT NULL, summed INTEGER NOT NULL,
    PRIMARY KEY (tier, series, t, metric)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_by_time ON points (tier, t);
CREATE TABLE IF NOT EXISTS events (
    t REAL NOT NULL, series TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (t);
CREATE INDEX IF NOT EXISTS events_by_series ON events (series, t);
"""

_UPSERT = """
INSERT INTO points (tier, series, t, metric, value, summed) VALUES (0, ?, ?, ?, ?, ?)
ON CONFLICT (tier, series, t, metric) DO UPDATE SET
    value = CASE WHEN excluded.summed THEN value + excluded.value ELSE excluded.value END
"""

#: a finer tier's points in [low, high) as the coarser tier's buckets
_ROLL_SELECT = """
SELECT series, (t / :step) * :step AS bucket, metric,
       CASE WHEN MAX(summed) THEN SUM(value) ELSE AVG(value) END, MAX(summed)
FROM points WHERE tier = :finer AND t >= :low AND t < :high
GROUP BY series, metric, bucket
"""


def bucket_of(t: float, step: int) -> int:
    return int(t // step) * step


class HistoryDatabase:
    """The history file (or an in-memory database when ``path`` is None: history for as
    long as the process runs)."""

    def __init__(self, path: Path | None, *, max_points: int = DEFAULT_MAX_POINTS) -> None:
        self._scratch: Path | None = None
        if path is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="ipsec-console-history-"))
            path = self._scratch / "history.sqlite"
        self.path = path
        self.max_points = max_points
        self.moved_aside: Path | None = None
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._db = self._open()
        #: the writer's name -> id of series and metrics (cleared when series are pruned)
        self._series_ids: dict[str, int] = {}
        self._metric_ids: dict[str, int] = {}
        self._reader = sqlite3.connect(self.path, check_same_thread=False)

    @property
    def persistent(self) -> bool:
        return self._scratch is None

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._prepare(sqlite3.connect(self.path, check_same_thread=False))
        except sqlite3.DatabaseError:
            pass
        # not a database, or one of another schema: keep it for a post-mortem, start anew
        aside = self.path.with_name(self.path.name + ".unreadable")
        with contextlib.suppress(OSError):
            self.path.replace(aside)
            self.moved_aside = aside
        try:
            return self._prepare(sqlite3.connect(self.path, check_same_thread=False))
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open {self.path}: {exc}") from exc

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> sqlite3.Connection:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                db.commit()
            elif row[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"history schema {row[0]}, not {SCHEMA_VERSION}")
            db.execute("SELECT COUNT(*) FROM points WHERE tier = -1").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._reader.close()
            self._db.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._db:
                    yield self._db
            except sqlite3.Error as exc:
                raise HistoryError(f"history not written: {exc}") from exc

    # -- writing ------------------------------------------------------------------------

    def write(self, t: float, points: Iterable[Point], events: Iterable[Event] = ()) -> None:
        """One sample: its points into the finest tier's bucket holding ``t`` (a second
        sample in the same bucket adds to its counters and replaces its gauges)."""
        bucket = bucket_of(t, TIERS[0].step)
        with self._writing() as db:
            rows = []
            touched: set[int] = set()
            for p in points:
                series = self._id(db, "series", self._series_ids, p.series, bucket)
                metric = self._id(db, "metrics", self._metric_ids, p.metric)
                touched.add(series)
                rows.append((series, bucket, metric, float(p.value), int(p.summed)))
            db.executemany(_UPSERT, rows)
            db.executemany(
                "UPDATE series SET last_t = ? WHERE id = ?", ((bucket, i) for i in touched)
            )
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", events)

    @staticmethod
    def _id(
        db: sqlite3.Connection, table: str, cache: dict[str, int], name: str, t: int = 0
    ) -> int:
        found = cache.get(name)
        if found is not None:
            return found
        row = db.execute(f"SELECT id FROM {table} WHERE name = ?", (name,)).fetchone()
        if row is None:
            if table == "series":
                cursor = db.execute("INSERT INTO series (name, last_t) VALUES (?, ?)", (name, t))
            else:
                cursor = db.execute("INSERT INTO metrics (name) VALUES (?)", (name,))
            found = int(cursor.lastrowid or 0)
        else:
            found = int(row[0])
        cache[name] = found
        return found

    def maintain(self, now: float) -> None:
        """Roll complete buckets up into the coarser tiers, then prune: past each tier's
        span, and the oldest points beyond ``max_points``."""
        with self._writing() as db:
            for index in range(1, len(TIERS)):
                self._roll(db, index, now)
            for index, tier in enumerate(TIERS):
                db.execute("DELETE FROM points WHERE tier = ? AND t < ?", (index, now - tier.span))
            oldest = now - TIERS[-1].span
            db.execute("DELETE FROM events WHERE t < ?", (oldest,))
            if db.execute("DELETE FROM series WHERE last_t < ?", (oldest,)).rowcount:
                self._series_ids.clear()
            self._cap(db)

    def _roll(self, db: sqlite3.Connection, index: int, now: float) -> None:
        finer, tier = TIERS[index - 1], TIERS[index]
        # a bucket is complete once the finer tier's last bucket in it has been written
        high = bucket_of(now - finer.step, tier.step)
        key = f"rolled_{index}"
        row = db.execute("SELECT value FROM meta WHERE name = ?", (key,)).fetchone()
        if row is None:
            first = db.execute("SELECT MIN(t) FROM points WHERE tier = ?", (index - 1,)).fetchone()[
                0
            ]
            low = high if first is None else bucket_of(first, tier.step)
        else:
            low = int(row[0])
        if high > low:
            rows = db.execute(
                _ROLL_SELECT, {"step": tier.step, "finer": index - 1, "low": low, "high": high}
            ).fetchall()
            db.executemany(
                "INSERT OR REPLACE INTO points (tier, series, t, metric, value, summed) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((index, *values) for values in rows),
            )
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, max(low, high)))

    def _cap(self, db: sqlite3.Connection) -> None:
        count = db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
        excess = count - self.max_points
        if excess <= 0:
            return
        # the finest tier's oldest points first: the coarser tiers already hold them
        for index in range(len(TIERS)):
            if excess <= 0:
                break
            cut = db.execute(
                "SELECT t FROM points WHERE tier = ? ORDER BY t LIMIT 1 OFFSET ?",
                (index, excess - 1),
            ).fetchone()
            if cut is None:
                excess -= db.execute("DELETE FROM points WHERE tier = ?", (index,)).rowcount
            else:
                excess -= db.execute(
                    "DELETE FROM points WHERE tier = ? AND t <= ?", (index, cut[0])
                ).rowcount

    # -- reading ------------------------------------------------------------------------

    def points(
        self, series: str, range_: Range, now: float, metrics: Iterable[str] | None = None
    ) -> list[tuple[int, dict[str, float]]]:
        """The series over the range as (bucket start, {metric: value}), oldest first,
        buckets without a point left out. The newest buckets that the tier has not rolled
        up yet are aggregated from the finest tier on the fly."""
        index = RANGES[range_]
        tier = TIERS[index]
        since = now - tier.span
        wanted = tuple(metrics) if metrics is not None else None
        out: dict[int, dict[str, float]] = {}
        with self._read_lock:
            db = self._reader
            found = db.execute("SELECT id FROM series WHERE name = ?", (series,)).fetchone()
            if found is None:
                return []
            names = dict(db.execute("SELECT id, name FROM metrics").fetchall())
            rolled = 0
            if index:
                row = db.execute(
                    "SELECT value FROM meta WHERE name = ?", (f"rolled_{index}",)
                ).fetchone()
                rolled = int(row[0]) if row else 0
            stored = db.execute(
                "SELECT t, metric, value FROM points WHERE tier = ? AND series = ? AND t >= ?",
                (index, found[0], since),
            ).fetchall()
            recent: list[tuple[int, int, float]] = []
            if index:
                recent = db.execute(
                    """SELECT (t / :step) * :step AS bucket, metric,
                       CASE WHEN MAX(summed) THEN SUM(value) ELSE AVG(value) END
                       FROM points WHERE tier = 0 AND series = :series AND t >= :low
                       GROUP BY metric, bucket""",
                    {"step": tier.step, "series": found[0], "low": max(rolled, since)},
                ).fetchall()
        for t, metric, value in (*stored, *recent):
            name = names.get(metric)
            if name is not None and (wanted is None or name in wanted):
                out.setdefault(int(t), {})[name] = value
        return sorted(out.items())

    def events(self, since: float, series: str | None = None, limit: int = 1000) -> list[Event]:
        """The newest ``limit`` events since ``since``, oldest first."""
        with self._read_lock:
            if series is None:
                rows = self._reader.execute(
                    "SELECT * FROM events WHERE t >= ? ORDER BY t DESC LIMIT ?", (since, limit)
                ).fetchall()
            else:
                rows = self._reader.execute(
                    "SELECT * FROM events WHERE series = ? AND t >= ? ORDER BY t DESC LIMIT ?",
                    (series, since, limit),
                ).fetchall()
        return [Event(*row) for row in reversed(rows)]

    def series(self, prefix: str = "", since: float = 0.0) -> list[str]:
        """The series written to since ``since`` (its bucket), by name."""
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT name FROM series WHERE last_t >= ? AND substr(name, 1, ?) = ? "
                "ORDER BY name",
                (bucket_of(since, TIERS[0].step), len(prefix), prefix),
            ).fetchall()
        return [row[0] for row in rows]

    def point_count(self) -> int:
        with self._read_lock:
            return int(self._reader.execute("SELECT COUNT(*) FROM points").fetchone()[0])

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += self.path.with_name(self.path.name + suffix).stat().st_size
        return total
