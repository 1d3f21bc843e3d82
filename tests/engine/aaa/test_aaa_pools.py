"""Address pools at run time, and `show ip local pool`."""

from __future__ import annotations

import ipaddress
import textwrap

from engine.aaa.pools import AddressPools, Lease, render_show_ip_local_pool
from engine.config.parser import parse_text

A = ipaddress.IPv4Address


def pools(text: str) -> AddressPools:
    config = parse_text(textwrap.dedent(text), "pools.conf")
    assert config.errors == []
    return AddressPools(config.local_pools)


TWO_RANGES = """\
    ip local pool RA 10.9.0.1 10.9.0.3
    ip local pool RA 10.9.1.1 10.9.1.2
    ip local pool BIG 10.0.0.0 10.255.255.255
    """


def test_allocation_takes_the_lowest_free_address_range_by_range() -> None:
    p = pools(TWO_RANGES)
    got = [p.allocate("RA", f"user{i}") for i in range(5)]
    assert got == [A("10.9.0.1"), A("10.9.0.2"), A("10.9.0.3"), A("10.9.1.1"), A("10.9.1.2")]
    assert (p.in_use("RA"), p.free("RA"), p.exhausted("RA")) == (5, 0, 0)
    assert p.allocate("RA", "late") is None
    assert p.allocate("RA", "later") is None
    assert p.exhausted("RA") == 2
    assert p.release(A("10.9.0.2"))
    assert not p.release(A("10.9.0.2"))
    assert p.allocate("RA", "late") == A("10.9.0.2")


def test_an_owner_keeps_its_address() -> None:
    p = pools(TWO_RANGES)
    first = p.allocate("RA", "joe@198.51.100.7")
    assert p.allocate("RA", "joe@198.51.100.7") == first
    assert p.in_use("RA") == 1
    assert p.release_owner("joe@198.51.100.7") == [first]
    assert p.in_use("RA") == 0


def test_the_address_asked_for_when_it_is_free() -> None:
    p = pools(TWO_RANGES)
    assert p.allocate("RA", "a", A("10.9.1.2")) == A("10.9.1.2")
    assert p.allocate("RA", "b", A("10.9.1.2")) == A("10.9.0.1")  # taken: the lowest
    assert p.allocate("RA", "c", A("192.0.2.1")) == A("10.9.0.2")  # not the pool's
    # the lowest-free walk steps over the address leased out of turn
    assert [p.allocate("RA", o) for o in "def"] == [A("10.9.0.3"), A("10.9.1.1"), None]
    assert p.lease(A("10.9.1.2")) == Lease(A("10.9.1.2"), "RA", "a")


def test_a_huge_pool_is_never_laid_out() -> None:
    p = pools(TWO_RANGES)
    assert p.free("BIG") == 1 << 24
    assert p.allocate("BIG", "x", A("10.200.0.1")) == A("10.200.0.1")
    assert p.allocate("BIG", "y") == A("10.0.0.0")
    assert p.free("BIG") == (1 << 24) - 2


def test_unknown_pool() -> None:
    p = pools(TWO_RANGES)
    assert "NOPE" not in p and "RA" in p
    assert p.allocate("NOPE", "x") is None
    assert (p.in_use("NOPE"), p.free("NOPE"), p.leases("NOPE")) == (0, 0, [])


def test_reload_keeps_the_leases_of_surviving_ranges() -> None:
    p = pools(TWO_RANGES)
    for owner in ("a", "b", "c"):
        p.allocate("RA", owner)  # 10.9.0.1-3
    p.allocate("RA", "d")  # 10.9.1.1
    p.allocate("RA", "e")  # 10.9.1.2
    new = parse_text(
        "ip local pool RA 10.9.0.2 10.9.0.9\nip local pool MOVED 10.9.1.1 10.9.1.1\n", "n.conf"
    )
    dropped = p.reload(new.local_pools)
    assert sorted(dropped, key=lambda lease: lease.address) == [
        Lease(A("10.9.0.1"), "RA", "a"),
        Lease(A("10.9.1.2"), "RA", "e"),
    ]
    assert [(str(x.address), x.owner) for x in p.leases("RA")] == [
        ("10.9.0.2", "b"),
        ("10.9.0.3", "c"),
    ]
    assert [x.owner for x in p.leases("MOVED")] == ["d"]
    assert p.allocate("RA", "new") == A("10.9.0.4")  # kept leases are not handed out again
    assert p.allocate("RA", "b") == A("10.9.0.2")
    assert not p.release(A("10.9.0.1"))  # no longer the pools'
    assert "BIG" not in p


def test_show_ip_local_pool() -> None:
    p = pools(TWO_RANGES)
    p.allocate("RA", "joe@198.51.100.7")
    p.allocate("RA", "amy@203.0.113.9", A("10.9.1.2"))
    assert render_show_ip_local_pool(p) == (
        " Pool                     Begin           End              Free  In use\n"
        " RA                       10.9.0.1        10.9.0.3            2       1\n"
        "                          10.9.1.1        10.9.1.2            1       1\n"
        " BIG                      10.0.0.0        10.255.255.255  16777216       0\n"
    )
    assert render_show_ip_local_pool(p, "RA") == (
        " Pool                     Begin           End              Free  In use\n"
        " RA                       10.9.0.1        10.9.0.3            2       1\n"
        "                          10.9.1.1        10.9.1.2            1       1\n"
        "\n"
        "Available addresses:\n"
        "    10.9.0.2\n"
        "    10.9.0.3\n"
        "    10.9.1.1\n"
        "Inuse addresses:\n"
        "    10.9.0.1        joe@198.51.100.7\n"
        "    10.9.1.2        amy@203.0.113.9\n"
    )
    big = render_show_ip_local_pool(p, "BIG").splitlines()
    assert big[-3:] == ["    ... 16777116 more", "Inuse addresses:", "    None"]
    assert render_show_ip_local_pool(p, "NOPE") == "%Pool NOPE not found\n"
    assert render_show_ip_local_pool(AddressPools()) == "No pools configured\n"
