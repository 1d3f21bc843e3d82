"""The `ipsec-console` command: the engine's command line, with the full-screen console.

The engine cannot import the console (a rule of the house), so this entry point hands
the console to the engine's command line as a coroutine to run over a started gateway.
"""

from __future__ import annotations

import sys

from engine import cli


async def _console(target: object, theme: str | None) -> None:
    from tui.app import run_console

    await run_console(target, theme=theme)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    theme = _option(argv, "--theme")
    if theme is not None:
        from tui.themes import resolve

        try:
            resolve(theme)
        except ValueError as err:
            print(f"ipsec-console: {err}", file=sys.stderr)
            return 2
    return cli.main(argv, console=_console)


def _option(argv: list[str], name: str) -> str | None:
    for i, word in enumerate(argv):
        if word == name and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
