"""Two gateways in one process over real UDP on loopback: establish, rekey, delete."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from ike_pair import peer

from engine.events import ChildSaInstalled, DownReason, IkeEvent, IkeSaDown, IkeSaUp
from engine.gateway import IP_MTU_DISCOVER, Gateway, needs_marker
from engine.ike.constants import NON_ESP_MARKER
from engine.ike.policy import IkeConfig

NET_A = ipaddress.ip_network("10.11.0.0/16")
NET_B = ipaddress.ip_network("10.22.0.0/16")


def gateway_pair() -> tuple[Gateway, Gateway]:
    """Gateway A on 127.0.0.1 and B on 127.0.0.2, each with the other as its peer."""
    gw_a = Gateway(
        IkeConfig(peers=(peer("to-b", "127.0.0.2", NET_A, NET_B),)),
        bind="127.0.0.1",
        ike_port=0,
        natt_port=0,
    )
    gw_b = Gateway(
        IkeConfig(peers=(peer("to-a", "127.0.0.1", NET_B, NET_A),)),
        bind="127.0.0.2",
        ike_port=0,
        natt_port=0,
    )
    return gw_a, gw_b


async def wait_for(
    events: list[IkeEvent], kind: type, count: int = 1, timeout: float = 5.0
) -> list:
    async def poll() -> list:
        while True:
            found = [e for e in events if isinstance(e, kind)]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.005)

    return await asyncio.wait_for(poll(), timeout)


def test_marker_rule() -> None:
    assert not needs_marker(500, 500)
    assert not needs_marker(500, 4500)
    assert needs_marker(4500, 4500)
    assert needs_marker(15500, 15500)


async def test_two_gateways_establish_rekey_and_delete_over_udp() -> None:
    gw_a, gw_b = gateway_pair()
    events_a: list[IkeEvent] = []
    events_b: list[IkeEvent] = []
    gw_a.subscribe(events_a.append)
    gw_b.subscribe(events_b.append)
    await gw_a.start()
    await gw_b.start()
    try:
        gw_a.initiate("to-b", ("127.0.0.2", gw_b.ike_port))
        (up_a,) = await wait_for(events_a, IkeSaUp)
        await wait_for(events_b, ChildSaInstalled)
        assert up_a.remote == ("127.0.0.2", gw_b.ike_port)
        assert not up_a.nat_local and not up_a.nat_remote
        # high ports on both ends: every IKE datagram carried the non-ESP marker
        assert gw_b.counters["datagrams in"] >= 2

        assert gw_b.rekey_ike_sa(next(sa.ike_sa_id for sa in gw_b.engine.ike_sas()))
        await wait_for(events_a, IkeSaUp, 2)
        await wait_for(events_a, IkeSaDown)
        (child,) = [c for sa in gw_a.engine.ike_sas() for c in sa.children.values()]
        assert gw_a.rekey_child_sa(child.child_sa_id)
        await wait_for(events_b, ChildSaInstalled, 2)

        (sa,) = gw_a.engine.ike_sas()
        assert gw_a.delete_ike_sa(sa.ike_sa_id)
        downs = await wait_for(events_b, IkeSaDown, 2)
        assert downs[-1].reason is DownReason.PEER_DELETE
        await asyncio.sleep(0.05)
        assert not gw_a.engine.ike_sas() and not gw_b.engine.ike_sas()
    finally:
        await gw_a.stop()
        await gw_b.stop()


async def test_garbage_and_keepalives_are_counted_not_raised() -> None:
    gw = Gateway(IkeConfig(), bind="127.0.0.1", ike_port=0, natt_port=0)
    await gw.start()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    try:
        for junk in (
            b"\xff",
            NON_ESP_MARKER + b"\x01" * 40,
            NON_ESP_MARKER + bytes(28),
            NON_ESP_MARKER,
        ):
            transport.sendto(junk, ("127.0.0.1", gw.ike_port))
        await asyncio.sleep(0.1)
        assert gw.counters["nat keepalives in"] == 1
        assert sum(gw.engine.drops.values()) == 3
        assert gw.counters["esp without data plane"] == 0
    finally:
        transport.close()
        await gw.stop()


async def test_shutdown_deletes_sas_at_the_peer() -> None:
    gw_a, gw_b = gateway_pair()
    events_b: list[IkeEvent] = []
    gw_b.subscribe(events_b.append)
    await gw_a.start()
    await gw_b.start()
    try:
        gw_a.initiate("to-b", ("127.0.0.2", gw_b.ike_port))
        await wait_for(events_b, ChildSaInstalled)
        await gw_a.stop()
        (down,) = await wait_for(events_b, IkeSaDown)
        assert down.reason is DownReason.PEER_DELETE
    finally:
        await gw_b.stop()


async def test_df_bit_policy_reaches_our_sockets() -> None:
    """`crypto ipsec df-bit clear|set|copy` as the kernel's per-socket DF policy."""
    gw = Gateway(IkeConfig(), bind="127.0.0.1", ike_port=0, natt_port=0)
    await gw.start()
    try:

        def policies() -> set[int]:
            return {sock.getsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER) for _, sock in gw.sockets()}

        for mode, value in (("clear", 0), ("set", 2), ("copy", 1)):  # DONT, DO, WANT
            gw.set_df_bit(mode)
            assert policies() == {value}, mode
    finally:
        await gw.stop(graceful=False)


async def test_a_mass_delete_reads_its_answers_ahead_of_other_work() -> None:
    """While DELETEs of `delete_ike_sas` wait for answers, one wake-up of a socket reads
    all that is there, not one batch: the answers of a clear of thousands then go ahead of
    the work their sessions' ends set off (accounting Stops, a few dozen a loop turn).
    Once answered, a wake-up reads one batch again."""
    from engine.gateway import RECV_BATCH

    gw_a, gw_b = gateway_pair()
    events_a: list[IkeEvent] = []
    gw_a.subscribe(events_a.append)
    await gw_a.start()
    await gw_b.start()
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    burst = 3 * RECV_BATCH + 10

    async def read_in_two_turns() -> int:
        before = gw_a.counters["datagrams in"]
        for _ in range(burst):
            junk.sendto(NON_ESP_MARKER + bytes(28), ("127.0.0.1", gw_a.ike_port))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return gw_a.counters["datagrams in"] - before

    try:
        gw_a.initiate("to-b", ("127.0.0.2", gw_b.ike_port))
        await wait_for(events_a, ChildSaInstalled)
        await asyncio.sleep(0.05)
        assert await read_in_two_turns() <= 2 * RECV_BATCH  # nothing outstanding
        await asyncio.sleep(0.05)
        (sa,) = gw_a.engine.ike_sas()
        assert gw_a.delete_ike_sas([sa.ike_sa_id], DownReason.CLEARED) == 1
        # the DELETE is out; what arrives before its answer is read at once
        assert await read_in_two_turns() >= burst
        (down,) = await wait_for(events_a, IkeSaDown)
        assert down.reason is DownReason.CLEARED and not down.detail
        await asyncio.sleep(0.05)
        assert await read_in_two_turns() <= 2 * RECV_BATCH  # answered: back to batches
    finally:
        junk.close()
        await gw_a.stop()
        await gw_b.stop()
