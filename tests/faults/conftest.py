"""Fixtures of the fault suite: real daemons (charon, our `engine.cli daemon`, the hostile
tools of this directory), each in its own network namespace of the strongSwan topology
(interop/strongswan.py), so nothing touches the host.

`fault_topology` makes one namespace pair per test module; `lab` gives each test a
`FaultLab` and stops everything the test started when it ends, on failure too (the
daemons' logs are printed, which pytest shows for a failed test). Without root, network
namespaces, charon or vici the tests skip on a laptop and fail under
IPSEC_CONSOLE_REQUIRE_INTEROP=1, as CI sets (interop.conftest.require).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faults.fault_lab import FaultLab
from interop.strongswan import Topology, lab_dir, topology


@pytest.fixture(scope="module")
def fault_topology() -> Iterator[Topology]:
    with topology() as topo:
        yield topo


@pytest.fixture
def lab(fault_topology: Topology, request: pytest.FixtureRequest) -> Iterator[FaultLab]:
    lab = FaultLab(fault_topology, lab_dir(fault_topology, request.node.name))
    try:
        yield lab
    finally:
        print(lab.close())
