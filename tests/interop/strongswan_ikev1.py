"""IKEv1 interop helpers on top of interop/strongswan.py: where the IKEv1 peers stand,
what prerequisites they have beyond the IKEv2 harness, and how to tell an IKEv1 SA is up.

Topology (the module's namespace pair, see interop/strongswan.py)::

    netns ic-ss-TAG: the far charon   10.99.0.1   lo 10.98.1.1 (SS_NET)
    netns ic-us-TAG: the near peer    10.99.0.2   lo 10.98.2.1 (US_NET)

The near peer is where our gateway stands in the gateway tests; in the charon-to-charon
tests that prove the configurations a second charon stands there. The remote-access
client is always the far charon; its virtual IP comes from the near peer's pool
(10.98.3.0/24, first address 10.98.3.1) and reaches US_NET through the tunnel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop.conftest import require
from interop.strongswan import Charon, CharonSettings, Lab, NotYet, eventually
from interop.strongswan_ikev1_configs import CharonV1

PLUGIN_DIR = Path("/usr/lib/ipsec/plugins")
#: plugin -> Debian package that ships it
V1_PLUGIN_PACKAGES = {
    "xauth-generic": "libcharon-extauth-plugins",
    "unity": "libcharon-extra-plugins",
}


def require_ikev1_plugins() -> None:
    """Skip (or fail under IPSEC_CONSOLE_REQUIRE_INTEROP=1) without charon's XAUTH and
    Unity plugins."""
    for plugin, package in V1_PLUGIN_PACKAGES.items():
        path = PLUGIN_DIR / f"libstrongswan-{plugin}.so"
        require(
            path.exists(),
            f"no charon {plugin} plugin ({path}): apt-get install -y {package}",
        )


def far_charon(lab: Lab, conf: str, settings: CharonSettings | None = None) -> Charon:
    """A charon at 10.99.0.1 (the strongSwan namespace) with `conf` loaded."""
    return lab.charon(conf, settings=settings or CharonV1())


def near_charon(lab: Lab, conf: str, settings: CharonSettings | None = None) -> Charon:
    """A charon at 10.99.0.2 (our namespace, where our gateway stands otherwise)."""
    return lab.charon(conf, ns=lab.topo.us, settings=settings or CharonV1())


@dataclass(frozen=True)
class V1Up:
    """One IKEv1 SA, ESTABLISHED, with one INSTALLED child, as charon's list-sas shows."""

    ike: dict[str, Any]
    child: dict[str, Any]

    @property
    def ike_spis(self) -> tuple[str, str]:
        return self.ike["initiator-spi"], self.ike["responder-spi"]

    @property
    def child_spis(self) -> tuple[str, str]:
        """(inbound, outbound)"""
        return self.child["spi-in"], self.child["spi-out"]


def v1_up(charon: Charon) -> V1Up:
    """charon's IKEv1 SA and child if both are up, else NotYet saying what there is."""
    sas = charon.list_sas()
    if len(sas) != 1:
        raise NotYet(f"charon has {len(sas)} IKE SAs: {[s.get('state') for s in sas]}")
    (sa,) = sas
    if sa.get("version") != "1" or sa.get("state") != "ESTABLISHED":
        raise NotYet(f"IKE SA is version {sa.get('version')} {sa.get('state')}")
    children = [c for c in sa["children"] if c.get("state") == "INSTALLED"]
    if len(children) != 1:
        raise NotYet(f"children: {[c.get('state') for c in sa['children']]}")
    return V1Up(sa, children[0])


def wait_v1_up(lab: Lab, charon: Charon, timeout: float = 20) -> V1Up:
    """Wait for `v1_up`; fail with every charon's state and log."""
    return eventually(lambda: v1_up(charon), timeout, "an IKEv1 SA with its child", lab.state)


def wait_no_sa(lab: Lab, charon: Charon, timeout: float = 20) -> None:
    """Wait until charon has no IKE SA at all."""

    def probe() -> None:
        sas = charon.list_sas()
        if sas:
            raise NotYet(f"charon still has {[s.get('state') for s in sas]}")

    eventually(probe, timeout, "charon to have no IKE SA", lab.state)


def ping(lab: Lab, ns: str, source: str, target: str, count: int = 3) -> tuple[int, int]:
    """(sent, received) of `ping -c count -I source target` inside `ns`."""
    done = lab.topo.run(
        ns, "ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "2", "-I", source, target
    )
    for line in done.stdout.splitlines():
        if "packets transmitted" in line:
            words = line.replace(",", "").split()
            return int(words[0]), int(words[3])
    raise AssertionError(f"no ping summary: {done.stdout}{done.stderr}")


def exchanges(charon: Charon, verb: str = "") -> list[str]:
    """charon's log lines naming one IKE message each, e.g.
    `parsed TRANSACTION request 1232919982 [ HASH CPS(ADDR DNS) ]`; only those starting
    with `verb` ("generating" or "parsed") if given."""
    lines = []
    for line in charon.log().splitlines():
        found = _MESSAGE.search(line)
        if found and found.group(0).startswith(verb):
            lines.append(found.group(0))
    return lines


_MESSAGE = re.compile(r"(generating|parsed) [A-Z_0-9]+ (request|response) \d+ \[.*\]")
