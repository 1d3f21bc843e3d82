"""The log buffer (`show logging`), live: follow or scroll back, hold the tail, show only
severities up to a level (as `logging buffered LEVEL` would), search."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Input, RichLog, Static

from engine.store import SYSLOG, ChangeSet
from engine.syslog import SEVERITY_NAMES, LogEntry
from tui.format import plural
from tui.screens.base import ConsoleScreen

SEVERITY_STYLES = {
    0: "bold reverse red",
    1: "bold red",
    2: "bold red",
    3: "red",
    4: "yellow",
    5: "cyan",
    6: "",
    7: "dim",
}


class SyslogScreen(ConsoleScreen):
    NAME = "syslog"
    TABLES = frozenset({SYSLOG})
    DEFAULT_CSS = """
    SyslogScreen #log {
        height: 1fr;
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("f", "follow", "Follow"),
        Binding("space", "hold", "Hold tail"),
        Binding("slash", "search", "Search"),
        Binding("0", "level(0)", "Max severity", key_display="0-7"),
        *(Binding(str(n), f"level({n})", f"severity {n}", show=False) for n in range(1, 8)),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.entries: deque[LogEntry] = deque(maxlen=self.store.syslog.maxlen)
        self.level = 7
        self.search = ""
        self.follow = True
        self.held = False
        self.unseen = 0
        #: Plain text of the lines on show, oldest first (what the log widget holds).
        self.lines: deque[str] = deque(maxlen=self.store.syslog.maxlen)

    def compose_body(self) -> Iterable[Any]:
        yield Static(id="summary", classes="summary")
        yield RichLog(id="log", max_lines=self.store.syslog.maxlen, wrap=False, markup=False)
        yield Input(placeholder="search (Enter keeps it, Esc clears)", id="filter")

    def shows(self, entry: LogEntry) -> bool:
        if entry.severity > self.level:
            return False
        return not self.search or self.search in entry.display().lower()

    def styled(self, entry: LogEntry) -> Text:
        text = Text(entry.display(), style=SEVERITY_STYLES.get(entry.severity, ""))
        if self.search:
            text.highlight_words([self.search], style="reverse", case_sensitive=False)
        return text

    def load_view(self, now: float) -> None:
        self.entries.extend(e for e in self.store.syslog if isinstance(e, LogEntry))
        self.rebuild()

    def apply_changes(self, changes: ChangeSet | None, now: float) -> None:
        if changes is None:
            return
        added = changes.table(SYSLOG).added
        new = [added[seq] for seq in sorted(added)]  # type: ignore[type-var]
        fresh = [e for e in new if isinstance(e, LogEntry)]
        self.entries.extend(fresh)
        if self.held:
            self.unseen += sum(1 for e in fresh if self.shows(e))
        else:
            self.write(e for e in fresh if self.shows(e))
        self.update_summary()

    def write(self, entries: Iterable[LogEntry]) -> None:
        log = self.query_one("#log", RichLog)
        for entry in entries:
            log.write(self.styled(entry), scroll_end=self.follow)
            self.lines.append(entry.display())

    def rebuild(self) -> None:
        self.query_one("#log", RichLog).clear()
        self.lines.clear()
        self.unseen = 0
        self.write(e for e in self.entries if self.shows(e))
        self.update_summary()

    def update_summary(self) -> None:
        text = Text(plural(len(self.entries), "log line"), style="bold")
        text.append(f"  │ severity ≤ {self.level} ({SEVERITY_NAMES[self.level]})")
        text.append(f"  │ {len(self.lines)} shown")
        if self.search:
            text.append(f"  │ search '{self.search}'", style="bold")
        text.append("  │ following" if self.follow else "  │ not following", style="dim")
        if self.held:
            text.append(f"  │ HELD, {self.unseen} new", style="bold reverse")
        self.query_one("#summary", Static).update(text)

    def action_level(self, level: int) -> None:
        self.level = level
        self.rebuild()

    def action_follow(self) -> None:
        self.follow = not self.follow
        log = self.query_one("#log", RichLog)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self.update_summary()

    def action_hold(self) -> None:
        self.held = not self.held
        if not self.held:
            self.rebuild()
        self.update_summary()

    def action_search(self) -> None:
        prompt = self.query_one("#filter", Input)
        prompt.add_class("-active")
        prompt.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip().lower()
        self.rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-active")
        self.query_one("#log", RichLog).focus()

    def action_back(self) -> None:
        prompt = self.query_one("#filter", Input)
        if prompt.has_class("-active") or prompt.value:
            prompt.value = ""
            prompt.remove_class("-active")
            self.query_one("#log", RichLog).focus()
            return
        super().action_back()
