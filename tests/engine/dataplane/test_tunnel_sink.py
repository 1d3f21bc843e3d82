"""Tunnel interfaces as Linux devices: names derived from the IOS ones (valid, unique
in a namespace), and the data plane handing each tunnel's packets to its own sink."""

from __future__ import annotations

from engine.dataplane.tunnel_sink import IFNAMSIZ, linux_names


def test_names_follow_the_ios_name_and_fit_linux() -> None:
    assert linux_names("Tunnel1")[:3] == ["Tunnel1", "Tunnel1-2", "Tunnel1-3"]
    long = linux_names("Tunnel2147483647")
    assert long[0] == "Tu2147483647"
    assert all(len(name) <= IFNAMSIZ for name in long + linux_names("Virtual-Access123"))
    assert len(set(long)) == len(long)
