"""INVALID_SPI notices: a lost child is reported once; spoofed ESP with random SPIs from a
peer's address makes the gateway send that peer only a rate-limited handful."""

from __future__ import annotations

import random

from ike_pair import B_ADDR, EnginePair, site_to_site_config

from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.exchanges.invalid_spi import InvalidSpiNotice
from engine.ike.ike_sa import INVALID_SPI_BURST, INVALID_SPI_INTERVAL
from engine.ike.message import decode_message


def notices_sent_to_b(pair: EnginePair, since: int) -> int:
    (sa_b,) = pair.live_ike("b")
    count = 0
    for side, dgram in pair.wire[since:]:
        if side != "a" or dgram.data[18] != ExchangeType.INFORMATIONAL or dgram.data[19] & 0x20:
            continue
        assert sa_b.sk_in is not None
        message = decode_message(dgram.data, sa_b.sk_in)
        count += any(n.notify_type == NotifyType.INVALID_SPI for n in message.notifies())
    return count


def test_spoofed_esp_with_random_spis_gets_a_handful_of_notices() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa_a,) = pair.live_ike("a")
    since = len(pair.wire)
    spis = random.Random(4303).sample(range(256, 2**32), 10_000)
    seconds = 10.0
    for index, spi in enumerate(spis):  # 1,000 packets a second for 10 s
        pair.now += seconds / len(spis)
        pair.a.report_invalid_spi(spi, (B_ADDR, 4500), pair.now)
        assert len(sa_a.tasks.queue) <= 1
        if index % 100 == 0:
            pair.step()
    pair.run(5)
    sent = notices_sent_to_b(pair, since)
    assert 1 <= sent <= INVALID_SPI_BURST + seconds / INVALID_SPI_INTERVAL + 1
    assert len(sa_a.reported_invalid_spis) <= 64
    assert pair.a.stats["INVALID_SPI notices suppressed"] >= len(spis) - sent
    assert pair.live_ike("a") and pair.live_ike("b")


def test_one_notice_waits_per_sa_at_a_time() -> None:
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa_a,) = pair.live_ike("a")
    pair.blocked.add("b")  # the peer does not answer: notices would pile up
    for spi in range(1000, 1100):
        pair.a.report_invalid_spi(spi, (B_ADDR, 500), pair.now)
    waiting = [e for e in sa_a.tasks.queue if isinstance(e, InvalidSpiNotice)]
    assert sa_a.tasks.outstanding is not None
    assert len(waiting) + isinstance(sa_a.tasks.outstanding.exchange, InvalidSpiNotice) == 1
