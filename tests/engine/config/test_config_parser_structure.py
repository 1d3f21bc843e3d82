"""The block structure of the parser: modes, indentation, comments, `end`, unknown lines."""

from __future__ import annotations

import pytest
from config_snippets import Snippets

from engine.config.diagnostics import Severity, Source
from engine.config.parser import config_lines, parse_file, parse_text
from engine.config.validate import validate

FILE = "t.conf"
SNIPPETS = Snippets(FILE)
parse, src, at = SNIPPETS.parse, SNIPPETS.src, SNIPPETS.at


def test_config_lines_skip_blanks_comments_and_everything_after_end() -> None:
    lines = config_lines(
        "hostname a\n\n! comment\n   !indented comment\n interface x\nEND\nhostname b\n"
    )
    assert [(line.number, line.text, line.indented) for line in lines] == [
        (1, "hostname a", False),
        (5, " interface x", True),
    ]


def test_tab_counts_as_indentation() -> None:
    (line,) = config_lines("\tdescription x")
    assert line.indented


def test_empty_text_is_a_default_config() -> None:
    config = parse("")
    assert config.hostname == "Router"
    assert config.diagnostics == []
    assert config.file == FILE


def test_lines_after_end_are_not_read() -> None:
    config = parse("""\
        hostname before
        end
        hostname after
        this is not a command
        """)
    assert config.hostname == "before"
    assert config.diagnostics == []


def test_comments_do_not_close_a_block() -> None:
    config = parse("""\
        interface eth0
        !
        ip address 192.0.2.1 255.255.255.0
        """)
    assert str(config.interfaces["eth0"].address) == "192.0.2.1/24"


def test_unindented_sub_commands_stay_in_the_open_block() -> None:
    config = parse("""\
        crypto dynamic-map DYN 10
        set transform-set TS
        set security-association lifetime seconds 600
        reverse-route
        interface FastEthernet0/1
        ip address 192.0.2.1 255.255.255.0
        no ip route-cache
        duplex auto
        speed auto
        crypto map VPN
        """)
    entry = config.dynamic_maps["DYN"][10]
    assert entry.transform_sets == [("TS", Source(FILE, 2))]
    assert entry.lifetime_seconds == 600
    assert entry.reverse_route
    interface = config.interfaces["FastEthernet0/1"]
    assert interface.crypto_map == ("VPN", Source(FILE, 10))
    assert [d.source.line for d in config.warnings] == [7, 8, 9]
    assert all("in interface mode" in d.message for d in config.warnings)
    assert config.errors == []


def test_a_global_command_closes_the_block() -> None:
    config = parse("""\
        interface eth0
        ip address 192.0.2.1 255.255.255.0
        hostname gw
        description not for the interface
        """)
    assert config.hostname == "gw"
    assert config.interfaces["eth0"].description == ""
    assert at(config, 4) == ["ignored: not supported: description not for the interface"]


def test_indented_lines_after_an_unknown_global_are_skipped_silently() -> None:
    config = parse("""\
        line vty 0 4
         transport input ssh
         login local
        ntp server 192.0.2.123
        """)
    assert [d.source.line for d in config.diagnostics] == [1, 4]
    assert all(d.severity is Severity.WARNING for d in config.diagnostics)
    assert at(config, 1) == ["ignored: not supported: line vty 0 4"]


def test_indented_lines_after_a_global_without_block_are_skipped() -> None:
    config = parse("""\
        hostname gw
         description orphan
        """)
    assert config.diagnostics == []


def test_unknown_indented_sub_command_is_a_warning_in_that_mode() -> None:
    config = parse("""\
        crypto ikev2 profile P
         redirect gateway auth
         keyring local K
        """)
    assert at(config, 2) == ["ignored: not supported in ikev2 profile mode: redirect gateway auth"]
    assert config.ikev2_profiles["P"].keyring == ("K", Source(FILE, 3))


@pytest.mark.parametrize(
    "line",
    [
        "ntp server 192.0.2.123",
        "line con 0",
        "voice call carrier capacity active",
        "mgcp profile default",
        "dial-peer cor custom",
        "gatekeeper",
        "service timestamps debug datetime msec",
        "version 12.2",
        "ip http path flash:",
        "ip domain name example.net",
        "crypto pki trustpoint TP",
        "crypto ikev2 dpd 10 2 on-demand",
        "radius-server authorization permit missing Service-Type",
        "aaa authorization exec default local",
        "crypto-isakmp profile groupA",
    ],
)
def test_unsupported_global_commands_are_warnings_naming_the_line(line: str) -> None:
    config = validate(parse_text(f"hostname gw\n{line}\n", FILE))
    assert config.errors == []
    (warning,) = config.warnings
    assert warning.source == Source(FILE, 2)
    assert "ignored: not supported" in warning.message
    assert line in warning.message


def test_a_route_not_into_a_tunnel_is_the_hosts_and_said_so() -> None:
    line = "ip route 0.0.0.0 0.0.0.0 192.0.2.254"
    config = validate(parse_text(f"hostname gw\n{line}\n", FILE))
    assert config.errors == []
    (warning,) = config.warnings
    assert warning.source == Source(FILE, 2)
    assert warning.message == (
        f"ignored: {line}: not into a tunnel interface (the host's own routing table carries it)"
    )


def test_keywords_are_case_insensitive_and_abbreviated() -> None:
    config = parse("""\
        HOSTNAME Gw1
        int GigabitEthernet 0/0
         desc Uplink
         ip add 192.0.2.1 255.255.255.0
         CRYPTO MAP VPN
        CRY IKEV2 PROP P1
         ENCR AES-GCM-256
         PR SHA384
         GR 19
        """)
    assert config.hostname == "Gw1"
    assert config.ikev2_proposals["P1"].groups == [19]
    interface = config.interfaces["GigabitEthernet0/0"]
    assert interface.description == "Uplink"
    assert interface.crypto_map is not None and interface.crypto_map[0] == "VPN"
    assert config.diagnostics == []


def test_ambiguous_abbreviation_is_not_a_known_command() -> None:
    config = parse("crypto ikev2 pro P\n")
    assert config.ikev2_proposals == {} and config.ikev2_profiles == {}
    (warning,) = config.warnings
    assert warning.message.startswith("ignored: not supported")


def test_names_keep_their_case() -> None:
    config = parse("crypto ipsec transform-set MyTs esp-gcm\n")
    assert list(config.transform_sets) == ["MyTs"]


def test_crlf_line_endings() -> None:
    config = parse_text("hostname a\r\ninterface e0\r\n ip address 10.0.0.1 255.0.0.0\r\n", FILE)
    assert config.hostname == "a"
    assert config.interfaces["e0"].address is not None
    assert config.diagnostics == []


def test_parse_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "router.conf"
    path.write_text("hostname r1\nbogus line\n", encoding="utf-8")
    config = parse_file(path)
    assert config.file == str(path)
    assert config.hostname == "r1"
    assert config.warnings[0].source == Source(str(path), 2)
    assert str(config.warnings[0]).startswith(f"{path}:2: warning: ignored")


# --- A global command that looks like a sub-command must still leave the block ---------
#
# IOS decides by mode: a line the open sub-mode cannot parse is tried in the parent
# (global) mode. The parser instead keeps any unindented line whose first two words
# are a sub-command's (`crypto map`, `ip vrf`, `aaa accounting`, `vrf`) in the block,
# so these global commands are swallowed by the block before them - and global
# commands are always unindented, so this happens in ordinary indented configs too.


def test_global_crypto_map_entry_after_interface_is_not_swallowed() -> None:
    config = validate(
        parse("""\
            interface eth0
             ip address 192.0.2.1 255.255.255.0
             crypto map WAN
            crypto map WAN 10 ipsec-isakmp
             set peer 198.51.100.1
            """)
    )
    assert config.interfaces["eth0"].crypto_map == ("WAN", Source(FILE, 3))
    assert 10 in config.crypto_maps.get("WAN", {})
    assert config.crypto_maps["WAN"][10].peers[0][1] == Source(FILE, 5)


def test_global_crypto_map_client_accounting_after_interface() -> None:
    config = parse("""\
        interface eth0
         crypto map WAN
        crypto map WAN client accounting list ACCT
        """)
    assert config.interfaces["eth0"].crypto_map == ("WAN", Source(FILE, 2))
    assert config.crypto_map_accounting == {"WAN": ("ACCT", Source(FILE, 3))}


def test_global_ip_vrf_after_interface() -> None:
    config = parse("""\
        interface eth0
         ip address 192.0.2.1 255.255.255.0
        ip vrf CORP
         rd 65000:1
        """)
    assert config.errors == []
    assert config.vrfs == {"CORP": Source(FILE, 3)}


def test_global_aaa_accounting_after_ikev2_profile() -> None:
    config = parse("""\
        crypto ikev2 profile P
         keyring local K
        aaa accounting network ACCT start-stop group radius
        """)
    assert config.errors == []
    assert "ACCT" in config.accounting_lists
    assert config.ikev2_profiles["P"].accounting is None


def test_global_vrf_definition_after_isakmp_profile() -> None:
    config = parse("""\
        crypto isakmp profile RA
         vrf CORP
        vrf definition INET
        """)
    assert config.errors == []
    assert "INET" in config.vrfs
    assert config.isakmp_profiles["RA"].vrf == "CORP"


def test_abbreviated_interface_after_unindented_proposal() -> None:
    config = parse("""\
        crypto ikev2 proposal P
        encryption aes-gcm-256
        prf sha256
        group 19
        int GigabitEthernet0/0
        ip address 192.0.2.1 255.255.255.0
        """)
    assert config.errors == []
    assert "GigabitEthernet0/0" in config.interfaces


# --- The indented body of an unknown global block belongs to that block ---------------
#
# An unknown unindented line leaves the open block open (right for `duplex auto` in an
# unindented interface), but the indented lines after it are its body: they are applied
# to the block that was open before it instead of being skipped.


def test_body_of_a_typoed_block_does_not_reach_the_previous_block() -> None:
    config = validate(
        parse("""\
            aaa new-model
            aaa accounting network ACCT start-stop group radius
            radius-server host 192.0.2.20 key RadKey
            crypto isakmp profile real
              vrf tenant
              accounting ACCT
            crypto-isakmp profile typo
              vrf nowhere
              accounting missing-list
            """)
    )
    profile = config.isakmp_profiles["real"]
    assert profile.vrf == "tenant"
    assert profile.accounting == ("ACCT", Source(FILE, 6))
    assert config.errors == []


def test_unsupported_block_after_interface_keeps_interface_description() -> None:
    config = parse("""\
        interface GigabitEthernet0/1
         description WAN uplink
         crypto map VPN
        !
        class-map match-any VOICE
         description Voice traffic
         match dscp ef
        """)
    assert config.interfaces["GigabitEthernet0/1"].description == "WAN uplink"
    assert [d.source.line for d in config.diagnostics] == [5]


@pytest.mark.parametrize("separator", ["\f", "\x1c", "\u2028", "\x85"])
def test_line_numbers_count_newlines_only(separator: str) -> None:
    config = parse_text(f"! note{separator}more\nbogus line\n", FILE)
    assert [d.source.line for d in config.diagnostics] == [2]
