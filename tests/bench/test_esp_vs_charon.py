"""The ESP comparison's UDP figures come from what iperf3's receiver counted."""

from __future__ import annotations

import pytest

from bench.esp_vs_charon import udp_figures

#: a charon-charon reverse run: the receiver's highest sequence number (634,207) is far
#: below the datagrams sent (769,373); 180,770 datagrams arrived in the 8 s
CHARON_REVERSE = {
    "sum": {"seconds": 8.0, "packets": 769373, "lost_packets": 453437, "lost_percent": 58.9},
    "sum_sent": {"seconds": 8.0, "packets": 769373, "bytes": 1000184900},
    "sum_received": {
        "seconds": 8.0,
        "packets": 634207,
        "lost_packets": 453437,
        "bytes": 235001000,
        "bits_per_second": 234995448.2,
    },
}


def test_the_receivers_bytes_make_the_rate_and_the_loss() -> None:
    mbps, loss, packets = udp_figures(CHARON_REVERSE)
    assert packets == 180770
    assert mbps == pytest.approx(235.0, abs=0.1)
    assert loss == pytest.approx(100 * (1 - 180770 / 769373))  # 76.5%, not iperf3's 58.9%


def test_an_iperf3_without_the_receivers_sums_falls_back_to_its_loss() -> None:
    end = {"sum": {"seconds": 8.0, "packets": 1000, "lost_packets": 250, "lost_percent": 25.0}}
    mbps, loss, packets = udp_figures(end)
    assert (packets, loss) == (750, 25.0)
    assert mbps == pytest.approx(750 * 1300 * 8 / 8.0 / 1e6)
