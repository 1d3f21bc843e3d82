"""`mode transport` in a transform-set and protocol-narrowed crypto ACLs: parsed, checked,
compiled into the peer policy, written back, and seen by a reload as a policy change."""

from __future__ import annotations

from engine.config.compile import compile_config
from engine.config.diff import diff
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate
from engine.ike.policy import IpsecMode

GRE_OVER_IPSEC = """\
hostname left
crypto ikev2 keyring KR
 peer RIGHT
  address 192.0.2.2
  pre-shared-key GreSecret1
crypto ikev2 profile PROF
 match identity remote address 192.0.2.2 255.255.255.255
 authentication remote pre-share
 authentication local pre-share
 keyring local KR
crypto ipsec transform-set TS esp-gcm 256
 mode {mode}
ip access-list extended GRE
 permit gre host 192.0.2.1 host 192.0.2.2
crypto map VPN 10 ipsec-isakmp
 set peer 192.0.2.2
 set transform-set TS
 set ikev2-profile PROF
 match address GRE
interface eth0
 ip address 192.0.2.1 255.255.255.0
 crypto map VPN
"""


def checked(text: str):
    return validate(parse_text(text, "t.conf"))


def test_transport_mode_and_protocol_reach_the_peer_policy() -> None:
    config = checked(GRE_OVER_IPSEC.format(mode="transport"))
    assert config.errors == [] and config.warnings == []
    (peer,) = compile_config(config).ike.peers
    assert peer.mode is IpsecMode.TRANSPORT
    assert peer.ts_protocol == 47
    assert [str(n) for n in peer.local_ts] == ["192.0.2.1/32"]
    assert [str(n) for n in peer.remote_ts] == ["192.0.2.2/32"]


def test_tunnel_mode_is_the_default_and_ip_is_any_protocol() -> None:
    text = GRE_OVER_IPSEC.format(mode="tunnel").replace(" mode tunnel\n", "")
    text = text.replace("permit gre", "permit ip")
    (peer,) = compile_config(checked(text)).ike.peers
    assert peer.mode is IpsecMode.TUNNEL
    assert peer.ts_protocol == 0


def test_running_config_writes_mode_and_protocol_back() -> None:
    shown = render(checked(GRE_OVER_IPSEC.format(mode="transport")))
    assert "crypto ipsec transform-set TS esp-gcm 256\n mode transport\n" in shown
    assert " permit gre host 192.0.2.1 host 192.0.2.2\n" in shown
    again = checked(shown)
    assert again.errors == []
    assert compile_config(again).ike.peers[0].mode is IpsecMode.TRANSPORT


def test_a_reload_that_changes_the_mode_changes_the_policy() -> None:
    tunnel = compile_config(checked(GRE_OVER_IPSEC.format(mode="tunnel")))
    transport = compile_config(checked(GRE_OVER_IPSEC.format(mode="transport")))
    assert diff(tunnel, transport).changed == ("VPN 10",)


def test_transform_sets_of_one_entry_must_agree_on_the_mode() -> None:
    text = GRE_OVER_IPSEC.format(mode="transport").replace(
        "ip access-list", "crypto ipsec transform-set TUN esp-gcm 128\nip access-list"
    )
    text = text.replace(" set transform-set TS\n", " set transform-set TS TUN\n")
    config = checked(text)
    (error,) = [str(d) for d in config.errors]
    assert "must agree on one mode" in error
    assert "TS (mode transport), TUN (mode tunnel)" in error


def test_a_crypto_acl_must_name_one_protocol() -> None:
    text = GRE_OVER_IPSEC.format(mode="transport").replace(
        " permit gre host 192.0.2.1 host 192.0.2.2\n",
        " permit gre host 192.0.2.1 host 192.0.2.2\n permit tcp host 192.0.2.1 host 192.0.2.2\n",
    )
    config = checked(text)
    (error,) = [str(d) for d in config.errors]
    assert "access list GRE mixes protocols (gre, tcp)" in error
