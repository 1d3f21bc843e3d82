"""The console over 10,000 sessions: first paint, refresh CPU at 1 Hz, filter latency.

The console tests' synthetic target (`tests/console_target.py`: a real Store and Control
over fabricated sessions) drives the real `ConsoleApp` headless under `App.run_test()`.
"Painted" means the compositor rendered a frame (and it was turned into terminal output,
as a real terminal driver would) while the table held what is being waited for.

* first_paint_ms: from `run_test()` entry until a frame shows the sessions table's rows.
* refresh_cpu_pct: every session's counters change each second; process CPU per refresh
  (the console's tick, from the change set to the painted frame) over the 1 s interval.
* filter_ms: `/` then type a filter that narrows 10,000 rows to 100, one key at a time;
  the worst key-to-frame latency of those keystrokes (a frame showing the first
  screenful of matches; a search over rows whose counters all moved goes on behind it).
  Clearing the filter (Esc) is reported beside it as clear_ms.

    python bench/tui.py [--sessions N] [--ticks N] [--held-filter TEXT]

The last line reads `sessions=N first_paint_ms=A refresh_cpu_pct=B filter_ms=C
peak_rss_mb=D` (D: the whole process at its peak, records included).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from console_target import SyntheticTarget

from engine.records import SessionStatus
from tui.app import ConsoleApp
from tui.screens.sessions import SessionsScreen

SIZE = (220, 50)
#: Descriptions are "branch NNNNN", so this matches indices 04200..04299: 100 rows.
FILTER = "branch 042"


class PaintProbe:
    """Wraps `app._display`: renders each frame to terminal text (what a real driver
    would write) and records when a frame is first shown while `until()` holds."""

    def __init__(self, app: ConsoleApp) -> None:
        self.app = app
        self.until: Callable[[], bool] | None = None
        self.painted_at: float | None = None
        self.frames = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            render = getattr(renderable, "render_segments", None)
            if render is not None:
                render(app.console)
            self.frames += 1
            if self.until is not None and self.until():
                self.painted_at = time.perf_counter()
                self.until = None

        app._display = display  # type: ignore[method-assign]

    def expect(self, until: Callable[[], bool]) -> None:
        self.painted_at = None
        self.until = until

    async def wait(self, pilot: Any, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while self.painted_at is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no frame showed the expected state")
            self.app.screen.refresh()
            await asyncio.sleep(0)
            await pilot.pause()
        return self.painted_at


def screenful(screen: SessionsScreen) -> int:
    return max(1, screen.table.size.height - 1)


def shows_rows(app: ConsoleApp) -> bool:
    screen = app.screen
    return isinstance(screen, SessionsScreen) and screen.table.row_count >= min(
        screenful(screen), len(screen.records) or 1
    )


def shows_filtered(app: ConsoleApp, text: str, expected: int) -> bool:
    """The table's first screenful is the filter's matches (and only those)."""
    screen = app.screen
    if not isinstance(screen, SessionsScreen):
        return False
    table = screen.table
    want = min(expected, screenful(screen))
    if table.row_count < want or table.filter_text != text.strip().lower():
        return False
    if table.row_count > expected:
        return False
    return all(text.strip().lower() in str(table.get_row_at(i)[2]).lower() for i in range(want))


def shows_all(app: ConsoleApp, total: int) -> bool:
    screen = app.screen
    if not isinstance(screen, SessionsScreen):
        return False
    table = screen.table
    if table.filter_text or table.row_count < screenful(screen):
        return False
    keys = table.visible_keys()[: screenful(screen)]
    # Sorted by peer: the first screenful is sessions 0, 1, 2, ... in order.
    return keys[:3] == ["10.0.0.0:500", "10.0.0.1:500", "10.0.0.2:500"] and total > 0


async def measure(sessions: int, ticks: int, held_filter: str = "") -> dict[str, float]:
    target = SyntheticTarget(sessions, statuses=(SessionStatus.UP_ACTIVE,), digits=5, samples=True)
    # The timer is left out: the bench drives the ticks itself, one per simulated second.
    app = ConsoleApp(target, refresh_interval=3600.0)
    probe = PaintProbe(app)
    probe.expect(lambda: shows_rows(app))
    gc.collect()
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        painted = await probe.wait(pilot)
        first_paint = painted - start
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        # Let the rest of the 10k rows load before measuring the steady state.
        while screen.table.pending:
            await pilot.pause()
        await pilot.pause()

        if held_filter:
            # Refresh with a filter in force: every changed row must be checked against it.
            screen.table.set_filter(held_filter)
            while screen.table.pending:
                await pilot.pause()
        cpu = 0.0
        now = target.started + 60
        for traffic in range(1, ticks + 1):
            now += 1.0
            target.move_all(traffic, now)
            await pilot.pause()
            top = screen.table.visible_keys()[0]

            def moved(key: str = top, value: str = str(traffic)) -> bool:
                return screen.table.get_cell(key, "pkts_in").plain == value

            probe.expect(moved)
            before = time.process_time()
            app.refresh_now()
            await probe.wait(pilot)
            cpu += time.process_time() - before
        refresh_cpu = cpu / ticks / 1.0

        await pilot.press("slash")
        await pilot.pause()
        keys: list[tuple[str, float]] = []
        for index, char in enumerate(FILTER):
            typed = FILTER[: index + 1]
            matches = sum(1 for r in screen.records.values() if typed in r.description.lower())
            probe.expect(lambda t=typed, n=matches: shows_filtered(app, t, n))  # type: ignore[misc]
            before = time.perf_counter()
            await pilot.press("space" if char == " " else char)
            keys.append((repr(typed), (await probe.wait(pilot)) - before))
        while screen.table.pending:  # the search goes on behind the first screenful
            await pilot.pause()
        assert screen.table.shown == 100, screen.table.shown

        probe.expect(lambda: shows_all(app, sessions))
        before = time.perf_counter()
        await pilot.press("escape")
        clear = (await probe.wait(pilot)) - before
        while screen.table.pending:
            await pilot.pause()
        assert screen.table.row_count == sessions
    for typed, seconds in keys:
        print(f"  key {typed:>14}: {seconds * 1000:7.1f} ms")
    return {
        "first_paint": first_paint,
        "refresh_cpu": refresh_cpu,
        "filter": max(seconds for _, seconds in keys),
        "clear": clear,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument(
        "--held-filter", default="", help="measure the refresh with this filter in force"
    )
    args = parser.parse_args()
    result = asyncio.run(measure(args.sessions, args.ticks, args.held_filter))
    print(f"clear_ms={result['clear'] * 1000:.0f}")
    print(
        f"sessions={args.sessions} first_paint_ms={result['first_paint'] * 1000:.0f}"
        f" refresh_cpu_pct={result['refresh_cpu'] * 100:.1f}"
        f" filter_ms={result['filter'] * 1000:.0f} peak_rss_mb={peak_rss_mb():.0f}"
    )


def peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM): the store's records, the console's
    rows and Textual together, as an operator's `top` would show them."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
