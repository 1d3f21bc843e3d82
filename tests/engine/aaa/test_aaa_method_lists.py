"""`aaa authentication login` lists at run time, with IOS's semantics."""

from __future__ import annotations

import asyncio
import socket
import textwrap

import pytest
from aaa_support import FAST, KEY, auth_server, users

from engine.aaa.method_lists import Authenticator
from engine.config.parser import parse_text
from engine.config.validate import validate

TYPE9 = "$9$plz/kf0e3.dns.$cKvJDd6bXmyaUWdx42dgcRwpdDs0djBEqzjlmMbYEW6"  # 0foo0


def dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def authenticator(text: str) -> Authenticator:
    model = validate(parse_text(textwrap.dedent(text), "lists.conf"))
    assert model.errors == [], [str(d) for d in model.errors]
    return Authenticator.from_config(model, timers=FAST)


LOCAL = f"""\
    username Alice secret 9 {TYPE9}
    username bob password 7 0822455D0A16
    aaa authentication login LOCAL local
    aaa authentication login EXACT local-case
    aaa authentication login OPEN none
    aaa authentication login LOCAL-THEN-NONE local none
    """


@pytest.mark.parametrize(
    ("list_name", "user", "password", "ok", "error", "method"),
    [
        ("LOCAL", "Alice", "0foo0", True, False, "local"),
        ("LOCAL", "alice", "0foo0", True, False, "local"),  # `local`: any case
        ("EXACT", "alice", "0foo0", False, True, "local-case"),
        ("EXACT", "Alice", "0foo0", True, False, "local-case"),
        ("LOCAL", "bob", "cisco", True, False, "local"),
        ("LOCAL", "bob", "Cisco", False, False, "local"),
        ("LOCAL", "nobody", "x", False, True, "local"),  # not found: an ERROR
        ("OPEN", "anyone", "", True, False, "none"),
        # a wrong password FAILS: `none` after it is never reached
        ("LOCAL-THEN-NONE", "bob", "Wr0ngPw", False, False, "local"),
        # an unknown user is an ERROR: the next method is tried
        ("LOCAL-THEN-NONE", "nobody", "x", True, False, "none"),
    ],
)
async def test_local_and_none(
    list_name: str, user: str, password: str, ok: bool, error: bool, method: str
) -> None:
    auth = authenticator(LOCAL)
    result = await auth.check(list_name, user, password)
    assert (result.ok, result.error, result.method) == (ok, error, method), result.reason
    assert not password or password not in result.reason


async def test_no_list_is_the_default_list_else_the_local_database() -> None:
    without = authenticator(LOCAL)
    assert without.methods(None) == ("local",)
    assert (await without.check(None, "bob", "cisco")).ok
    assert not (await without.check(None, "carol", "x")).ok
    with_default = authenticator(textwrap.dedent(LOCAL) + "aaa authentication login default none\n")
    assert (await with_default.check(None, "carol", "x")).ok


async def test_an_undefined_list_refuses_everyone() -> None:
    auth = authenticator(LOCAL)
    result = await auth.check("NOPE", "bob", "cisco")
    assert (result.ok, result.error) == (False, False)
    assert result.reason == "authentication list NOPE is not defined"


async def test_a_radius_reject_is_final_an_unreachable_group_falls_through() -> None:
    async with auth_server(users({"joe": "Rad1usPw"}, **{"Framed-IP-Address": "10.7.0.5"})) as rad:
        auth = authenticator(f"""\
            username joe password LocalPw
            username sam password SamPw
            aaa group server radius RAD
             server 127.0.0.1 auth-port {rad.port} acct-port 1813
            aaa group server radius GONE
             server 127.0.0.1 auth-port {dead_port()} acct-port 1813
            radius-server key {KEY}
            aaa authentication login VPN group RAD local
            aaa authentication login FALLBACK group GONE local
            aaa authentication login NOWHERE group GONE
            """)
        accepted = await auth.check("VPN", "joe", "Rad1usPw")
        rejected = await auth.check("VPN", "joe", "LocalPw")
        fallback = await auth.check("FALLBACK", "sam", "SamPw")
        nowhere = await auth.check("NOWHERE", "sam", "SamPw")
        await auth.close()
    assert accepted.ok and accepted.method == "group:RAD"
    assert str(accepted.attributes.framed_ip_address) == "10.7.0.5"
    # rejected by the server: the local database is not asked, though it would accept
    assert (rejected.ok, rejected.error, rejected.method) == (False, False, "group:RAD")
    assert fallback.ok and fallback.method == "local"
    assert (nowhere.ok, nowhere.error) == (False, True)
    assert nowhere.reason.startswith("no method could authenticate the user: group:GONE: ")
    for result in (accepted, rejected, fallback, nowhere):
        for password in ("Rad1usPw", "LocalPw", "SamPw"):
            assert password not in result.reason


async def test_group_radius_is_every_radius_server_host_in_order() -> None:
    async with auth_server(users({"joe": "Pw1"})) as rad:
        auth = authenticator(f"""\
            radius-server host 127.0.0.1 auth-port {dead_port()} acct-port 1813 key {KEY}
            radius-server host 127.0.0.1 auth-port {rad.port} acct-port 1813 key {KEY}
            aaa authentication login default group radius
            """)
        result = await auth.check(None, "joe", "Pw1")
        await auth.close()
    assert result.ok and result.server == f"127.0.0.1:{rad.port}"


async def test_hashed_secrets_are_checked_off_the_loop() -> None:
    """scrypt takes tens of milliseconds: other work goes on meanwhile."""
    auth = authenticator(LOCAL)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    results = await asyncio.gather(*(auth.check("LOCAL", "Alice", "0foo0") for _ in range(4)))
    task.cancel()
    assert all(r.ok for r in results)
    assert ticks > 4


async def test_a_reload_takes_new_users_and_lists() -> None:
    auth = authenticator(LOCAL)
    model = validate(
        parse_text("username carol password Carol1\naaa authentication login LOCAL local\n", "n")
    )
    auth.apply_config(model, timers=FAST)
    assert (await auth.check("LOCAL", "carol", "Carol1")).ok
    assert not (await auth.check("LOCAL", "bob", "cisco")).ok
    assert (await auth.check("OPEN", "x", "y")).reason == "authentication list OPEN is not defined"
