"""The command line: the lab runs real negotiations; bad arguments get clear errors."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_lab_negotiates_and_shows_a_failure() -> None:
    result = run("--ike-port", "0", "--natt-port", "0", "--peers", "3", "--duration", "1.5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("IKE SA up") == 2
    assert out.count("IPsec SA up") == 2
    assert "auth failed      peer 127.0.1.3" in out
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_refused_without_a_traceback() -> None:
    for args in (
        ["--ike-port", "99999"],
        ["--ike-port", "abc"],
        ["--peers", "0"],
        ["--no-such-option"],
    ):
        result = run(*args)
        assert result.returncode == 2, args
        assert "ipsec-console" in result.stderr and "Traceback" not in result.stderr
