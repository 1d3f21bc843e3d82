"""A real XSM service on loopback, a store to feed it, users of three privileges, and an
aiohttp client with a server-sent-events reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sse_client import SseStream

from engine.config.model import LocalUser
from engine.control_socket import to_json
from engine.secret import Secret
from engine.store import FLOWS, SESSIONS, Store
from engine.xsm.datasets import DataSet, Row, builtin_datasets
from engine.xsm.server import XsmService
from engine.xsm.settings import XsmSettings
from engine.xsm.status import ExecResult

PASSWORDS = {"admin": "s3cret-admin", "viewer": "s3cret-viewer", "guest": "s3cret-guest"}
PRIVILEGES = {"admin": 15, "viewer": 5, "guest": 1}
MONITOR_LEVEL = 5
CONFIGURATION_LEVEL = 15


@dataclass(frozen=True)
class Rec:
    """A store record as the data sets publish it (any dataclass becomes a JSON row)."""

    peer: str
    status: str
    blob: str = ""


def users() -> tuple[LocalUser, ...]:
    return tuple(
        LocalUser(name=name, privilege=PRIVILEGES[name], secret=Secret(PASSWORDS[name]), kind=0)
        for name in PASSWORDS
    )


class TestSource:
    """The store and data sets, plus one sampled set whose rows the test sets."""

    __test__ = False

    def __init__(self) -> None:
        self.store = Store()
        self.sampled: dict[str, Row] = {"one": {"value": 1}}
        sets = dict(builtin_datasets())
        # the tests' records are plain: the store-backed sets show them as they are
        for name, table in (("crypto-sessions", SESSIONS), ("ipsec-flows", FLOWS)):
            sets[name] = DataSet(
                name, "vdm", "monitor", f"test {table}", table, lambda key, rec: to_json(rec)
            )
        sets["test-sampled"] = DataSet(
            "test-sampled",
            "edm",
            "monitor",
            "a sampled set for tests",
            sample=lambda source: dict(self.sampled),
        )
        sets["test-config"] = DataSet(
            "test-config",
            "edm",
            "configuration",
            "a configuration-level set for tests",
            sample=lambda source: {"line": {"text": "hostname gw"}},
        )
        self._datasets = sets

    @property
    def datasets(self) -> Mapping[str, DataSet]:
        return self._datasets


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.source = TestSource()
        self.store = self.source.store
        self.settings = XsmSettings(
            http_server=True,
            http_port=0,
            enabled=True,
            vdm=True,
            edm=True,
            monitor_level=MONITOR_LEVEL,
            configuration_level=CONFIGURATION_LEVEL,
            users=users(),
        )
        self.failures: list[tuple[str, str, str]] = []
        self.exec_calls: list[tuple[list[str], str]] = []
        self.service: XsmService | None = None
        self.session: aiohttp.ClientSession | None = None

    def exec_command(self, words: list[str], by: str) -> ExecResult:
        from engine.exec_syntax import Clear, parse_exec

        parsed = parse_exec(words)  # raises ExecSyntaxError
        self.exec_calls.append((words, by))
        text = "cleared\n" if isinstance(parsed, Clear) else f"{parsed.title}\n"
        return ExecResult(text, [{"words": words}])

    def metrics(self, accept: str) -> tuple[bytes, str]:
        return b"xsm_clients 0\n", "text/plain; version=0.0.4; charset=utf-8"

    async def start(self, **options: Any) -> XsmService:
        settings = options.pop("settings", None) or self.settings
        self.settings = settings
        options.setdefault("state_dir", self.tmp_path / "state")
        options.setdefault("host", "127.0.0.1")
        options.setdefault("hostname", "gw.example")
        options.setdefault("on_login_failure", lambda *args: self.failures.append(args))
        options.setdefault("exec_command", self.exec_command)
        options.setdefault("metrics", self.metrics)
        options.setdefault("sweep_interval", 0.1)
        self.service = XsmService(settings, self.source, **options)
        await self.service.start()
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.service

    def url(self, path: str, scheme: str = "http") -> str:
        assert self.service is not None
        port = self.service.http_port if scheme == "http" else self.service.secure_port
        return f"{scheme}://127.0.0.1:{port}{path}"

    @staticmethod
    def auth(name: str, password: str | None = None) -> dict[str, str]:
        """The Authorization header for a user (with their password unless given)."""
        secret = PASSWORDS.get(name, "") if password is None else password
        return {"Authorization": aiohttp.encode_basic_auth(name, secret)}

    async def get(self, path: str, user: str | None = "admin", **kwargs: Any) -> Any:
        assert self.session is not None
        if user is not None:
            kwargs["headers"] = {**self.auth(user), **kwargs.get("headers", {})}
        return await self.session.get(self.url(path), **kwargs)

    async def sse(
        self, xrds: str, user: str = "admin", headers: dict[str, str] | None = None
    ) -> SseStream:
        response = await self.get(
            f"/xsm/subscribe?xrd={xrds}",
            user,
            headers={"Accept": "text/event-stream", **(headers or {})},
        )
        assert response.status == 200, await response.text()
        return SseStream(response)

    def put(self, key: str, peer: str, status: str = "UP-ACTIVE", blob: str = "") -> None:
        self.store.put(SESSIONS, key, Rec(peer, status, blob))

    def configure(self, **changes: Any) -> XsmSettings:
        return replace(self.settings, **changes)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.service is not None:
            await self.service.stop()


@pytest.fixture
async def xsm(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    await harness.close()
