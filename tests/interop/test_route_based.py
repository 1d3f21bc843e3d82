"""Route-based VPN on real networks: tunnel interfaces (`interface Tunnel1` with
`tunnel protection ipsec profile`) between two daemons in two namespaces, and against
charon with any-to-any selectors on its side. Traffic goes where the configured
`ip route`s send it: into the tunnel's own TUN device, whatever its addresses."""

from __future__ import annotations

from typing import Any

from interop.strongswan import (
    DEFAULT_IKE,
    ESP_SUITES,
    PSK,
    SS_ADDR,
    SS_HOST,
    US_ADDR,
    US_HOST,
    Lab,
    NotYet,
    OurGateway,
    eventually,
    swanctl_conf,
)
from interop.test_strongswan_esp import ping

ESP = ESP_SUITES["aes128-sha256-ecp256"]


def vti_conf(
    *,
    hostname: str,
    local: str,
    peer: str,
    inside: str,
    far_net: str,
    responder_only: bool = False,
    mode: str = "ipsec ipv4",
    esp_mode: str = "tunnel",
) -> str:
    """One side of a route-based pair as a cloud VPN's generated IOS config has it: the
    tunnel's inside /30, a route to the far side's network into Tunnel1."""
    network, mask = far_net.split()
    proposal = "\n".join(f" {line}" for line in DEFAULT_IKE.ios)
    return f"""\
hostname {hostname}
crypto ikev2 proposal PROP
{proposal}
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 keyring KEYS
 peer FAR
  address {peer}
  pre-shared-key {PSK}
crypto ikev2 profile FAR
 match identity remote address {peer} 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
 dpd 10 3 on-demand
crypto ipsec transform-set TS {ESP.transform_set}
 mode {esp_mode}
crypto ipsec profile VTI
 set transform-set TS
 set ikev2-profile FAR
 set pfs group{ESP.pfs_group}
{" responder-only" if responder_only else ""}
interface wan0
 ip address {local} 255.255.255.0
interface Tunnel1
 description route-based to {peer}
 ip address {inside} 255.255.255.252
 ip mtu 1400
 ip tcp adjust-mss 1360
 tunnel source wan0
 tunnel mode {mode}
 tunnel destination {peer}
 tunnel protection ipsec profile VTI
ip route {network} {mask} Tunnel1
end
"""


def tunnel_session(gateway: OurGateway) -> dict[str, Any]:
    sessions = [s for s in gateway.sessions() if s["session"]["status"].startswith("UP")]
    if len(sessions) != 1 or not sessions[0]["flows"]:
        raise NotYet(f"sessions: {gateway.sessions()}")
    return sessions[0]


def daemon_pair(lab: Lab, **options: str) -> tuple[OurGateway, OurGateway]:
    """A branch in charon's namespace and a hub in ours, each with Tunnel1 to the other
    and a route to the other's network into it; both tunnels up."""
    far = lab.ours(
        vti_conf(
            hostname="branch",
            local=SS_ADDR,
            peer=US_ADDR,
            inside="169.254.10.1",
            far_net="10.98.2.0 255.255.255.0",
            **options,  # type: ignore[arg-type]
        ),
        far_side=True,
    )
    near = lab.ours(
        vti_conf(
            hostname="hub",
            local=US_ADDR,
            peer=SS_ADDR,
            inside="169.254.10.2",
            far_net="10.98.1.0 255.255.255.0",
            **options,  # type: ignore[arg-type]
        )
    )
    eventually(lambda: tunnel_session(far) and tunnel_session(near), 20, "both tunnels up")
    return far, near


def test_two_daemons_route_traffic_into_their_tunnel_interfaces(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    far, near = daemon_pair(lab)
    for gateway, ns in ((far, lab.topo.ss), (near, lab.topo.us)):
        session = tunnel_session(gateway)
        assert session["session"]["interface"] == "Tunnel1"
        flow = session["flows"][0]
        assert (flow["local_ts"], flow["remote_ts"]) == (["0.0.0.0/0"], ["0.0.0.0/0"]), flow
        link = lab.topo.run(ns, "ip", "-o", "addr", "show", "dev", "Tunnel1").stdout
        assert "169.254.10." in link, link
    route = lab.topo.run(lab.topo.ss, "ip", "route", "show", "10.98.2.0/24").stdout
    assert "dev Tunnel1" in route, route

    # by the configured route (the far LAN), and by the tunnel's own subnet
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.ss, "169.254.10.1", "169.254.10.2", 3) == (3, 3)

    def counted() -> tuple[int, int]:
        counters = tunnel_session(near)["session"]["totals"]
        if counters["packets_in"] < 8 or counters["packets_out"] < 8:
            raise NotYet(f"counters: {counters}")
        return counters["packets_in"], counters["packets_out"]

    eventually(counted, 10, "the hub's session counters")
    assert far.lines("%LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel1, changed state to up")

    # the hub goes (its DELETE reaches the branch): the branch's tunnel goes down, and its
    # route with it, so that a floating route or the host's own would carry the traffic
    near.stop()

    def route_gone() -> bool:
        shown = lab.topo.run(lab.topo.ss, "ip", "route", "show", "10.98.2.0/24").stdout
        if shown.strip():
            raise NotYet(shown)
        return True

    eventually(route_gone, 10, "the branch's route into its down tunnel to go")
    assert far.lines("Line protocol on Interface Tunnel1, changed state to down")


def test_charon_with_any_to_any_selectors_reaches_our_tunnel_interface(strongswan_lab: Lab) -> None:
    lab = strongswan_lab
    ours = lab.ours(
        vti_conf(
            hostname="hub",
            local=US_ADDR,
            peer=SS_ADDR,
            inside="169.254.10.2",
            far_net="10.98.1.0 255.255.255.0",
            responder_only=True,
        )
    )
    charon = lab.charon(
        swanctl_conf(
            esp=ESP,
            local_ts="0.0.0.0/0",
            remote_ts="0.0.0.0/0",
        )
    )
    charon.initiate()
    eventually(lambda: tunnel_session(ours), 15, "our tunnel interface's session")
    session = tunnel_session(ours)
    assert session["session"]["interface"] == "Tunnel1"
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)


def test_gre_over_ipsec_between_two_daemons_in_transport_mode(strongswan_lab: Lab) -> None:
    """`tunnel mode gre ip` + `tunnel protection`: GRE between the tunnel's ends, ESP in
    transport mode around it, as an IOS pair runs it; the host needs no GRE device."""
    lab = strongswan_lab
    far, near = daemon_pair(lab, mode="gre ip", esp_mode="transport")
    for gateway, local, remote in ((far, SS_ADDR, US_ADDR), (near, US_ADDR, SS_ADDR)):
        flow = tunnel_session(gateway)["flows"][0]
        assert (flow["local_ts"], flow["remote_ts"]) == ([f"{local}/32"], [f"{remote}/32"]), flow
        (child,) = flow["children"]
        assert flow["protocol"] == 47 and child["algorithms"]["mode"] == "transport", flow
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    assert ping(lab, lab.topo.ss, "169.254.10.1", "169.254.10.2", 3) == (3, 3)


def hub_conf() -> str:
    """A dynamic VTI hub: any spoke of 10.99.0.0/24 gets a virtual access of its own."""
    proposal = "\n".join(f" {line}" for line in DEFAULT_IKE.ios)
    return f"""\
hostname hub
crypto ikev2 proposal PROP
{proposal}
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 keyring SPOKES
 peer ANY-SPOKE
  address 10.99.0.0 255.255.255.0
  pre-shared-key {PSK}
crypto ikev2 profile SPOKES
 match identity remote address 10.99.0.0 255.255.255.0
 authentication local pre-share
 authentication remote pre-share
 keyring local SPOKES
 virtual-template 1
crypto ipsec transform-set TS {ESP.transform_set}
 mode tunnel
crypto ipsec profile VTI
 set transform-set TS
 set pfs group{ESP.pfs_group}
interface wan0
 ip address {US_ADDR} 255.255.255.0
interface Virtual-Template1 type tunnel
 ip unnumbered wan0
 tunnel mode ipsec ipv4
 tunnel protection ipsec profile VTI
end
"""


def test_a_spoke_gets_a_virtual_access_of_a_dynamic_vti_hub(strongswan_lab: Lab) -> None:
    """charon as a spoke with selectors for its LAN: our hub clones Virtual-Access1 from
    its template, routes the spoke's LAN into it, and the session shows it."""
    lab = strongswan_lab
    hub = lab.ours(hub_conf())
    charon = lab.charon(swanctl_conf(esp=ESP))
    charon.initiate()
    eventually(lambda: tunnel_session(hub), 15, "the spoke's session on the hub")
    session = tunnel_session(hub)
    assert session["session"]["interface"] == "Virtual-Access1"

    def routed() -> bool:
        # the route goes in on the device's worker, just after the session is shown
        link = lab.topo.run(lab.topo.us, "ip", "route", "show", "10.98.1.0/24").stdout
        if "dev Virtual-Access1" not in link:
            raise NotYet(link)
        return True

    eventually(routed, 5, "the spoke's LAN routed into Virtual-Access1")
    assert ping(lab, lab.topo.ss, SS_HOST, US_HOST, 5) == (5, 5)
    charon.terminate_ike()

    def gone() -> bool:
        devices = lab.topo.run(lab.topo.us, "ip", "-o", "link", "show").stdout
        if "Virtual-Access1" in devices:
            raise NotYet(devices)
        return True

    eventually(gone, 10, "the virtual access to go with its spoke")
