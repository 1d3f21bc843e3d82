"""The console's themes, and where their stylesheets are found.

The colours are `textual.theme.Theme` objects defined here, in the `tui` package, because
that is what an installed wheel certainly ships (the project packages `engine*` and
`tui*` only). Each theme may have a stylesheet of refinements, `themes/<name>.tcss` at
the top of the checkout, scoped to that theme by the `-theme-<name>` class Textual puts
on the App. The stylesheets are looked up, in order, in `$IPSEC_CONSOLE_THEMES`, next to
the package (a checkout or an editable install) and in `<prefix>/share/ipsec-console/
themes` (where a wheel's data files would go); when none is found the themes still work,
with their colours only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from textual.theme import Theme

#: Theme variables the console adds to Textual's; every theme gets these defaults, so a
#: built-in Textual theme picked from the command palette still colours session status.
VARIABLE_DEFAULTS: dict[str, str] = {
    "status-up-active": "#4EBF71",
    "status-up-idle": "#E5C07B",
    "status-up-no-ike": "#FF9F43",
    "status-down-negotiating": "#56B6C2",
    "status-down": "#E06C75",
}

DARK = Theme(
    name="ipsec-dark",
    primary="#2A9DF4",
    secondary="#1B5E8C",
    accent="#FFA62B",
    warning="#FFA62B",
    error="#E06C75",
    success="#4EBF71",
    foreground="#DCDFE4",
    background="#0F1419",
    surface="#161C23",
    panel="#1F2933",
    dark=True,
    variables=dict(VARIABLE_DEFAULTS),
)

LIGHT = Theme(
    name="ipsec-light",
    primary="#005FB8",
    secondary="#3A6EA5",
    accent="#B35900",
    warning="#9A6700",
    error="#CF222E",
    success="#1A7F37",
    foreground="#1F2328",
    background="#F6F8FA",
    surface="#FFFFFF",
    panel="#E6EBF1",
    dark=False,
    variables={
        "status-up-active": "#1A7F37",
        "status-up-idle": "#9A6700",
        "status-up-no-ike": "#BC4C00",
        "status-down-negotiating": "#0A7EA4",
        "status-down": "#CF222E",
    },
)

GREEN = Theme(
    name="ipsec-green",
    primary="#33FF33",
    secondary="#1F9F1F",
    accent="#B8FF33",
    warning="#FFB000",
    error="#FF5555",
    success="#33FF33",
    foreground="#33FF33",
    background="#000000",
    surface="#000000",
    panel="#0A1F0A",
    dark=True,
    variables={
        "status-up-active": "#33FF33",
        "status-up-idle": "#B8FF33",
        "status-up-no-ike": "#FFB000",
        "status-down-negotiating": "#66FFCC",
        "status-down": "#FF5555",
    },
)

THEMES: dict[str, Theme] = {theme.name: theme for theme in (DARK, LIGHT, GREEN)}
DEFAULT_THEME = DARK.name

#: Short names accepted wherever a theme is named (`--theme green`).
ALIASES: dict[str, str] = {"dark": DARK.name, "light": LIGHT.name, "green": GREEN.name}


def resolve(name: str | None, available: dict[str, Theme] | None = None) -> str:
    """The registered name for `name` (an alias, a console theme or any Textual theme)."""
    if name is None:
        return DEFAULT_THEME
    wanted = ALIASES.get(name.lower(), name)
    known = available if available is not None else THEMES
    if wanted not in known:
        choices = ", ".join(sorted({*ALIASES, *known}))
        raise ValueError(f"unknown theme {name!r}; choose one of: {choices}")
    return wanted


def stylesheet_dirs() -> list[Path]:
    """Where theme stylesheets may be, most specific first."""
    dirs = []
    override = os.environ.get("IPSEC_CONSOLE_THEMES")
    if override:
        dirs.append(Path(override))
    dirs.append(Path(__file__).resolve().parent.parent / "themes")
    dirs.append(Path(sys.prefix) / "share" / "ipsec-console" / "themes")
    return dirs


def stylesheets(dirs: list[Path] | None = None) -> list[Path]:
    """The theme stylesheets of the first directory that has any; [] when none does.

    Only files named after a console theme count, so an unrelated `themes` folder next
    to the package (site-packages is shared) is never picked up.
    """
    for folder in stylesheet_dirs() if dirs is None else dirs:
        found = sorted(
            path for path in folder.glob("*.tcss") if path.stem in THEMES and path.is_file()
        )
        if found:
            return found
    return []
