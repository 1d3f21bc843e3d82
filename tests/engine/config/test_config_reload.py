"""Hot reload applies only a whole file, and parses it off the event loop.

The first 300 bytes of a running configuration (cut mid-line, the RADIUS key cut
short, no crypto map yet) are a valid configuration of their own; applying them would
tear every session down. A reload waits for the rest: the file must have settled, end
with a newline and, when the running one had `end`, have `end` too.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from netutil import free_port, until

import engine.service
from engine.config.diagnostics import ConfigError
from engine.config.loader import load
from engine.config.parser import parse_text
from engine.config.reload import INCOMPLETE, incomplete, load_complete
from engine.events import ConfigReloaded, ConfigReloadFailed
from engine.service import VpnService

FULL = """\
hostname hub
aaa new-model
aaa accounting network ACCT start-stop group radius
radius-server host 127.0.0.1 auth-port 9 acct-port 9 key A-Long-Radius-Key-0123456789
crypto ikev2 keyring KR
 peer site-b
  description {description}
  address 127.0.0.2
  pre-shared-key shared-key-1
crypto ikev2 profile P
 match identity remote address 127.0.0.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KR
 aaa accounting psk ACCT
crypto ipsec transform-set TS esp-gcm 256
crypto dynamic-map DYN 10
 set transform-set TS
 set ikev2-profile P
crypto map WAN 10 ipsec-isakmp dynamic DYN
interface lo
 ip address 127.0.0.1 255.0.0.0
 crypto map WAN
end
"""
#: cut inside the RADIUS key, before any crypto map
CUT = FULL.index("Radius-Key")


def full(description: str = "Site B") -> str:
    return FULL.format(description=description)


def test_the_cut_file_is_a_clean_configuration_of_its_own(tmp_path: Path) -> None:
    """What made the reload dangerous: nothing but its end says the file is cut."""
    path = tmp_path / "cut.conf"
    path.write_text(full()[:CUT], encoding="utf-8")
    model = load(path)
    assert model.errors == [] and model.crypto_maps == {}
    assert model.radius_servers[0].key is not None


@pytest.mark.parametrize(
    "text, reason",
    [
        (full()[:CUT], "line 4 has no newline: the file ends mid-line"),
        (full().replace("end\n", ""), "it has no 'end' line, and the running configuration"),
        ("", "it is empty"),
    ],
)
def test_an_incomplete_file_is_refused_with_its_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "gateway.conf"
    path.write_text(full(), encoding="utf-8")
    running = load(path)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_complete(path, running)
    (problem,) = caught.value.diagnostics
    assert str(problem).startswith(f"{path}:")
    assert problem.message.startswith(f"{INCOMPLETE}: {reason}")


def test_complete_files_pass() -> None:
    running = parse_text(full(), "g.conf")
    assert incomplete(parse_text(full("Renamed"), "g.conf"), running) is None
    # no `end` is fine when the running file had none either (hand-written files)
    no_end = full().replace("end\n", "")
    assert incomplete(parse_text(no_end, "g.conf"), parse_text(no_end, "g.conf")) is None
    # whatever follows `end` is not configuration: a cut after it is no cut
    assert incomplete(parse_text(full() + "! trailing com", "g.conf"), running) is None


class Gateway:
    """A started VpnService on loopback watching its file, and the events it publishes."""

    def __init__(self, tmp_path: Path, *, watch: bool = True) -> None:
        self.path = tmp_path / "gateway.conf"
        self.path.write_text(full(), encoding="utf-8")
        self.service = VpnService(
            self.path,
            bind="127.0.0.1",
            ike_port=free_port(),
            natt_port=free_port(),
            dataplane=None,
            watch=watch,
            state_dir=tmp_path,  # its own accounting spool: one daemon per spool
        )
        self.events: list[object] = []
        self.service.gateway.subscribe(self.events.append)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def __aenter__(self) -> Gateway:
        await self.service.start()
        watcher = self.service._watcher
        if watcher is not None:
            await asyncio.wait_for(watcher.ready.wait(), 10)  # watching before the edits
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.service.stop()


async def test_a_half_written_file_is_not_applied_until_it_is_whole(tmp_path: Path) -> None:
    async with Gateway(tmp_path) as gateway:
        before = gateway.service.compiled
        assert before.meta  # the dynamic map has its peer
        gateway.path.write_text(full("Renamed")[:CUT], encoding="utf-8")
        await until(lambda: gateway.of(ConfigReloadFailed), timeout=10)
        (failed,) = gateway.of(ConfigReloadFailed)
        (error,) = failed.errors
        assert error.startswith(f"{gateway.path}:4: error: {INCOMPLETE}")
        assert gateway.service.compiled is before
        assert not gateway.of(ConfigReloaded)

        gateway.path.write_text(full("Renamed"), encoding="utf-8")
        await until(lambda: gateway.of(ConfigReloaded), timeout=10)
        (reloaded,) = gateway.of(ConfigReloaded)
        assert reloaded.summary == tuple(
            f"peer {n} description/labels changed" for n in before.meta
        )
        assert {m.description for m in gateway.service.compiled.meta.values()} == {"Renamed"}


async def test_the_watcher_parses_in_a_worker_thread(tmp_path: Path, monkeypatch) -> None:
    """The load waits for the event loop to move on; on the loop it could not."""
    loop_thread = threading.get_ident()
    parsed_on: list[int] = []
    go_on = threading.Event()
    real = engine.service.load_complete

    def slow_load(*args: object, **kwargs: object) -> object:
        parsed_on.append(threading.get_ident())
        assert go_on.wait(10), "the event loop did not run while the file was parsed"
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.service, "load_complete", slow_load)
    async with Gateway(tmp_path) as gateway:
        gateway.path.write_text(full("Renamed"), encoding="utf-8")
        await until(lambda: parsed_on, timeout=10)  # the loop runs while it parses
        assert parsed_on[0] != loop_thread
        assert not gateway.of(ConfigReloaded)
        asyncio.get_running_loop().call_soon(go_on.set)
        await until(lambda: gateway.of(ConfigReloaded), timeout=10)
        assert {m.description for m in gateway.service.compiled.meta.values()} == {"Renamed"}


async def test_reload_now_is_still_there(tmp_path: Path) -> None:
    """`reload()` does it all before it returns (tests, tools)."""
    async with Gateway(tmp_path, watch=False) as gateway:
        gateway.path.write_text(full()[:CUT], encoding="utf-8")
        event = gateway.service.reload()
        assert isinstance(event, ConfigReloadFailed) and INCOMPLETE in event.errors[0]
        assert gateway.service.last_reload is event
        gateway.path.write_text(full("Now"), encoding="utf-8")
        assert isinstance(gateway.service.reload(), ConfigReloaded)
        assert {m.description for m in gateway.service.compiled.meta.values()} == {"Now"}


XSM = """\
username viewer privilege 5 secret 0 V1ewer-Passw0rd
ip http server
ip http port {port}
xsm vdm
xsm privilege monitor level 5
"""


async def test_a_reload_applies_ip_http_and_xsm_changes(tmp_path: Path) -> None:
    async with Gateway(tmp_path, watch=False) as gateway:
        assert not gateway.service.compiled.xsm.serving
        gateway.path.write_text(full().replace("end\n", XSM.format(port=8080) + "end\n"))
        event = gateway.service.reload()
        assert isinstance(event, ConfigReloaded)
        (line,) = [s for s in event.summary if s.startswith("xsm settings changed: ")]
        changed = set(line.removeprefix("xsm settings changed: ").split(", "))
        assert {"http_server", "http_port", "enabled", "vdm", "monitor_level", "users"} <= changed
        settings = gateway.service.compiled.xsm
        assert settings.serving and settings.http_port == 8080 and not settings.edm
        assert settings.user("viewer") is not None

        gateway.path.write_text(full().replace("end\n", XSM.format(port=8081) + "end\n"))
        event = gateway.service.reload()
        assert isinstance(event, ConfigReloaded)
        assert "xsm settings changed: http_port" in event.summary
        assert gateway.service.compiled.xsm.http_port == 8081

        gateway.path.write_text(full().replace("end\n", XSM.format(port=8081) + "no xsm\nend\n"))
        event = gateway.service.reload()
        assert "xsm settings changed: enabled, vdm" in event.summary
        assert not gateway.service.compiled.xsm.serving
