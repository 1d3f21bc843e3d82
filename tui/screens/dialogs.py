"""Modal dialogs: confirmations, the clear-by-filter form, exec output, the `:` prompt
and the help list."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, Label, Static

from engine.control import ClearFilter
from engine.records import SessionRecord

_BindingList = list[Binding | tuple[str, str] | tuple[str, str, str]]

DIALOG_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
}}
{name} > #dialog {{
    width: 72;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    padding: 1 2;
    border: thick $primary;
    background: $surface;
}}
{name} .buttons {{
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}}
{name} Button {{
    margin-left: 1;
}}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no; the safe answer has the focus, so Enter alone never clears anything."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS: ClassVar[_BindingList] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, confirm: str = "Clear") -> None:
        super().__init__()
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.confirm} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


_FIELDS = (
    ("remote_ip", "remote IP"),
    ("remote_port", "remote port"),
    ("local_ip", "local IP"),
    ("local_port", "local port"),
    ("fvrf", "fvrf"),
    ("ivrf", "ivrf"),
)


def command_line(flt: ClearFilter) -> str:
    """The IOS exec line the form amounts to."""
    words = ["clear crypto session"]
    for side, ip, port in (
        ("remote", flt.remote_ip, flt.remote_port),
        ("local", flt.local_ip, flt.local_port),
    ):
        if ip is not None:
            words.append(f"{side} {ip}")
        if port is not None:
            words.append(f"port {port}" if ip is not None else f"{side}-port {port}")
    for name in ("fvrf", "ivrf"):
        value = getattr(flt, name)
        if value is not None:
            words.append(f"{name} {value}")
    return " ".join(words)


def parse_form(values: dict[str, str]) -> ClearFilter:
    """The filter the form's fields describe; ValueError names the bad field."""
    parsed: dict[str, object] = {}
    for name, label in _FIELDS:
        text = values.get(name, "").strip()
        if not text:
            continue
        if name.endswith("_ip"):
            try:
                parsed[name] = str(ipaddress.ip_address(text))
            except ValueError:
                raise ValueError(f"{label}: not an address") from None
        elif name.endswith("_port"):
            if not text.isdigit() or not 1 <= int(text) <= 65535:
                raise ValueError(f"{label}: a number from 1 to 65535")
            parsed[name] = int(text)
        else:
            parsed[name] = text
    return ClearFilter(**parsed)  # type: ignore[arg-type]


class ClearFilterScreen(ModalScreen[ClearFilter | None]):
    """The filters of `clear crypto session` as a form, with a live count of matches."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ClearFilterScreen")
        + """
    ClearFilterScreen #fields {
        grid-size: 2;
        grid-columns: 14 1fr;
        grid-rows: 1;
        grid-gutter: 1 0;
        height: auto;
        margin-top: 1;
    }
    ClearFilterScreen #match-count {
        margin-top: 1;
    }
    """
    )
    BINDINGS: ClassVar[_BindingList] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, records: Callable[[], Iterable[SessionRecord]]) -> None:
        super().__init__()
        self.records = records
        self.filter: ClearFilter | None = ClearFilter()
        self.matching = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Clear crypto sessions matching (empty fields match anything)")
            with Grid(id="fields"):
                for name, label in _FIELDS:
                    yield Label(label)
                    yield Input(id=name.replace("_", "-"), placeholder="any", compact=True)
            yield Static(id="match-count")
            with Horizontal(classes="buttons"):
                yield Button("Clear", variant="error", id="clear")
                yield Button("Cancel", variant="primary", id="cancel")

    def on_mount(self) -> None:
        self.recount()
        self.set_interval(0.5, self.recount)
        self.query_one("#remote-ip", Input).focus()

    def recount(self) -> None:
        values = {
            name: self.query_one(f"#{name.replace('_', '-')}", Input).value for name, _ in _FIELDS
        }
        count = self.query_one("#match-count", Static)
        button = self.query_one("#clear", Button)
        try:
            flt = parse_form(values)
        except ValueError as err:
            self.filter = None
            count.update(Text(str(err), style="bold red"))
            button.disabled = True
            return
        self.filter = flt
        records = list(self.records())
        matching = [r for r in records if flt.matches(r)]
        with_sas = sum(1 for r in matching if r.ike_sa_ids)
        self.matching = len(matching)
        text = Text()
        text.append(f"{self.matching} of {len(records)} crypto sessions match", style="bold")
        if with_sas != self.matching:
            text.append(f" ({with_sas} with SAs to delete)")
        text.append(f"\n{command_line(flt)}", style="dim")
        if flt.everything:
            text.append("\nno filter: this clears ALL sessions (asks again)", style="bold")
        count.update(text)
        button.disabled = False

    @on(Input.Changed)
    def _changed(self) -> None:
        self.recount()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._finish()

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self._finish()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _finish(self) -> None:
        self.recount()
        if self.filter is not None:
            self.dismiss(self.filter)


class TextScreen(ModalScreen[None]):
    """Exec output (`show ...`) exactly as the engine rendered it."""

    DEFAULT_CSS = """
    TextScreen {
        align: center middle;
        background: $background 60%;
    }
    TextScreen > #dialog {
        width: 90%;
        height: 90%;
        border: thick $primary;
        border-title-align: left;
        background: $surface;
    }
    TextScreen #output {
        width: auto;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[_BindingList] = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as box:
            box.border_title = self.title_text
            box.border_subtitle = "Esc closes"
            yield Static(Text(self.text), id="output")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


class CommandPrompt(ModalScreen[str | None]):
    """`:` then a screen name or an IOS exec command, k9s style."""

    DEFAULT_CSS = """
    CommandPrompt {
        align: center top;
        background: $background 30%;
    }
    CommandPrompt > Input {
        margin-top: 3;
        width: 80%;
        border: tall $accent;
    }
    """
    BINDINGS: ClassVar[_BindingList] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestions: Sequence[str]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder=":sessions  :flows  :syslog  show crypto session detail  clear crypto "
            "session remote IP …",
            suggester=SuggestFromList(self.suggestions, case_sensitive=False),
            id="command",
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().removeprefix(":").strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The keys in force where `?` was pressed, from the live bindings."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    HelpScreen > #dialog {
        width: 100;
        max-width: 95%;
        height: 90%;
        border: thick $primary;
        background: $surface;
    }
    HelpScreen DataTable {
        height: 1fr;
    }
    HelpScreen #more {
        height: auto;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[_BindingList] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, rows: Sequence[tuple[str, str, str]], notes: str = "") -> None:
        super().__init__()
        self.rows = list(rows)
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Keys"
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("KEY", "ACTION", "WHERE")
            for row in self.rows:
                table.add_row(*row)
            yield table
            yield Static(Text(self.notes), id="more")

    def action_close(self) -> None:
        self.dismiss(None)
