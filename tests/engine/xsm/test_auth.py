"""HTTP basic credentials, the per-address login limit, and client addresses."""

from __future__ import annotations

import base64
import ipaddress

import pytest

from engine.xsm.auth import (
    Credentials,
    LoginLimiter,
    MalformedCredentials,
    client_address,
    parse_basic,
)


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_parse_basic() -> None:
    assert parse_basic(None) is None
    assert parse_basic(basic("admin:pa:ss")) == Credentials("admin", "pa:ss")
    assert parse_basic("basic " + basic("u:p")[6:]) == Credentials("u", "p")
    for bad in ("Bearer abc", "Basic", "Basic ***", basic("no-colon"), basic(":nouser")):
        with pytest.raises(MalformedCredentials):
            parse_basic(bad)


def test_credentials_never_show_the_password() -> None:
    assert "hunter2" not in repr(Credentials("admin", "hunter2"))


def test_limiter_holds_off_after_failures_and_lets_go_after_backoff() -> None:
    now = [0.0]
    limiter = LoginLimiter(lambda: now[0], failures=3, window=10, backoff=20)
    for _ in range(2):
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is None
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 20
    assert limiter.retry_after("10.0.0.2") is None  # per address
    now[0] = 21
    assert limiter.retry_after("10.0.0.1") is None


def test_limiter_window_forgets_old_failures_and_success_clears() -> None:
    now = [0.0]
    limiter = LoginLimiter(lambda: now[0], failures=3, window=10, backoff=20)
    limiter.failed("a")
    limiter.failed("a")
    now[0] = 11
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    assert limiter.retry_after("a") is None


def test_limiter_is_bounded() -> None:
    limiter = LoginLimiter(lambda: 0.0, failures=2, max_addresses=100)
    for n in range(10_000):
        limiter.failed(f"10.{n // 256}.{n % 256}.1")
    assert len(limiter) <= 100


def test_client_address() -> None:
    assert client_address("::ffff:10.1.1.1") == ipaddress.ip_address("10.1.1.1")
    assert client_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert client_address(None) is None and client_address("garbage") is None
