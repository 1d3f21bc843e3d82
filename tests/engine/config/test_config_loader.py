"""Reading a file: anything but a regular file is refused without hanging or eating
memory; a stray byte costs its line a diagnostic, not the whole file; a BOM is not
part of line 1. `check` and the daemon's reloads read through the same loader."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.config.diagnostics import Severity
from engine.config.loader import MAX_BYTES, Unreadable, load, read_bytes
from engine.config.reload import load_complete

REPO = Path(__file__).resolve().parents[3]
SECRET = "S3cr3t-K3y-Zz"


def check(path: Path | str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", os.fsdecode(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def unreadable_reason(path: Path | str) -> str:
    config = load(path)
    (error,) = config.diagnostics
    assert error.source.line == 0 and error.severity is Severity.ERROR
    return error.message


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "fifo.conf"
    os.mkfifo(path)
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(unreadable_reason(path)), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader before failing, or the run hangs
        with open(path, "wb"):
            pass
        pytest.fail("load() blocked on a FIFO")
    assert found == ["cannot read the file: not a regular file (a FIFO)"]


def test_devices_and_directories_are_not_read(tmp_path: Path) -> None:
    assert unreadable_reason("/dev/zero") == (
        "cannot read the file: not a regular file (a character device)"
    )
    assert unreadable_reason(tmp_path) == "cannot read the file: not a regular file (a directory)"


def test_a_file_beyond_the_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.conf"
    with open(path, "wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: nothing written
    assert (
        unreadable_reason(path)
        == f"cannot read the file: larger than {MAX_BYTES:,} bytes; not read"
    )
    small = tmp_path / "small.conf"
    small.write_bytes(b"hostname x\n")
    assert read_bytes(small, limit=11) == b"hostname x\n"
    with pytest.raises(Unreadable, match="larger than 10 bytes"):
        read_bytes(small, limit=10)


def test_a_stray_byte_costs_its_line_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin1.conf"
    path.write_bytes(
        b"hostname hub\n"
        b"crypto isakmp peer address 192.0.2.9\n"
        b" description Caf\xe9 de Paris\n"
        b"interface eth0\n"
        b" ip address 192.0.2.1 255.255.255.0\n"
    )
    config = load(path)
    (problem,) = config.diagnostics
    assert problem.source.line == 3 and problem.severity is Severity.WARNING
    assert problem.message == "column 17: not valid UTF-8; the bad bytes read as U+FFFD"
    assert config.isakmp_peers["192.0.2.9"].description == "Caf\ufffd de Paris"
    assert config.hostname == "hub" and "eth0" in config.interfaces
    result = check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{path}:3: warning: column 17: not valid UTF-8" in result.stdout


def test_a_stray_byte_in_a_key_is_an_error(tmp_path: Path) -> None:
    """The key would silently not be the one the peer has."""
    path = tmp_path / "key.conf"
    path.write_bytes(
        b"crypto ikev2 keyring KR\n peer p\n  address 192.0.2.9\n"
        b"  pre-shared-key " + SECRET.encode() + b"\xff\n"
    )
    config = load(path)
    (error,) = config.errors
    assert error.source.line == 4
    assert error.message.startswith("column 31: not valid UTF-8 in a line that carries a secret")
    result = check(path)
    assert result.returncode == 1
    assert SECRET not in result.stdout + result.stderr


def test_a_bom_is_not_part_of_line_1(tmp_path: Path) -> None:
    path = tmp_path / "bom.conf"
    path.write_bytes(b"\xef\xbb\xbfhostname hub\n")
    config = load(path)
    assert config.hostname == "hub"
    assert config.diagnostics == []


def test_a_file_name_that_is_not_utf8_is_printed_not_a_traceback(tmp_path: Path) -> None:
    path = os.fsencode(tmp_path) + b"/caf\xe9.conf"
    with open(path, "wb") as file:
        file.write(b"hostname hub\n")
    result = check(path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith(": 0 errors, 0 warnings\n")


def test_a_reload_reads_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "gateway.conf"
    path.write_bytes(b"\xef\xbb\xbfhostname hub\ninterface eth0\n description Caf\xe9\nend\n")
    loaded = load_complete(path, load(path))
    assert loaded.model.hostname == "hub"
    assert [(w.source.line, w.severity) for w in loaded.warnings] == [(3, Severity.WARNING)]
