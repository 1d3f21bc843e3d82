"""The command line: the lab runs real negotiations; bad arguments get clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_lab_negotiates_and_shows_a_failure(tmp_path: Path) -> None:
    result = run(
        "--ike-port",
        "0",
        "--natt-port",
        "0",
        "--peers",
        "8",
        "--duration",
        "2",
        "--control",
        str(tmp_path / "lab.sock"),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    up = [line for line in out.splitlines() if "Crypto session is UP" in line]
    assert len(up) == 7, out
    assert all("fvrf=INTERNET ivrf=CORP Description: Lab branch routers" in line for line in up)
    assert "%CRYPTO-4-IKEV2_AUTH_FAILED: IKEv2 authentication failed. Peer 127.0.1.8:" in out
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
