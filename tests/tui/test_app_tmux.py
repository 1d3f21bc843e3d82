"""The console as a person meets it: `ipsec-console` (the lab) in a real terminal (tmux),
read with capture-pane and driven with send-keys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from interop.conftest import require

PROJECT = Path(__file__).resolve().parents[2]


def tmux(*args: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", "ipsec-console-test", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return done.stdout


def screen_shows(text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "console")
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


def test_lab_console_in_a_real_terminal(tmp_path: Path) -> None:
    require(shutil.which("tmux") is not None, "tmux not installed (apt-get install tmux)")
    command = (
        f"cd {PROJECT} && {sys.executable} -m tui.launch --ike-port 0 --natt-port 0 "
        f"--peers 8 --control {tmp_path / 'lab.sock'}"
    )
    tmux("new-session", "-d", "-s", "console", "-x", "160", "-y", "45", command)
    try:
        screen = screen_shows("7 crypto sessions  UP-ACTIVE 7")
        assert "Lab branch routers" in screen and "127.0.1.1:" in screen
        # clear the selected session with keys: it goes, and the branch brings it back
        tmux("send-keys", "-t", "console", "C-d")
        screen_shows("Clear")
        tmux("send-keys", "-t", "console", "y")
        screen_shows("UP-ACTIVE 6", timeout=5)
        screen_shows("7 crypto sessions  UP-ACTIVE 7")
        tmux("send-keys", "-t", "console", "d")
        screen = screen_shows("Session status: UP-ACTIVE")
        assert "IPSEC FLOW: permit ip 10.0.0.0/255.255.0.0 10.10" in screen
        tmux("send-keys", "-t", "console", "Escape")
        time.sleep(0.5)  # else the terminal reads Escape and ':' as one alt-key sequence
        screen_shows("crypto sessions")
        tmux("send-keys", "-t", "console", ":")
        time.sleep(0.3)
        tmux("send-keys", "-t", "console", "syslog", "Enter")
        screen = screen_shows("%CRYPTO-4-IKEV2_AUTH_FAILED")
        assert "SESSION_CLEARED" in screen or "cleared by console" in screen
        tmux("send-keys", "-t", "console", "C-q")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "console" in tmux("ls"):
            time.sleep(0.2)
        assert "console" not in tmux("ls"), "the console did not exit on ctrl+q"
    finally:
        tmux("kill-server")
