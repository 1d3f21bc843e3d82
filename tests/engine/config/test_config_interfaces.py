"""Interfaces named after real Linux interfaces take the kernel's address."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from engine.config.interfaces import linux_ipv4_addresses
from engine.config.loader import load


def test_loopback_address_is_read_from_the_kernel() -> None:
    assert ipaddress.IPv4Interface("127.0.0.1/8") in linux_ipv4_addresses("lo")
    assert linux_ipv4_addresses("no-such-interface0") == []


def test_interface_without_ip_address_takes_the_linux_one(tmp_path: Path) -> None:
    path = tmp_path / "gw.conf"
    path.write_text("interface lo\n description loopback\ninterface nosuch9\nend\n")
    config = load(path)
    assert config.interfaces["lo"].address == ipaddress.IPv4Interface("127.0.0.1/8")
    assert config.interfaces["nosuch9"].address is None


def test_configured_address_wins(tmp_path: Path) -> None:
    path = tmp_path / "gw.conf"
    path.write_text("interface lo\n ip address 192.0.2.1 255.255.255.0\nend\n")
    assert load(path).interfaces["lo"].address == ipaddress.IPv4Interface("192.0.2.1/24")
