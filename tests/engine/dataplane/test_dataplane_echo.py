"""Real ESP between two gateways on loopback: pings cross the tunnel both ways and the
counters of both ends agree, over IP (raw ESP) and in UDP (forced encapsulation)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from netutil import free_port, until
from site_configs import SITE_A, SITE_B

from engine.dataplane import packets
from engine.dataplane.lab import EchoResponder, EchoSource
from engine.events import ChildSaInstalled
from engine.gateway import Gateway
from engine.raw_esp import raw_esp_available
from engine.records import SessionStatus
from engine.service import VpnService

MODES = ["udp"] + (["raw"] if os.geteuid() == 0 and raw_esp_available() else [])


@contextlib.asynccontextmanager
async def echo_pair(
    tmp_path: Path, key: str, entry_extra: str = ""
) -> AsyncIterator[tuple[VpnService, VpnService, list[ChildSaInstalled]]]:
    """Site A (static entry, initiator) and site B on loopback with the echo data plane;
    yields both services and A's ChildSaInstalled events."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    conf_a, conf_b = tmp_path / "a" / "a.conf", tmp_path / "b" / "b.conf"
    site_a = SITE_A.format(description="B", key=key)
    if entry_extra:
        site_a = site_a.replace(" match address A-TO-B", f"{entry_extra}\n match address A-TO-B")
    conf_a.write_text(site_a)
    conf_b.write_text(SITE_B.format(key=key))
    ike, natt = free_port(), free_port()
    a = VpnService(conf_a, bind="127.0.0.1", ike_port=ike, natt_port=natt, dataplane="echo")
    b = VpnService(conf_b, bind="127.0.0.2", ike_port=ike, natt_port=natt, dataplane="echo")
    installed: list[ChildSaInstalled] = []
    a.gateway.subscribe(lambda e: installed.append(e) if isinstance(e, ChildSaInstalled) else None)
    await b.start()
    await a.start()
    try:
        await until(lambda: installed)
        yield a, b, installed
    finally:
        await a.stop()
        await b.stop()


def pinger(service: VpnService, child: ChildSaInstalled, **options: float) -> EchoSource:
    """A's traffic: an echo source in place of its sink, aimed by the child's selectors."""
    assert service.dataplane is not None
    source = EchoSource(service.dataplane, **options)  # type: ignore[arg-type]
    source.selectors_added(child.traffic_selectors.local, child.traffic_selectors.remote)
    return source


@pytest.mark.parametrize("mode", MODES)
async def test_pings_cross_the_tunnel_and_counters_agree(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if mode == "udp":
        monkeypatch.setattr(Gateway, "enable_raw_esp", lambda self: False)
    async with echo_pair(tmp_path, "data-key") as (a, b, installed):
        assert a.dataplane is not None and b.dataplane is not None
        (child,) = installed
        source = pinger(a, child, rate=50)
        assert child.udp_encapsulation is (mode == "udp")
        for _ in range(40):
            source.ping()
        await until(lambda: source.counters["echo replies"] == 40)
        responder = b.sink
        assert isinstance(responder, EchoResponder)
        assert responder.counters["echo replies"] == 40
        a.dataplane.tick()
        b.dataplane.tick()
        (view_a,) = a.control.sessions()
        (view_b,) = b.control.sessions()
        ta, tb = view_a.session.totals, view_b.session.totals
        assert (ta.packets_out, ta.packets_in) == (40, 40)
        assert (tb.packets_in, tb.packets_out) == (40, 40)
        assert ta.bytes_out == tb.bytes_in and ta.bytes_in == tb.bytes_out
        request = packets.echo_request("10.1.0.1", "10.2.0.1", 1, 1, source.payload)
        assert ta.bytes_out == 40 * len(request)
        assert view_a.session.status is SessionStatus.UP_ACTIVE
        assert view_a.flows[0].totals.packets_out == 40


async def test_kilobyte_lifetime_rekeys_and_counters_carry_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Gateway, "enable_raw_esp", lambda self: False)
    lifetime = " set security-association lifetime kilobytes 2560"
    async with echo_pair(tmp_path, "kb-key", lifetime) as (a, _, installed):
        assert a.dataplane is not None
        source = pinger(a, installed[0], rate=1, size=1400)
        for _ in range(1800):  # 1800 x ~1.4 kB through each SA: past 90% of 2560 KB
            source.ping()
            if source.counters["echo requests"] % 100 == 0:
                await asyncio.sleep(0.01)
        await until(lambda: source.counters["echo replies"] >= 1800)
        a.dataplane.tick()
        await until(lambda: len(installed) == 2)
        assert installed[1].rekeyed_from == installed[0].child_sa_id
        for _ in range(10):
            source.ping()
        await until(lambda: source.counters["echo replies"] >= 1810)
        a.dataplane.tick()
        (view,) = a.control.sessions()
        assert view.session.totals.packets_out == source.counters["echo requests"]
        assert view.session.totals.packets_in == source.counters["echo replies"]


async def test_packets_of_a_child_sa_deleted_between_ticks_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Gateway, "enable_raw_esp", lambda self: False)
    async with echo_pair(tmp_path, "tick-key") as (a, _, installed):
        assert a.dataplane is not None
        a.dataplane.stop()  # no periodic ticks: the deletion must carry the last figures
        source = pinger(a, installed[0], rate=1)
        for _ in range(25):
            source.ping()
        await until(lambda: source.counters["echo replies"] == 25)
        a.gateway.rekey_child_sa(installed[0].child_sa_id)
        await until(lambda: installed[0].child_sa_id not in a.dataplane.table)
        (view,) = a.control.sessions()
        assert (view.session.totals.packets_out, view.session.totals.packets_in) == (25, 25)
