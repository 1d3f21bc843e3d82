"""A private FreeRADIUS for interop tests, run from a temp copy of /etc/freeradius/3.0.

The copy gets its own log, run and accounting directories, no user/group switch, no
proxying, no EAP (so no inner-tunnel on its fixed port 18120), one client (127.0.0.1 with
the test's secret) and a `default` server listening on 127.0.0.1 that writes every
Accounting-Request into one detail file, and authenticates the users of the test's
users file (`users`, FreeRADIUS's `files` format) by PAP, answering an Access-Reject
at once (no `reject_delay`). It runs in the foreground (`-f -l stdout`) and
is stopped by its own PID, so the system's FreeRADIUS (if any) is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_CONFIG = Path("/etc/freeradius/3.0")
READY = "Ready to process requests"

SITE = """\
server default {{
listen {{
	type = auth
	ipaddr = 127.0.0.1
	port = {auth_port}
}}
listen {{
	type = acct
	ipaddr = 127.0.0.1
	port = {acct_port}
}}
authorize {{
	files
	pap
}}
authenticate {{
	Auth-Type PAP {{
		pap
	}}
}}
preacct {{
	preprocess
	acct_unique
}}
accounting {{
	detail
	ok
}}
}}
"""

CLIENTS = """\
client interop {{
	ipaddr = 127.0.0.1
	secret = {secret}
	require_message_authenticator = no
	nas_type = cisco
}}
"""

DETAIL = """\
detail {{
	filename = {path}
	escape_filenames = no
	permissions = 0600
	header = "%t"
}}
"""


GATEWAY_CONFIG = """\
hostname {hostname}
aaa new-model
aaa accounting network ACCT start-stop group radius
{update}aaa session-id common
radius-server host 127.0.0.1 auth-port {auth} acct-port {acct} key {key}
{more}radius-server vsa send accounting
ip vrf CORP
crypto ikev2 keyring KEYS
 peer B
  address 10.0.0.2
  pre-shared-key peer-key
crypto ikev2 profile PROF
 match identity remote address 10.0.0.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
 ivrf CORP
 aaa accounting psk ACCT
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended TO-B
 permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255
crypto map WAN 10 ipsec-isakmp
 set peer 10.0.0.2
 set transform-set TS
 set ikev2-profile PROF
 match address TO-B
interface GigabitEthernet1
 ip address 10.0.0.1 255.255.255.0
 crypto map WAN
"""


def gateway_config(
    acct_port: int,
    key: str,
    *,
    auth_port: int = 1812,
    hostname: str = "gw",
    interim_minutes: int | None = None,
    more: str = "",
) -> str:
    """A gateway accounting one peer's sessions to the RADIUS server at `acct_port`;
    `more`: lines after the first radius-server host (more hosts for the group)."""
    update = f"aaa accounting update periodic {interim_minutes}\n" if interim_minutes else ""
    return GATEWAY_CONFIG.format(
        hostname=hostname, update=update, auth=auth_port, acct=acct_port, key=key, more=more
    )


def binary() -> str | None:
    return shutil.which("freeradius") or shutil.which("radiusd")


def _replace_link(path: Path, text: str) -> None:
    """sites-enabled/ and mods-enabled/ hold symlinks: write a file in their place."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_text(text)
    path.chmod(0o640)


def _set(text: str, name: str, value: str) -> str:
    pattern = re.compile(rf"^(\s*){re.escape(name)}\s*=.*$", re.MULTILINE)
    assert pattern.search(text), name
    return pattern.sub(lambda m: f"{m.group(1)}{name} = {value}", text, count=1)


@dataclass
class FreeRadius:
    """One private server: `start()`, `stop()`, `records()` from its detail file."""

    workdir: Path
    auth_port: int
    acct_port: int
    secret: str
    #: the users file: `"joe" Cleartext-Password := "..."` and its reply attributes
    users: str = ""
    #: a network namespace to run in (the gateway's, in the strongSwan interop tests)
    netns: str | None = None
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def raddb(self) -> Path:
        return self.workdir / "raddb"

    @property
    def detail(self) -> Path:
        return self.workdir / "radacct" / "detail"

    @property
    def log_file(self) -> Path:
        return self.workdir / "freeradius.log"

    def configure(self) -> None:
        if self.raddb.exists():
            shutil.rmtree(self.raddb)
        shutil.copytree(SYSTEM_CONFIG, self.raddb, symlinks=True)
        for sub in ("log", "run", "radacct"):
            (self.workdir / sub).mkdir(exist_ok=True)
        conf = (self.raddb / "radiusd.conf").read_text()
        conf = _set(conf, "raddbdir", str(self.raddb))
        conf = _set(conf, "logdir", str(self.workdir / "log"))
        conf = _set(conf, "run_dir", str(self.workdir / "run"))
        conf = _set(conf, "radacctdir", str(self.workdir / "radacct"))
        conf = _set(conf, "proxy_requests", "no")
        conf = _set(conf, "reject_delay", "0")
        conf = re.sub(r"^(\s*)(user|group)\s*=", r"\1#\2 =", conf, flags=re.MULTILINE)
        (self.raddb / "radiusd.conf").write_text(conf)
        # Accounting needs no EAP: without the eap module (and inner-tunnel, which uses it)
        # the server starts whether or not the machine has the snakeoil certificate.
        (self.raddb / "mods-enabled" / "eap").unlink(missing_ok=True)
        (self.raddb / "sites-enabled" / "inner-tunnel").unlink(missing_ok=True)
        _replace_link(
            self.raddb / "sites-enabled" / "default",
            SITE.format(auth_port=self.auth_port, acct_port=self.acct_port),
        )
        _replace_link(self.raddb / "clients.conf", CLIENTS.format(secret=self.secret))
        _replace_link(self.raddb / "mods-enabled" / "detail", DETAIL.format(path=self.detail))
        _replace_link(self.raddb / "mods-config" / "files" / "authorize", self.users)
        # FreeRADIUS refuses world-writable configuration
        for root, dirs, files in os.walk(self.raddb):
            for name in dirs + files:
                path = Path(root) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode & ~0o002)

    def start(self, timeout: float = 10.0) -> None:
        exe = binary()
        assert exe is not None
        log = self.log_file.open("a")
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        self.process = subprocess.Popen(
            [*prefix, exe, "-f", "-l", "stdout", "-d", str(self.raddb)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while READY not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"freeradius exited with {self.process.returncode}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"freeradius not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.02)
        # the log is appended to across restarts: the next start waits for a new line
        self.output.append(self.log())
        self.log_file.write_text("")

    def stop(self) -> int | None:
        """SIGTERM by PID; the return code (0 on a clean exit)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(5)

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def records(self) -> list[dict[str, list[str]]]:
        """The detail file's entries: attribute name -> values (quotes removed)."""
        if not self.detail.exists():
            return []
        entries: list[dict[str, list[str]]] = []
        current: dict[str, list[str]] | None = None
        for line in self.detail.read_text().splitlines():
            if not line.strip():
                current = None
                continue
            if not line[0].isspace():
                current = {}
                entries.append(current)
                continue
            name, _, value = line.strip().partition(" = ")
            if current is not None:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                current.setdefault(name, []).append(value)
        return entries


def launch(
    workdir: Path, secret: str, *, start: bool = True, users: str = "", netns: str | None = None
) -> FreeRadius:
    """A configured server on free loopback ports in `workdir` (made here), started
    unless `start` is false, authenticating the entries of `users`. The caller stops it
    (`stop()`, by PID)."""
    ports = []
    for _ in range(2):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
    radius = FreeRadius(
        workdir, auth_port=ports[0], acct_port=ports[1], secret=secret, users=users, netns=netns
    )
    workdir.mkdir(parents=True, exist_ok=True)
    radius.configure()
    if start:
        radius.start()
    return radius
