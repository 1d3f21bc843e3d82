"""compile_config: model -> PeerPolicy per peer plus PeerMeta, and the loader around it."""

from __future__ import annotations

import ipaddress
import os
import textwrap

import pytest

from engine.config.compile import (
    DEFAULT_IKE_PROPOSAL,
    DEFAULT_TRANSFORM_SETS,
    IOS_DEFAULT_LIFETIME_KB,
    compile_config,
)
from engine.config.diagnostics import ConfigError
from engine.config.loader import load, load_compiled
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.crypto.algorithms import IntegId, PrfId
from engine.ike.policy import (
    AES_CBC_128,
    AES_CBC_256,
    AES_GCM_128,
    AES_GCM_256,
    TRIPLE_DES,
    DpdMode,
    DpdPolicy,
    EspProposalPolicy,
    Identity,
    IkeProposalPolicy,
)

FILE = "c.conf"

STATIC = """\
hostname branch
aaa new-model
aaa accounting network ACCT start-stop group radius
aaa accounting network MAP-ACCT start-stop group radius
radius-server host 192.0.2.20 key RadKey
ip vrf INET
ip vrf CORP
crypto isakmp peer address 203.0.113.1
 description ISAKMP_DESC
crypto ikev2 proposal STRONG
 encryption aes-gcm-256
 prf sha384
 group 20 19
crypto ikev2 policy POL
 proposal STRONG
crypto ikev2 keyring KR
 peer HQ
  description KEYRING_DESC
  address 203.0.113.1
  identity fqdn hq.example.net
  pre-shared-key local BranchToHq
  pre-shared-key remote HqToBranch
crypto ikev2 profile HQ
 description PROFILE_DESC
 match identity remote address 203.0.113.1 255.255.255.255
 identity local fqdn branch.example.net
 keyring local KR
 lifetime 28800
 dpd 10 2 periodic
 ivrf CORP
 aaa accounting psk ACCT
crypto ipsec transform-set GCM esp-gcm 256
crypto ipsec transform-set CBC esp-aes 256 esp-sha256-hmac
crypto ipsec transform-set OLD esp-3des esp-md5-hmac
ip access-list extended TO-HQ
 permit ip 10.10.0.0 0.0.255.255 10.0.0.0 0.255.255.255
 permit ip 10.11.0.0 0.0.255.255 10.0.0.0 0.255.255.255
 permit ip 10.10.0.0 0.0.255.255 172.16.0.0 0.0.15.255
 deny ip any any
crypto map WAN 10 ipsec-isakmp
 description ENTRY_DESC
 set peer 203.0.113.1
 set transform-set GCM OLD CBC
 set ikev2-profile HQ
 set pfs group19
 set security-association lifetime seconds 1800
 set security-association lifetime kilobytes 102400
 match address TO-HQ
 reverse-route
crypto map WAN client accounting list MAP-ACCT
interface eth0
 description WAN uplink
 vrf forwarding INET
 ip address 198.51.100.2 255.255.255.0
 crypto map WAN
"""

DYNAMIC = """\
hostname hub
aaa new-model
aaa accounting network RA-ACCT start-stop group radius
radius-server host 192.0.2.20 key RadKey
crypto ikev2 keyring USERS
 peer alice
  description Alice laptop
  identity email alice@example.com
  pre-shared-key AliceKey
 peer branches
  address 198.51.100.0 255.255.255.0
  pre-shared-key BranchKey
crypto ikev2 profile RA
 match identity remote email domain example.com
 keyring local USERS
crypto ipsec transform-set GCM esp-gcm 256
crypto dynamic-map DYN 5
 set transform-set GCM
 set ikev2-profile RA
crypto map RA-MAP 10 ipsec-isakmp dynamic DYN
crypto map RA-MAP client accounting list RA-ACCT
interface eth0
 ip address 203.0.113.10 255.255.255.0
 crypto map RA-MAP
"""


def model(text: str):
    config = validate(parse_text(text, FILE))
    assert config.errors == [], [str(d) for d in config.errors]
    return config


def compiled(text: str, **kwargs):
    return compile_config(model(text), **kwargs)


def net(text: str):
    return ipaddress.ip_network(text)


# --- a static entry -------------------------------------------------------------------


def test_static_entry_is_one_peer_policy() -> None:
    result = compiled(STATIC)
    (peer,) = result.ike.peers
    assert peer.name == "WAN 10"
    assert peer.psk_local.reveal() == b"BranchToHq"
    assert peer.psk_remote.reveal() == b"HqToBranch"
    assert peer.remote_addresses == (net("203.0.113.1/32"),)
    assert peer.remote_identity == Identity.fqdn("hq.example.net")
    assert peer.local_identity == Identity.fqdn("branch.example.net")
    assert peer.origin == "crypto map"
    assert result.hostname == "branch"


def test_static_entry_selectors_come_from_the_acl_permits() -> None:
    (peer,) = compiled(STATIC).ike.peers
    assert peer.local_ts == (net("10.10.0.0/16"), net("10.11.0.0/16"))
    assert peer.remote_ts == (net("10.0.0.0/8"), net("172.16.0.0/20"))


def test_static_entry_esp_proposals_follow_the_transform_sets() -> None:
    (peer,) = compiled(STATIC).ike.peers
    assert peer.esp_proposals == (
        EspProposalPolicy("GCM", (AES_GCM_256,)),
        EspProposalPolicy("OLD", (TRIPLE_DES,), (IntegId.HMAC_MD5_96,)),
        EspProposalPolicy("CBC", (AES_CBC_256,), (IntegId.HMAC_SHA2_256_128,)),
    )


def test_static_entry_pfs_lifetimes_and_dpd() -> None:
    (peer,) = compiled(STATIC).ike.peers
    assert peer.pfs_group == 19
    assert peer.child_lifetime == 1800.0
    assert peer.child_lifetime_kb == 102400
    assert peer.ike_lifetime == 28800.0
    assert peer.dpd == DpdPolicy(10, 2, DpdMode.PERIODIC)


def test_defaults_without_lifetimes_dpd_or_transform_sets() -> None:
    text = (
        STATIC.replace(" set security-association lifetime seconds 1800\n", "")
        .replace(" set security-association lifetime kilobytes 102400\n", "")
        .replace(" lifetime 28800\n", "")
        .replace(" dpd 10 2 periodic\n", "")
        .replace(" set transform-set GCM OLD CBC\n", "")
        .replace(" set pfs group19\n", "")
    )
    (peer,) = compiled(text).ike.peers
    assert peer.child_lifetime == 3600.0
    assert peer.child_lifetime_kb == IOS_DEFAULT_LIFETIME_KB
    assert peer.ike_lifetime == 86400.0
    assert peer.dpd is None
    assert peer.pfs_group is None
    assert peer.esp_proposals == DEFAULT_TRANSFORM_SETS


def test_static_entry_meta() -> None:
    result = compiled(STATIC)
    meta = result.meta["WAN 10"]
    assert meta.peer_name == "WAN 10"
    assert (meta.crypto_map, meta.seq, meta.dynamic) == ("WAN", 10, False)
    assert meta.interface == "eth0"
    assert meta.fvrf == "INET"
    assert meta.ivrf == "CORP"
    assert meta.accounting_list == "ACCT"  # the profile's list beats the crypto map's
    assert meta.reverse_route
    assert meta.initiate is True
    assert meta.remote == "203.0.113.1"
    assert meta.origin == "crypto map"
    (peer,) = result.ike.peers
    assert (peer.fvrf, peer.ivrf) == ("INET", "CORP")
    assert result.isakmp_descriptions == {"203.0.113.1": "ISAKMP_DESC"}


def test_accounting_from_crypto_map_client_accounting_list() -> None:
    text = STATIC.replace(" aaa accounting psk ACCT\n", "")
    assert compiled(text).meta["WAN 10"].accounting_list == "MAP-ACCT"


def test_no_accounting_list_at_all() -> None:
    text = STATIC.replace(" aaa accounting psk ACCT\n", "").replace(
        "crypto map WAN client accounting list MAP-ACCT\n", ""
    )
    assert compiled(text).meta["WAN 10"].accounting_list is None


def test_crypto_map_on_no_interface() -> None:
    text = STATIC.replace(" crypto map WAN\n", "")
    result = compiled(text)
    meta = result.meta["WAN 10"]
    assert (meta.interface, meta.fvrf) == ("", "")
    assert result.ike.peers[0].fvrf == ""


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ((), "ISAKMP_DESC"),
        ((" description ISAKMP_DESC\n",), "KEYRING_DESC"),
        ((" description ISAKMP_DESC\n", "  description KEYRING_DESC\n"), "ENTRY_DESC"),
        (
            (
                " description ISAKMP_DESC\n",
                "  description KEYRING_DESC\n",
                " description ENTRY_DESC\n",
            ),
            "PROFILE_DESC",
        ),
        (
            (
                " description ISAKMP_DESC\n",
                "  description KEYRING_DESC\n",
                " description ENTRY_DESC\n",
                " description PROFILE_DESC\n",
            ),
            "",
        ),
    ],
)
def test_description_precedence(drop: tuple[str, ...], expected: str) -> None:
    text = STATIC
    for line in drop:
        assert line in text
        text = text.replace(line, "")
    result = compiled(text)
    assert result.ike.peers[0].description == expected
    assert result.meta["WAN 10"].description == expected


def test_two_set_peers_make_two_policies() -> None:
    text = STATIC.replace(
        " set peer 203.0.113.1\n", " set peer 203.0.113.1\n set peer 203.0.113.2\n"
    ).replace("  address 203.0.113.1\n", "  address 203.0.113.0 255.255.255.0\n")
    result = compiled(text)
    assert [p.name for p in result.ike.peers] == ["WAN 10 203.0.113.1", "WAN 10 203.0.113.2"]
    assert [p.remote_addresses for p in result.ike.peers] == [
        (net("203.0.113.1/32"),),
        (net("203.0.113.2/32"),),
    ]
    assert result.meta["WAN 10 203.0.113.2"].remote == "203.0.113.2"
    # the isakmp peer description only applies to its own address
    assert [p.description for p in result.ike.peers] == ["ISAKMP_DESC", "KEYRING_DESC"]


def test_most_specific_keyring_peer_is_used() -> None:
    text = STATIC.replace(
        " peer HQ\n",
        " peer WIDE\n  address 203.0.0.0 255.255.0.0\n  pre-shared-key Wide\n peer HQ\n",
    )
    (peer,) = compiled(text).ike.peers
    assert peer.psk_local.reveal() == b"BranchToHq"


def test_keyring_peer_found_by_identity_address() -> None:
    text = STATIC.replace("  address 203.0.113.1\n", "").replace(
        "  identity fqdn hq.example.net\n", "  identity address 203.0.113.1\n"
    )
    (peer,) = compiled(text).ike.peers
    assert peer.psk_remote.reveal() == b"HqToBranch"
    assert peer.remote_identity == Identity.address("203.0.113.1")


def test_ports_are_passed_through() -> None:
    result = compiled(STATIC, ike_port=15500, natt_port=15501)
    (peer,) = result.ike.peers
    assert (peer.remote_ike_port, peer.remote_natt_port) == (15500, 15501)
    assert (result.ike.ike_port, result.ike.natt_port) == (15500, 15501)


# --- IKE proposals --------------------------------------------------------------------


def test_ikev2_policy_proposals_are_used() -> None:
    (peer,) = compiled(STATIC).ike.peers
    assert peer.ike_proposals == (
        IkeProposalPolicy("STRONG", (AES_GCM_256,), (PrfId.HMAC_SHA2_384,), (), (20, 19)),
    )


def test_default_proposal_without_a_policy() -> None:
    text = STATIC.replace("crypto ikev2 policy POL\n proposal STRONG\n", "")
    (peer,) = compiled(text).ike.peers
    assert peer.ike_proposals == (DEFAULT_IKE_PROPOSAL,)


def test_cbc_proposal_prf_defaults_to_the_integrity_hash() -> None:
    text = STATIC.replace(
        " encryption aes-gcm-256\n prf sha384\n",
        " encryption aes-cbc-256 aes-cbc-128\n integrity sha512 sha256\n",
    )
    (peer,) = compiled(text).ike.peers
    (proposal,) = peer.ike_proposals
    assert proposal.encryptions == (AES_CBC_256, AES_CBC_128)
    assert proposal.integrities == (IntegId.HMAC_SHA2_512_256, IntegId.HMAC_SHA2_256_128)
    assert proposal.prfs == (PrfId.HMAC_SHA2_512, PrfId.HMAC_SHA2_256)


def test_legacy_proposal_prf_defaults_to_the_integrity_hash_as_well() -> None:
    text = STATIC.replace(
        " encryption aes-gcm-256\n prf sha384\n",
        " encryption 3des aes-cbc-128\n integrity sha1 md5\n",
    )
    (peer,) = compiled(text).ike.peers
    (proposal,) = peer.ike_proposals
    assert proposal.encryptions == (TRIPLE_DES, AES_CBC_128)
    assert proposal.integrities == (IntegId.HMAC_SHA1_96, IntegId.HMAC_MD5_96)
    assert proposal.prfs == (PrfId.HMAC_SHA1, PrfId.HMAC_MD5)


@pytest.mark.parametrize(
    ("match", "applies"),
    [
        (" match fvrf INET\n", True),
        (" match fvrf any\n", True),
        (" match fvrf CORP\n", False),
        (" match address local 198.51.100.2\n", True),
        (" match address local 198.51.100.99\n", False),
    ],
)
def test_policy_match_selects_by_interface(match: str, applies: bool) -> None:
    text = STATIC.replace(" proposal STRONG\n", f" proposal STRONG\n{match}")
    (peer,) = compiled(text).ike.peers
    assert (peer.ike_proposals != (DEFAULT_IKE_PROPOSAL,)) is applies


def test_policies_with_several_proposals() -> None:
    text = STATIC.replace(
        "crypto ikev2 policy POL\n",
        "crypto ikev2 proposal MID\n encryption aes-gcm-128\n prf sha256\n group 14\n"
        "crypto ikev2 policy POL\n",
    ).replace(" proposal STRONG\n", " proposal STRONG\n proposal MID\n")
    (peer,) = compiled(text).ike.peers
    assert [p.name for p in peer.ike_proposals] == ["STRONG", "MID"]
    assert peer.ike_proposals[1].encryptions == (AES_GCM_128,)


# --- dynamic maps ---------------------------------------------------------------------


def test_dynamic_map_gives_one_policy_per_keyring_peer() -> None:
    result = compiled(DYNAMIC)
    assert [p.name for p in result.ike.peers] == ["RA-MAP 10/5 alice", "RA-MAP 10/5 branches"]
    alice, branches = result.ike.peers
    assert alice.remote_addresses == ()
    assert alice.remote_identity == Identity.email("alice@example.com")
    assert alice.psk_local.reveal() == b"AliceKey"
    assert branches.remote_addresses == (net("198.51.100.0/24"),)
    assert alice.local_ts == alice.remote_ts == (net("0.0.0.0/0"),)
    assert alice.origin == "dynamic crypto map"
    assert alice.description == "Alice laptop"
    assert alice.esp_proposals == (EspProposalPolicy("GCM", (AES_GCM_256,)),)


def test_dynamic_map_meta() -> None:
    meta = compiled(DYNAMIC).meta["RA-MAP 10/5 alice"]
    assert (meta.crypto_map, meta.seq, meta.dynamic) == ("RA-MAP", 10, True)
    assert meta.interface == "eth0"
    assert meta.initiate is False
    assert meta.remote is None
    assert meta.accounting_list == "RA-ACCT"
    assert meta.origin == "dynamic crypto map"


def test_dynamic_map_with_acl_and_several_entries() -> None:
    text = DYNAMIC.replace(
        "crypto map RA-MAP 10",
        "ip access-list extended RA\n permit ip 10.0.0.0 0.255.255.255 any\n"
        "crypto dynamic-map DYN 1\n set transform-set GCM\n set ikev2-profile RA\n"
        " match address RA\ncrypto map RA-MAP 10",
    )
    result = compiled(text)
    assert [p.name for p in result.ike.peers] == [
        "RA-MAP 10/1 alice",
        "RA-MAP 10/1 branches",
        "RA-MAP 10/5 alice",
        "RA-MAP 10/5 branches",
    ]
    assert result.ike.peers[0].local_ts == (net("10.0.0.0/8"),)


def test_ikev1_entries_compile_to_ikev1_peers() -> None:
    text = """\
        crypto isakmp policy 1
         encr aes
         authentication pre-share
         group 14
        crypto isakmp key V1Key address 172.31.100.2
        crypto ipsec transform-set TS esp-aes esp-sha-hmac
        access-list 101 permit ip host 10.1.1.1 host 10.2.2.2
        crypto dynamic-map D 1
         set transform-set TS
        crypto map M 5 ipsec-isakmp dynamic D
        crypto map M 10 ipsec-isakmp
         set peer 172.31.100.2
         set transform-set TS
         match address 101
        interface e0
         crypto map M
        """
    result = compiled(textwrap.dedent(text))
    by_name = {p.name: p for p in result.ike.peers}
    assert set(by_name) == {"M 5/1", "M 10"}
    static = by_name["M 10"]
    assert static.ike_version == 1
    assert static.psk_local.reveal() == b"V1Key"
    assert static.remote_addresses == (net("172.31.100.2/32"),)
    assert static.local_ts == (net("10.1.1.1/32"),)
    assert result.meta["M 10"].initiate and not result.meta["M 5/1"].initiate
    assert by_name["M 5/1"].remote_addresses == ()
    assert result.ike.isakmp is not None
    (policy,) = result.ike.isakmp.proposals
    assert (policy.encryption.key_bits, policy.group) == (128, 14)


def test_ikev1_entries_next_to_ikev2_entries() -> None:
    text = STATIC.replace(
        "interface eth0\n",
        "crypto map WAN 20 ipsec-isakmp\n set peer 203.0.113.9\ninterface eth0\n",
    )
    config = model(text)
    assert 20 in config.crypto_maps["WAN"]
    peers = {p.name: p.ike_version for p in compile_config(config).ike.peers}
    assert peers == {"WAN 10": 2, "WAN 20": 1}


# --- errors ---------------------------------------------------------------------------


def test_compile_refuses_a_model_with_errors() -> None:
    config = validate(
        parse_text(STATIC.replace(" set transform-set GCM", " set transform-set GCX"), FILE)
    )
    assert config.errors
    with pytest.raises(ConfigError) as caught:
        compile_config(config)
    assert "transform-set GCX does not exist" in str(caught.value)
    assert f"{FILE}:" in str(caught.value)
    assert caught.value.diagnostics == config.diagnostics


def test_compile_accepts_warnings() -> None:
    config = validate(parse_text(STATIC + "ip route 0.0.0.0 0.0.0.0 198.51.100.1\n", FILE))
    assert config.warnings and not config.errors
    assert len(compile_config(config).ike.peers) == 1


# --- loader ---------------------------------------------------------------------------


def test_load_compiled(tmp_path) -> None:
    path = tmp_path / "static.conf"
    path.write_text(STATIC, encoding="utf-8")
    loaded = load_compiled(path, ike_port=15500, natt_port=15501)
    assert loaded.model.file == str(path)
    assert [d.message for d in loaded.warnings] == [
        "transform-set OLD: esp-3des is weak: use esp-aes or esp-gcm",
        "transform-set OLD: esp-md5-hmac is weak: use esp-sha256-hmac or stronger",
    ]
    assert [p.name for p in loaded.compiled.ike.peers] == ["WAN 10"]
    assert loaded.compiled.ike.ike_port == 15500


def test_load_compiled_raises_with_every_diagnostic(tmp_path) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(STATIC.replace(" keyring local KR", " keyring local KR2"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_compiled(path)
    assert f"{path}:" in str(caught.value)
    assert "keyring KR2 does not exist" in str(caught.value)


@pytest.mark.parametrize("what", ["missing", "directory", "fifo"])
def test_load_unreadable_file_is_one_line_zero_error(tmp_path, what: str) -> None:
    path = tmp_path / "x.conf"
    if what == "directory":
        path.mkdir()
    elif what == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer
    config = load(path)
    (error,) = config.diagnostics
    assert error.source.line == 0
    assert error.message.startswith("cannot read the file")
    with pytest.raises(ConfigError):
        load_compiled(path)


@pytest.mark.parametrize(
    ("name", "peers"),
    [
        ("site-to-site.conf", ["WAN 10"]),
        ("remote-access.conf", ["RA-MAP 10/10 alice", "RA-MAP 10/10 bob"]),
    ],
)
def test_sample_configs_compile(name: str, peers: list[str]) -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "sample-configs" / name
    loaded = load_compiled(path)
    assert [p.name for p in loaded.compiled.ike.peers] == peers


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        # the profile's `match identity remote address` narrows the keyring peer's range
        ("198.51.100.0 255.255.255.128", {"branches": ("198.51.100.0/25",)}),
        ("198.51.100.0 255.255.255.0", {"branches": ("198.51.100.0/24",)}),
        ("198.51.0.0 255.255.0.0", {"branches": ("198.51.100.0/24",)}),
        ("203.0.113.0 255.255.255.0", {}),
    ],
)
def test_dynamic_peers_are_narrowed_by_the_profile_match(
    match: str, expected: dict[str, tuple[str, ...]]
) -> None:
    text = DYNAMIC.replace(
        " match identity remote email domain example.com\n",
        f" match identity remote address {match}\n",
    ).replace("  identity email alice@example.com\n", "  address 192.0.2.0 255.255.255.0\n")
    result = compiled(text)
    got = {
        p.name.rsplit(" ", 1)[1]: tuple(str(n) for n in p.remote_addresses)
        for p in result.ike.peers
    }
    assert got == expected


def test_dynamic_keyring_peer_without_address_takes_the_profile_match() -> None:
    text = DYNAMIC.replace(
        " match identity remote email domain example.com\n",
        " match identity remote address 192.0.2.0 255.255.255.0\n",
    )
    result = compiled(text)
    alice = next(p for p in result.ike.peers if p.name.endswith("alice"))
    assert alice.remote_addresses == (net("192.0.2.0/24"),)
