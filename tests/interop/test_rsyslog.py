"""SyslogForwarder against a real rsyslogd: what a collector parses is what IOS would send.

rsyslogd runs in the foreground with a private config: imudp on a free
loopback port, one ruleset writing each received message as a JSON line
(parsed header fields plus the raw datagram) into the test's temp dir, and
no other inputs or outputs, so the system's logging is never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from interop.conftest import free_udp_port, require, udp_bound, wait_until

from engine import syslog
from engine.syslog import LogEntry, SyslogForwarder

Record = dict[str, str]

# outname -> rsyslog property; each becomes a JSON string field of the output line
FIELDS = {
    "hostname": "hostname",
    "severity": "syslogseverity",
    "facility": "syslogfacility",
    "appname": "app-name",
    "procid": "procid",
    "msgid": "msgid",
    "version": "protocol-version",
    "msg": "msg",
    "rawmsg": "rawmsg",
}


def rsyslog_config(workdir: Path, port: int, output: Path) -> str:
    # A hand-built JSON list template: option.jsonf cannot end a record with a newline.
    parts: list[str] = []
    sep = "{"
    for outname, prop in FIELDS.items():
        parts.append(f'  constant(value="{sep}\\"{outname}\\":\\"")')
        parts.append(f'  property(name="{prop}" format="json")')
        sep = '\\",'
    parts.append('  constant(value="\\"}\\n")')
    template = "\n".join(parts)
    return f"""\
global(workDirectory="{workdir}" net.enableDNS="off")
module(load="imudp")
template(name="capture" type="list") {{
{template}
}}
ruleset(name="capture") {{
  action(type="omfile" file="{output}" template="capture")
}}
input(type="imudp" address="127.0.0.1" port="{port}" ruleset="capture")
"""


@dataclass
class Rsyslogd:
    port: int
    output: Path
    log: Path

    def records(self) -> list[Record]:
        if not self.output.exists():
            return []
        lines = self.output.read_text(encoding="utf-8").splitlines(keepends=True)
        return [json.loads(line) for line in lines if line.endswith("\n")]

    def wait_for(self, predicate: Callable[[list[Record]], bool], what: str) -> list[Record]:
        wait_until(lambda: predicate(self.records()), 10.0, f"rsyslogd to write {what}")
        return self.records()

    def from_host(self, hostname: str, count: int) -> list[Record]:
        """Wait for `count` records from `hostname`, then return all of them."""

        def mine(records: list[Record]) -> list[Record]:
            return [r for r in records if r["hostname"] == hostname]

        return mine(self.wait_for(lambda rs: len(mine(rs)) >= count, f"{count} from {hostname}"))


def find_rsyslogd() -> str | None:
    return shutil.which("rsyslogd") or shutil.which("rsyslogd", path="/usr/sbin:/sbin")


@pytest.fixture(scope="module")
def rsyslogd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rsyslogd]:
    binary = find_rsyslogd()
    require(binary, "rsyslogd not installed (apt-get install rsyslog)")
    assert binary is not None
    workdir = tmp_path_factory.mktemp("rsyslog")
    port = free_udp_port()
    daemon = Rsyslogd(port, workdir / "received.jsonl", workdir / "rsyslogd.log")
    conf = workdir / "rsyslog.conf"
    conf.write_text(rsyslog_config(workdir, port, daemon.output))
    with daemon.log.open("wb") as log:
        proc = subprocess.Popen(
            [binary, "-n", "-f", str(conf), "-i", str(workdir / "rsyslogd.pid")],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"rsyslogd exited with {proc.returncode}: {daemon.log.read_text()}")
            return udp_bound(port)

        wait_until(ready, 10.0, f"rsyslogd to bind 127.0.0.1:{port}")
        yield daemon
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spec_entry(up: bool) -> LogEntry:
    build = syslog.session_up if up else syslog.session_down
    return build(
        "10.6.6.1",
        500,
        fvrf="name10",
        ivrf="name20",
        description="SJC24-2-VPN-Gateway",
        phase1_id="10.5.5.2",
        at=time.time(),
    )


SPEC_TAIL = (
    "Peer 10.6.6.1:500 fvrf=name10 ivrf=name20 Description: SJC24-2-VPN-Gateway Id: 10.5.5.2"
)


@pytest.mark.parametrize("fmt", ["rfc5424", "rfc3164"])
async def test_session_up_and_down_reach_rsyslog(rsyslogd: Rsyslogd, fmt: syslog.Format) -> None:
    hostname = f"vpn-gw-{fmt}"
    up, down = spec_entry(True), spec_entry(False)
    fwd = SyslogForwarder([("127.0.0.1", rsyslogd.port)], hostname=hostname, fmt=fmt)
    await fwd.start()
    try:
        assert fwd.send(up)
        assert fwd.send(down)
        sent = [fwd.format(up).decode(), fwd.format(down).decode()]
        records = rsyslogd.from_host(hostname, 2)
    finally:
        await fwd.close()

    assert [r["rawmsg"] for r in records] == sent
    assert [r["severity"] for r in records] == ["5", "5"]
    assert [r["facility"] for r in records] == ["23", "23"]  # local7
    assert {r["appname"] for r in records} == {"ipsec-console"}
    lines = [
        f"%CRYPTO-5-SESSION_STATUS: Crypto session is UP. {SPEC_TAIL}",
        f"%CRYPTO-5-SESSION_STATUS: Crypto session is DOWN. {SPEC_TAIL}",
    ]
    if fmt == "rfc5424":
        assert [r["msg"] for r in records] == lines
        assert {r["version"] for r in records} == {"1"}
        assert {r["msgid"] for r in records} == {"SESSION_STATUS"}
    else:
        # rsyslog's RFC 3164 parser keeps the space that follows "TAG:" in msg
        assert [r["msg"] for r in records] == [f" {line}" for line in lines]
        assert {r["version"] for r in records} == {"0"}
    assert fwd.stats["sent"] == 2
    assert fwd.stats["send_error"] == 0


async def test_trap_level_keeps_verbose_lines_off_the_wire(rsyslogd: Rsyslogd) -> None:
    hostname = "vpn-gw-trap"
    fwd = SyslogForwarder([("127.0.0.1", rsyslogd.port)], hostname=hostname)
    await fwd.start()
    try:
        assert not fwd.send(syslog.entry("CRYPTO", 7, "DEBUG_TRACE", "must not arrive"))
        assert fwd.send(syslog.entry("CRYPTO", 6, "INFO_MARK", "informational arrives"))
        fwd.update(fwd.hosts, trap_level=syslog.parse_trap_level("warnings"))
        assert not fwd.send(spec_entry(True))
        assert fwd.send(syslog.auth_failed("10.6.6.1", 500, "branch7", "PSK mismatch"))
        # the last datagram arriving means the earlier ones would have arrived too
        records = rsyslogd.from_host(hostname, 2)
    finally:
        await fwd.close()
    assert [r["severity"] for r in records] == ["6", "4"]
    assert [r["msgid"] for r in records] == ["INFO_MARK", "IKEV2_AUTH_FAILED"]
    assert records[1]["msg"] == (
        "%CRYPTO-4-IKEV2_AUTH_FAILED: IKEv2 authentication failed. Peer 10.6.6.1:500 "
        "Id: branch7 Reason: PSK mismatch"
    )
    assert fwd.stats["filtered"] == 2


@pytest.mark.parametrize("fmt", ["rfc5424", "rfc3164"])
async def test_utf8_description_arrives_intact(rsyslogd: Rsyslogd, fmt: syslog.Format) -> None:
    hostname = f"vpn-gw-utf8-{fmt}"
    up = syslog.session_up("10.7.7.1", 4500, description="Zürich Außenstelle", phase1_id="zrh")
    fwd = SyslogForwarder([("127.0.0.1", rsyslogd.port)], hostname=hostname, fmt=fmt)
    await fwd.start()
    try:
        fwd.send(up)
        (record,) = rsyslogd.from_host(hostname, 1)
    finally:
        await fwd.close()
    assert record["msg"].lstrip(" ") == (
        "%CRYPTO-5-SESSION_STATUS: Crypto session is UP. Peer 10.7.7.1:4500 "
        "Description: Zürich Außenstelle Id: zrh"
    )
