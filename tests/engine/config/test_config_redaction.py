"""No diagnostic, `show running-config` or model repr shows a secret, however the line
that holds it is typed: abbreviated, mistyped, with words too many or too few, in the
wrong mode, unindented, inside other blocks.

Diagnostics reach the daemon's log, remote syslog, stderr and the console's reload
banner, so a key in one is a key in all of them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.compile import compile_config
from engine.config.diagnostics import ConfigError, Severity
from engine.config.loader import load_compiled
from engine.config.parser import parse_text
from engine.config.render import render
from engine.config.validate import validate
from engine.redaction import is_secret_keyword, redact
from engine.secret import MASK

SECRET = "S3cr3t-K3y-Zz"
#: every piece of the secret an echo could cut out of it
FRAGMENTS = {SECRET.lower()[i:j] for i in range(len(SECRET)) for j in range(i + 4, len(SECRET) + 1)}
REPO = Path(__file__).resolve().parents[3]


def views(text: str) -> dict[str, str]:
    """Everything an operator or a log can see of a parsed file."""
    config = validate(parse_text(text, "r.conf"))
    seen = {
        "diagnostics": "\n".join(str(d) for d in config.diagnostics),
        "render": render(config),
        "repr": repr(config),
    }
    if not config.errors:
        seen["compiled"] = repr(compile_config(config))
    return seen


def leaks(text: str) -> list[str]:
    return [
        f"{where}: {shown}"
        for where, shown in views(text).items()
        if any(fragment in shown.lower() for fragment in FRAGMENTS)
    ]


def words(text: str) -> list[str]:
    return text.split()


# --- the lines hostile testing found ------------------------------------------------

KEYRING = "crypto ikev2 keyring KR\n peer p\n  address 192.0.2.9\n"


@pytest.mark.parametrize(
    "text, line, severity",
    [
        (KEYRING + f"  pre-shared-kye {SECRET}\n", 4, Severity.WARNING),
        (KEYRING + f"  pre-shared-key ALTPSK {SECRET}\n", 4, Severity.ERROR),
        (KEYRING + f"  pre-shared-key local {SECRET} KEY\n", 4, Severity.ERROR),
        (KEYRING + f"  pre-share-key {SECRET}\n", 4, Severity.WARNING),
        (f"radius-server kye {SECRET}\n", 1, Severity.WARNING),
        (f"pre-share-key {SECRET}\n", 1, Severity.WARNING),
        (f"crypto isakmp key ALTPSK {SECRET} address 192.0.2.9\n", 1, Severity.ERROR),
        (f"radius-server host 192.0.2.5 auth-port 1645 {SECRET}\n", 1, Severity.ERROR),
        (f"username admin privilege 15 secret 9 {SECRET}\n", 1, Severity.WARNING),
        (f"snmp-server community {SECRET} RO\n", 1, Severity.WARNING),
        (f"crypto isakmp policy 10\n key {SECRET}\n", 2, Severity.WARNING),
    ],
)
def test_diagnostics_of_a_secret_line_mask_the_secret(
    text: str, line: int, severity: Severity
) -> None:
    config = validate(parse_text(text, "r.conf"))
    here = [d for d in config.diagnostics if d.source.line == line]
    assert [d.severity for d in here] == [severity], [str(d) for d in config.diagnostics]
    assert MASK in here[0].message
    assert leaks(text) == []


@pytest.mark.parametrize(
    "text",
    [
        f"crypto ikev2 key {SECRET}\n",  # `key` abbreviates `keyring` here
        f"crypto ikev2 profile P\n key {SECRET}\n",  # ... and here
        f"crypto ikev2 profile P\n k {SECRET}\n",
        f"interface eth0 key {SECRET}\n",  # the interface name is glued from words
        f"crypto isakmp profile V1\n match identity group key {SECRET}\n",
        f"crypto map M 10 ipsec-isakmp\n set transform-set pre-shared-key {SECRET}\n",
    ],
)
def test_a_secret_never_becomes_a_name(text: str) -> None:
    """Read as some other command (`key` -> `keyring`), the secret would name a keyring
    or an interface and show in `show running-config` and later errors."""
    config = validate(parse_text(text, "r.conf"))
    (error,) = [d for d in config.errors if d.source.line == len(text.splitlines())]
    assert "reads as a secret keyword" in error.message
    assert leaks(text) == []


def test_keys_still_parse_and_neighbours_stay_readable() -> None:
    config = validate(
        parse_text(
            f"crypto isakmp key {SECRET} address 172.31.100.300\n"
            f"radius-server host 192.0.2.5 auth-port 1645 acct-prot 1646 key {SECRET}\n"
            f"crypto ikev2 keyring KR\n peer p\n  address 192.0.2.9\n  pre-shared-key 7 {SECRET}\n"
            "crypto ikev2 profile P\n keyring local KR\n authentication local pre-share\n",
            "r.conf",
        )
    )
    messages = {d.source.line: d.message for d in config.errors}
    assert messages[1] == "bad peer address '172.31.100.300'"
    assert messages[2].startswith("'acct-prot' is not one of")
    assert messages[6].startswith("encrypted key types 6 and 7 are not supported")
    assert config.ikev2_profiles["P"].keyring is not None
    assert config.ikev2_profiles["P"].keyring[0] == "KR"


@pytest.mark.parametrize(
    "word",
    words(
        "key k ke KEY kye keys key-string password pas pasword passwd secret secr secert "
        "pre pre-sh pre-share pre-shared pre-shared-key pre-shared-kye pre-share-key "
        "preshared-key pre_shared_key pre-shred community comm comunity authentication-key "
        "auth-key message-digest-key wpa-psk domain-password"
    ),
)
def test_secret_keywords_abbreviated_and_mistyped(word: str) -> None:
    assert is_secret_keyword(word)


@pytest.mark.parametrize(
    "word",
    words(
        "keyring keyr key-id keepalive kee authentication auth address local remote peer "
        "profile permit description common seconds secondary security-association psk "
        "passive precedence preempt esp-sha256-hmac auth-port acct-port 192.0.2.1 0 KR"
    ),
)
def test_words_that_are_no_secret_keywords(word: str) -> None:
    assert not is_secret_keyword(word)


def test_redact_knows_where_commands_put_their_secret() -> None:
    assert redact(f"username admin {SECRET}") == f"username admin {MASK}"
    assert redact(f"crypto isakmp {SECRET} address 192.0.2.9") == f"crypto isakmp {MASK}"
    assert redact(f"snmp-server host 192.0.2.7 version 2c {SECRET}") == (
        f"snmp-server host 192.0.2.7 {MASK}"
    )
    assert redact(f"standby 1 authentication {SECRET}") == f"standby 1 authentication {MASK}"
    assert redact(f"radius-server key={SECRET}") == f"radius-server {MASK}"
    assert redact("ip route 0.0.0.0 0.0.0.0 192.0.2.254") == "ip route 0.0.0.0 0.0.0.0 192.0.2.254"


# --- the corpus ----------------------------------------------------------------------

#: secret-bearing lines; [KEYWORD] is what the variations abbreviate and mistype
TEMPLATES = [
    "crypto isakmp [key] {S} address 192.0.2.9",
    "crypto isakmp [key] 0 {S} address 192.0.2.9 255.255.255.255 no-xauth",
    "crypto isakmp [key] 6 {S} address 192.0.2.9",
    "crypto isakmp [key] {S} hostname peer.example",
    "[pre-shared-key] {S}",
    "[pre-shared-key] local {S}",
    "[pre-shared-key] remote 0 {S}",
    "[pre-shared-key] local 6 {S}",
    "[pre-shared-key] address 192.0.2.9 [key] {S}",
    "[pre-shared-key] hostname h.example [key] {S}",
    "radius-server [key] {S}",
    "radius-server [key] 7 {S}",
    "radius-server [key] 0 {S} with spaces",
    "radius-server host 192.0.2.5 auth-port 1645 acct-port 1646 [key] {S}",
    "radius-server host 192.0.2.5 [key] 0 {S}",
    "server 192.0.2.5 auth-port 1645 acct-port 1646 [key] {S}",
    "server-private 192.0.2.5 [key] {S}",
    "[key] 0 {S}",
    "[key] {S}",
    "username admin [password] 0 {S}",
    "username admin [secret] 9 {S}",
    "username admin privilege 15 [secret] {S}",
    "enable [secret] 5 {S}",
    "enable [password] {S}",
    "snmp-server [community] {S} RO",
    "snmp-server host 192.0.2.7 version 2c {S}",
    "tacacs-server [key] {S}",
    "tacacs-server host 192.0.2.8 [key] {S}",
    "ntp [authentication-key] 1 md5 {S}",
    "[key-string] {S}",
    "authentication local pre-share [key] {S}",
    "authentication remote pre-share [key] 0 {S}",
    "ip ospf [authentication-key] {S}",
    "ip ospf [message-digest-key] 1 md5 {S}",
    "standby 1 authentication {S}",
    "wpa-psk ascii 0 {S}",
]
#: blocks the line lands in (indented) or after (unindented)
CONTEXTS = [
    "",
    "crypto ikev2 keyring KR\n peer p1\n  address 192.0.2.9\n",
    "crypto ikev2 keyring KR\n",
    "crypto ikev2 profile P\n",
    "crypto ikev2 proposal PR\n",
    "crypto ikev2 policy PO\n",
    "crypto isakmp policy 10\n",
    "crypto isakmp profile IP\n",
    "crypto isakmp peer address 192.0.2.9\n",
    "crypto map M 10 ipsec-isakmp\n",
    "crypto dynamic-map D 10\n",
    "crypto ipsec transform-set TS esp-gcm 256\n",
    "interface eth0\n",
    "ip access-list extended A\n",
    "aaa group server radius G\n",
    "ip vrf V\n",
    "radius server R\n",
    "crypto keyring V1\n",
    "line vty 0 4\n",
]
INDENTS = ["", " ", "  ", "\t"]
#: the rest of a file, so that references resolve and the file can compile
TAIL = "crypto ikev2 profile Q\n keyring local KR\n"


def keyword_variants(keyword: str) -> list[str]:
    """The keyword as typed in a hurry: cased, abbreviated, one typo away."""
    found = [keyword, keyword.upper(), keyword.capitalize()]
    found += [keyword[:n] for n in range(3, len(keyword))]
    for i in range(len(keyword) - 1):
        found.append(keyword[:i] + keyword[i + 1] + keyword[i] + keyword[i + 2 :])
        found.append(keyword[:i] + keyword[i + 1 :])
        found.append(keyword[:i] + keyword[i] + keyword[i:])
    found += [keyword.replace("-", "_"), keyword.replace("-", "")]
    return list(dict.fromkeys(found))


def line_variants(template: str) -> list[str]:
    """Words too many, too few, glued; the secret twice."""
    words = template.split()
    at = words.index("{S}")
    found = [
        template,
        " ".join([*words[:at], "ALTPSK", *words[at:]]),
        " ".join([*words, "KEY"]),
        " ".join([*words, "extra", "words"]),
        " ".join(words[: at + 1]),
        " ".join([*words[:at], "{S}", "{S}", *words[at + 1 :]]),
    ]
    found += [" ".join(words[:j] + words[j + 1 :]) for j in range(1, len(words)) if j != at]
    if at > 0:
        found.append(" ".join([*words[: at - 1], f"{words[at - 1]}={words[at]}", *words[at + 1 :]]))
    return found


def typed(line: str, keyword: str) -> str:
    first = re.search(r"\[([^\]]+)\]", line)
    if first is not None:
        line = line[: first.start()] + keyword + line[first.end() :]
    return re.sub(r"\[([^\]]+)\]", r"\1", line).replace("{S}", SECRET)


def first_keyword(template: str) -> str | None:
    found = re.search(r"\[([^\]]+)\]", template)
    return found.group(1) if found else None


def test_every_template_in_every_block() -> None:
    """Each secret-bearing line, as written and with its words disturbed, in each block
    and indentation: nothing shows the secret. Most of them are diagnosed."""
    cases = diagnosed = 0
    for template in TEMPLATES:
        keyword = first_keyword(template) or ""
        for line in line_variants(template):
            text = typed(line, keyword)
            for context in CONTEXTS:
                for indent in INDENTS[:2] if context else [""]:
                    config_text = f"{context}{indent}{text}\n{TAIL}"
                    assert leaks(config_text) == [], config_text
                    config = parse_text(config_text, "r.conf")
                    cases += 1
                    diagnosed += bool(config.diagnostics)
    assert cases > 3000
    assert diagnosed > cases * 0.9  # the corpus does reach the diagnostics


def secret_line() -> st.SearchStrategy[str]:
    def build(template: str, variant: int, which: int) -> str:
        keyword = first_keyword(template)
        lines = line_variants(template)
        line = lines[variant % len(lines)]
        if keyword is None:
            return typed(line, "")
        keywords = keyword_variants(keyword)
        return typed(line, keywords[which % len(keywords)])

    return st.builds(build, st.sampled_from(TEMPLATES), st.integers(0, 40), st.integers(0, 80))


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(CONTEXTS), st.sampled_from(INDENTS), secret_line()),
        min_size=1,
        max_size=6,
    )
)
def test_abbreviated_mistyped_misplaced_secrets_never_show(
    lines: list[tuple[str, str, str]],
) -> None:
    text = "".join(f"{context}{indent}{line}\n" for context, indent, line in lines) + TAIL
    assert leaks(text) == [], text


# --- the ways out: errors of a reload, `check` --------------------------------------


def test_reload_errors_and_warnings_mask_the_secret(tmp_path: Path) -> None:
    """The daemon logs `str(ConfigError)` and the warnings of what it loads."""
    path = tmp_path / "r.conf"
    path.write_text(
        KEYRING
        + f"  pre-shared-key ALTPSK {SECRET}\n"
        + f"radius-server kye {SECRET}\n"
        + "crypto ikev2 profile P\n keyring local KR\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_compiled(path)
    shown = str(caught.value) + "\n".join(str(d) for d in caught.value.diagnostics)
    assert f"{path}:4:" in shown and f"{path}:5:" in shown
    assert not any(fragment in shown.lower() for fragment in FRAGMENTS)


def test_check_output_masks_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "r.conf"
    path.write_text(
        KEYRING + f"  pre-shared-kye {SECRET}\n  pre-shared-key ALTPSK {SECRET}\n"
        f"radius-server kye {SECRET}\npre-share-key {SECRET}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "check", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) >= 5
    assert SECRET not in result.stdout + result.stderr
