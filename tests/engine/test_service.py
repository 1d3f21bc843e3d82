"""The configured gateway: static entries come up by themselves, and hot reload applies
edits, survives broken files, and clears sessions whose peer was removed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from netutil import free_port, until
from site_configs import SITE_A, SITE_B

from engine.events import (
    ConfigReloaded,
    ConfigReloadFailed,
    DownReason,
    IkeSaDown,
    IkeSaUp,
)
from engine.service import VpnService


class Pair:
    def __init__(self, tmp_path: Path, description: str = "Site B primary") -> None:
        self.path_a = tmp_path / "a" / "gateway.conf"
        self.path_b = tmp_path / "b" / "gateway.conf"
        self.path_a.parent.mkdir()
        self.path_b.parent.mkdir()
        self.path_a.write_text(SITE_A.format(description=description, key="shared-key-1"))
        self.path_b.write_text(SITE_B.format(key="shared-key-1"))
        ike, natt = free_port(), free_port()
        self.a = VpnService(
            self.path_a, bind="127.0.0.1", ike_port=ike, natt_port=natt, dataplane=None
        )
        self.b = VpnService(
            self.path_b, bind="127.0.0.2", ike_port=ike, natt_port=natt, dataplane=None
        )
        self.events_a: list[object] = []
        self.events_b: list[object] = []
        self.a.gateway.subscribe(self.events_a.append)
        self.b.gateway.subscribe(self.events_b.append)

    async def __aenter__(self) -> Pair:
        await self.b.start()
        await self.a.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.a.stop()
        await self.b.stop()

    def of(self, events: list[object], kind: type) -> list:
        return [e for e in events if isinstance(e, kind)]


async def test_static_entry_comes_up_by_itself(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_b, IkeSaUp))
        (up,) = pair.of(pair.events_a, IkeSaUp)
        assert up.peer_name == "WAN 10"
        meta = pair.a.compiled.meta["WAN 10"]
        assert meta.description == "Site B primary" and meta.interface == "lo"


async def test_static_entry_comes_back_after_a_clear(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_a, IkeSaUp))
        (sa,) = pair.a.gateway.engine.ike_sas()
        pair.a.gateway.delete_ike_sa(sa.ike_sa_id)
        await until(lambda: len(pair.of(pair.events_a, IkeSaUp)) == 2, timeout=8)


async def test_description_edit_applies_without_touching_the_sa(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_a, IkeSaUp))
        (sa,) = pair.a.gateway.engine.ike_sas()
        pair.path_a.write_text(SITE_A.format(description="Site B renamed", key="shared-key-1"))
        await until(lambda: pair.of(pair.events_a, ConfigReloaded))
        (reload,) = pair.of(pair.events_a, ConfigReloaded)
        assert reload.summary == ("peer WAN 10 description/labels changed",)
        assert pair.a.compiled.meta["WAN 10"].description == "Site B renamed"
        assert pair.a.gateway.engine.ike_sas() == [sa] and sa.is_up
        assert not pair.of(pair.events_a, IkeSaDown)


async def test_rename_replace_edit_applies(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_a, IkeSaUp))
        staged = pair.path_a.with_name(".gateway.conf.swp")
        staged.write_text(SITE_A.format(description="Written by an editor", key="shared-key-1"))
        os.replace(staged, pair.path_a)
        await until(lambda: pair.of(pair.events_a, ConfigReloaded))
        assert pair.a.compiled.meta["WAN 10"].description == "Written by an editor"


async def test_broken_file_leaves_the_running_config_and_reports(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_a, IkeSaUp))
        before = pair.a.compiled
        broken = SITE_A.format(description="x", key="shared-key-1").replace(
            " set transform-set TS", " set transform-set MISSING"
        )
        pair.path_a.write_text(broken)
        await until(lambda: pair.of(pair.events_a, ConfigReloadFailed))
        (failed,) = pair.of(pair.events_a, ConfigReloadFailed)
        line = broken.splitlines().index(" set transform-set MISSING") + 1
        assert failed.errors == (
            f"{pair.path_a}:{line}: error: transform-set MISSING does not exist",
        )
        assert pair.a.compiled is before
        assert all(sa.is_up for sa in pair.a.gateway.engine.ike_sas())


async def test_removed_peer_is_cleared_with_its_reason(tmp_path: Path) -> None:
    async with Pair(tmp_path) as pair:
        await until(lambda: pair.of(pair.events_b, IkeSaUp))
        without_map = "\n".join(
            line
            for line in SITE_B.format(key="shared-key-1").splitlines()
            if "crypto map WAN" not in line
        )
        pair.path_b.write_text(without_map + "\n")
        await until(lambda: pair.of(pair.events_b, IkeSaDown))
        (down,) = pair.of(pair.events_b, IkeSaDown)
        assert down.reason is DownReason.CONFIG_REMOVED
        (reload,) = pair.of(pair.events_b, ConfigReloaded)
        assert reload.summary == ("peer WAN 10/10 A removed",)
        # A's end learns of it through the DELETE
        await until(lambda: pair.of(pair.events_a, IkeSaDown))
        assert pair.of(pair.events_a, IkeSaDown)[0].reason is DownReason.PEER_DELETE


def test_a_file_with_errors_does_not_start(tmp_path: Path) -> None:
    from engine.config.diagnostics import ConfigError

    path = tmp_path / "bad.conf"
    path.write_text("crypto map M 10 ipsec-isakmp\n set transform-set NOPE\nend\n")
    with pytest.raises(ConfigError) as err:
        VpnService(path, dataplane=None)
    assert "transform-set NOPE does not exist" in str(err.value)


async def test_session_lines_reach_the_configured_logging_host(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    received: list[bytes] = []

    class Collector(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple) -> None:
            received.append(data)

    transport, _ = await loop.create_datagram_endpoint(Collector, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        pair = Pair(tmp_path)
        pair.path_b.write_text(
            SITE_B.format(key="shared-key-1").replace(
                "end\n", f"logging host 127.0.0.1 transport udp port {port}\nlogging trap 5\nend\n"
            )
        )
        pair.b = VpnService(
            pair.path_b,
            bind="127.0.0.2",
            ike_port=pair.a.gateway.ike_port,
            natt_port=pair.a.gateway.natt_port,
            dataplane=None,
        )
        async with pair:
            await until(lambda: any(b"Crypto session is UP" in d for d in received))
            (line,) = [d for d in received if b"SESSION_STATUS" in d]
            assert line.startswith(b"<189>1 ")  # local7.notice, RFC 5424
            assert line.endswith(
                b"%CRYPTO-5-SESSION_STATUS: Crypto session is UP. "
                b"Peer 127.0.0.1:" + str(pair.a.gateway.ike_port).encode() + b" Id: 127.0.0.1"
            )
    finally:
        transport.close()


async def test_a_started_gateway_collects_its_young_garbage_less_often(tmp_path: Path) -> None:
    """The service sets the collector for a gateway's heap (engine.gc_policy) as it
    starts: a clear of 10,000 sessions with accounting spent 2 s in full collections."""
    import gc

    from engine.gc_policy import GATEWAY_THRESHOLDS

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        async with Pair(tmp_path):
            assert gc.get_threshold() == GATEWAY_THRESHOLDS
    finally:
        gc.set_threshold(*before)
