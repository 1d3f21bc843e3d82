"""diff(): what a reload changes, peer by peer."""

from __future__ import annotations

from engine.config.compile import compile_config
from engine.config.diff import ConfigDiff, diff
from engine.config.parser import parse_text
from engine.config.validate import validate

BASE = """\
hostname hub
crypto isakmp peer address 198.51.100.7
 description Branch seven
crypto ikev2 proposal P
 encryption aes-gcm-256
 prf sha256
 group 19
crypto ikev2 policy POL
 proposal P
crypto ikev2 keyring KR
 peer b7
  description Keys of branch seven
  address 198.51.100.7
  pre-shared-key Branch7Key
 peer alice
  description Alice
  identity email alice@example.com
  pre-shared-key AliceKey
crypto ikev2 profile SITE
 keyring local KR
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended ACL
 permit ip 10.1.0.0 0.0.255.255 10.7.0.0 0.0.255.255
crypto dynamic-map DYN 10
 set transform-set TS
 set ikev2-profile SITE
crypto map VPN 10 ipsec-isakmp
 description Tunnel to seven
 set peer 198.51.100.7
 set transform-set TS
 set ikev2-profile SITE
 match address ACL
crypto map VPN 20 ipsec-isakmp dynamic DYN
interface eth0
 ip address 192.0.2.1 255.255.255.0
 crypto map VPN
"""
PEERS = ("VPN 10", "VPN 20/10 alice", "VPN 20/10 b7")


def build(text: str):
    config = validate(parse_text(text, "d.conf"))
    assert config.errors == [], [str(d) for d in config.errors]
    return compile_config(config)


def changed(old: str, new: str, text: str = BASE) -> ConfigDiff:
    assert old in text, old
    return diff(build(text), build(text.replace(old, new)))


def test_base_peers() -> None:
    assert tuple(sorted(p.name for p in build(BASE).ike.peers)) == PEERS


def test_identical_configs_have_an_empty_diff() -> None:
    result = diff(build(BASE), build(BASE))
    assert result.empty
    assert result.summary() == ("no changes",)


def test_first_load_adds_every_peer() -> None:
    result = diff(None, build(BASE))
    assert sorted(result.added) == list(PEERS)
    assert result.removed == result.changed == result.relabelled == result.other == ()


def test_keyring_description_change_is_a_relabel() -> None:
    result = changed("  description Alice\n", "  description Alice (new laptop)\n")
    assert result.relabelled == ("VPN 20/10 alice",)
    assert result.changed == result.added == result.removed == ()
    assert result.summary() == ("peer VPN 20/10 alice description/labels changed",)


def test_isakmp_peer_description_change_is_a_relabel() -> None:
    result = changed(" description Branch seven\n", " description Branch 7 (moved)\n")
    assert result.relabelled == ("VPN 10",)
    assert result.changed == ()
    assert not result.added and not result.removed


def test_entry_description_change_is_a_relabel() -> None:
    text = BASE.replace(" description Branch seven\n", "").replace(
        "  description Keys of branch seven\n", ""
    )
    result = changed(" description Tunnel to seven\n", " description Tunnel to 7\n", text)
    assert result.relabelled == ("VPN 10",)
    assert result.changed == ()


def test_interface_meta_change_is_a_relabel() -> None:
    result = changed("interface eth0\n", "interface eth1\n")
    assert sorted(result.relabelled) == list(PEERS)
    assert result.changed == ()


def test_psk_change_is_a_policy_change() -> None:
    result = changed("  pre-shared-key AliceKey\n", "  pre-shared-key AliceKey2\n")
    assert result.changed == ("VPN 20/10 alice",)
    assert result.relabelled == ()
    assert result.summary() == (
        "peer VPN 20/10 alice policy changed (applies at next negotiation)",
    )


def test_proposal_change_changes_every_peer() -> None:
    result = changed(" group 19\n", " group 20\n")
    assert result.changed == PEERS
    assert result.relabelled == ()


def test_transform_set_change_is_a_policy_change() -> None:
    result = changed(
        "crypto ipsec transform-set TS esp-gcm 256\n",
        "crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac\n",
    )
    assert result.changed == PEERS


def test_acl_change_is_a_policy_change() -> None:
    result = changed("10.7.0.0 0.0.255.255", "10.8.0.0 0.0.255.255")
    assert result.changed == ("VPN 10",)


def test_removed_keyring_peer() -> None:
    result = changed(
        " peer alice\n  description Alice\n  identity email alice@example.com\n"
        "  pre-shared-key AliceKey\n",
        "",
    )
    assert result.removed == ("VPN 20/10 alice",)
    assert result.added == result.changed == ()
    assert result.summary() == ("peer VPN 20/10 alice removed",)


def test_added_keyring_peer() -> None:
    result = changed(
        "crypto ikev2 profile SITE\n",
        " peer bob\n  identity fqdn bob.example.com\n  pre-shared-key BobKey\n"
        "crypto ikev2 profile SITE\n",
    )
    assert result.added == ("VPN 20/10 bob",)
    assert result.removed == result.changed == ()


def test_renamed_entry_is_removed_and_added() -> None:
    result = changed("crypto map VPN 10 ipsec-isakmp\n", "crypto map VPN 15 ipsec-isakmp\n")
    assert result.removed == ("VPN 10",)
    assert result.added == ("VPN 15",)


def test_hostname_change_is_reported_as_other() -> None:
    result = changed("hostname hub\n", "hostname hub2\n")
    assert result.other == ("hostname hub -> hub2",)
    assert not result.changed and not result.relabelled
    assert not result.empty


def test_isakmp_description_without_a_peer_is_other() -> None:
    text = BASE + "crypto isakmp peer address 203.0.113.50\n description Spare\n"
    result = changed(" description Spare\n", " description Spare head end\n", text)
    assert result.other == ("isakmp peer descriptions changed",)
    assert result.relabelled == ()
