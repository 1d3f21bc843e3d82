"""Shared helpers for tests against real third-party daemons.

The daemons: rsyslog, strongSwan, FreeRADIUS and Prometheus.

On a developer machine a missing daemon skips its tests; CI sets
IPSEC_CONSOLE_REQUIRE_INTEROP=1 so that a missing package fails loudly
instead of letting interop coverage silently disappear.

Use from a test module or fixture in this directory::

    from interop.conftest import require

    require(shutil.which("charon"), "charon not installed (apt-get install charon-systemd)")

or take the `require` fixture as an argument.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest

REQUIRE_ENV = "IPSEC_CONSOLE_REQUIRE_INTEROP"


def interop_required() -> bool:
    """Whether missing interop prerequisites are failures (CI) rather than skips."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def require(condition: object, reason: str) -> None:
    """Skip the current test when `condition` is falsy, or fail it when interop is required."""
    if condition:
        return
    if interop_required():
        pytest.fail(f"{reason} [{REQUIRE_ENV}=1 forbids skipping]", pytrace=False)
    pytest.skip(reason)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that was free a moment ago, for a daemon's config file."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def udp_bound(port: int, host: str = "127.0.0.1") -> bool:
    """Whether some process has a UDP socket bound to host:port (Linux /proc)."""
    wanted = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1] == wanted for line in list(table)[1:])


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `predicate` until it holds; fail naming `what` when `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(0.02)


@pytest.fixture(name="require")
def require_fixture() -> Callable[[object, str], None]:
    """`require` for tests that prefer a fixture to an import."""
    return require


# ---------------------------------------------------------------------- strongSwan
# The harness is tests/interop/strongswan.py; these fixtures give each test module one
# namespace pair and each test a `Lab` whose daemons are stopped when the test ends.


@pytest.fixture(scope="module")
def strongswan_topology():  # type: ignore[no-untyped-def]
    """Two network namespaces joined by a veth pair, deleted at the module's end."""
    from interop.strongswan import topology

    with topology() as topo:
        yield topo


@pytest.fixture
def strongswan_lab(strongswan_topology, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A `Lab` to start charon and our daemon in; everything is stopped afterwards, and
    the daemons' logs are printed (pytest shows them when the test failed)."""
    from interop.strongswan import Lab, lab_dir

    lab = Lab(strongswan_topology, lab_dir(strongswan_topology, request.node.name))
    try:
        yield lab
    finally:
        print(lab.close())
