"""`python -m engine.cli check FILE`: compiler-style output and exit codes 0 / 1 / 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tls_files import certificate, key_pem

REPO = Path(__file__).resolve().parents[3]
SAMPLES = sorted((REPO / "sample-configs").glob("*.conf"))
LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<severity>error|warning): (?P<message>.+)$")

CLEAN = """\
hostname clean
crypto ikev2 keyring KR
 peer p
  address 198.51.100.7
  pre-shared-key k
crypto ikev2 profile P
 keyring local KR
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended A
 permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255
crypto map M 10 ipsec-isakmp
 set peer 198.51.100.7
 set transform-set TS
 set ikev2-profile P
 match address A
interface eth0
 ip address 192.0.2.1 255.255.255.0
 crypto map M
"""


def check(path: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, text: str, name: str = "router.conf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_file_exits_0(tmp_path) -> None:
    path = write(tmp_path, CLEAN)
    result = check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{path}: 0 errors, 0 warnings"]
    assert result.stderr == ""


def test_warnings_only_exit_0(tmp_path) -> None:
    path = write(tmp_path, CLEAN + "ip route 0.0.0.0 0.0.0.0 192.0.2.254\nntp server 192.0.2.1\n")
    result = check(path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{path}: 0 errors, 2 warnings"
    parsed = [LINE.match(line) for line in lines[:-1]]
    assert all(parsed), lines
    assert [(m["file"], m["line"], m["severity"]) for m in parsed] == [
        (str(path), "19", "warning"),
        (str(path), "20", "warning"),
    ]
    # a global command after the interface left it: no mode is named; the host routes it
    assert [m["message"] for m in parsed] == [
        "ignored: ip route 0.0.0.0 0.0.0.0 192.0.2.254: not into a tunnel interface "
        "(the host's own routing table carries it)",
        "ignored: not supported: ntp server 192.0.2.1",
    ]


def test_errors_exit_1_and_name_file_and_line(tmp_path) -> None:
    text = CLEAN.replace(" set transform-set TS", " set transform-set TS9")
    text += "crypto isakmp peer address 198.51.100.7\n description " + "x" * 81 + "\n"
    text += "line vty 0 4\n"
    path = write(tmp_path, text)
    result = check(path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{path}:13: error: transform-set TS9 does not exist" in lines
    assert f"{path}:20: error: description is 81 characters; at most 80" in lines
    assert f"{path}:21: warning: ignored: not supported: line vty 0 4" in lines
    assert lines[-1] == f"{path}: 2 errors, 1 warning"


def test_diagnostics_are_sorted_by_line(tmp_path) -> None:
    text = "bogus one\n" + CLEAN.replace(" keyring local KR", " keyring local NOPE") + "bogus two\n"
    path = write(tmp_path, text)
    result = check(path)
    assert result.returncode == 1
    numbers = [int(m["line"]) for m in map(LINE.match, result.stdout.splitlines()[:-1]) if m]
    assert numbers == sorted(numbers)
    assert numbers[0] == 1 and numbers[-1] == len(text.splitlines())


def test_singular_counts(tmp_path) -> None:
    path = write(tmp_path, "hostname x\ncrypto ikev2 profile P\n bogus\n")
    result = check(path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == f"{path}: 1 error, 1 warning"


@pytest.mark.parametrize("what", ["missing", "directory", "fifo"])
def test_unreadable_file_exits_2(tmp_path, what: str) -> None:
    path = tmp_path / "gone.conf"
    if what == "directory":
        path.mkdir()
    elif what == "fifo":
        os.mkfifo(path)
    result = check(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("ipsec-console: cannot read the file")
    assert str(path) in result.stderr


def test_missing_argument_is_a_usage_error() -> None:
    result = check("")
    assert result.returncode == 2  # an empty path is a directory: unreadable
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "usage" in result.stderr


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_configs_have_no_errors(path: Path) -> None:
    result = check(path.relative_to(REPO))
    assert result.returncode == 0, result.stdout
    assert re.search(r": 0 errors, \d+ warnings?$", result.stdout.splitlines()[-1])


def test_there_are_sample_configs() -> None:
    assert len(SAMPLES) >= 3


XSM_LINES = """\
username admin privilege 15 secret 0 Adm1n-Passw0rd
access-list 10 permit 192.0.2.0 0.0.0.255
ip http server
ip http port 8080
ip http access-class ipv4 10
ip http authentication local
ip http secure-server
ip http secure-port 8443
ip http secure-trustpoint TP
ip http max-connections 10
ip http timeout-policy idle 60 life 86400 requests 10000
xsm
xsm vdm
xsm edm
xsm history vdm
xsm history edm
xsm privilege monitor level 5
xsm privilege configuration level 15
"""


def test_ip_http_and_xsm_lines_check_clean(tmp_path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    path = write(tmp_path, CLEAN + XSM_LINES)
    result = check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not supported" not in result.stdout
    assert result.stdout.splitlines() == [f"{path}: 0 errors, 0 warnings"]


def test_ip_http_lines_of_a_router_config_check_clean(tmp_path) -> None:
    router = "no ip http server\nip http authentication local\nno ip http secure-server\n"
    path = write(tmp_path, CLEAN + router)
    result = check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{path}: 0 errors, 0 warnings"]


def test_a_mismatched_trustpoint_fails_the_check_on_its_line(tmp_path) -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "TP.pem").write_bytes(certificate(key) + key_pem(other))
    path = write(tmp_path, CLEAN + XSM_LINES)
    result = check(path)
    assert result.returncode == 1
    line = CLEAN.count("\n") + XSM_LINES.splitlines().index("ip http secure-trustpoint TP") + 1
    assert f"{path}:{line}: error: ip http secure-trustpoint: " in result.stdout
