"""A real Prometheus scrapes the gateway's /metrics: what a monitoring stack stores.

Prometheus (Debian's package) runs in the foreground with a private configuration: one
scrape job against the hub's XSM service every second with a monitor-level login (the
password in a file, as Prometheus reads it), one job with a wrong password, a storage
directory in the test's temp dir, and its HTTP API on a free loopback port. The test
reads the series back through that API: the exporter's families with their labels,
the gateway's own, and a `clear` from the CLI showing in the next scrapes. Prometheus
asks for OpenMetrics first, so its own, stricter parser reads what the gateway writes.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hub_spokes import Network
from interop.conftest import require
from netutil import free_port

pytestmark = pytest.mark.asyncio

VIEWER = ("grafana", "scrape-me-81")
PROMETHEUS_WAIT_S = 30.0


def scrape_config(xsm_port: int, password_file: Path, wrong_file: Path) -> str:
    def job(name: str, secret: Path) -> str:
        return f"""\
  - job_name: {name}
    scrape_interval: 1s
    scrape_timeout: 1s
    basic_auth:
      username: {VIEWER[0]}
      password_file: {secret}
    static_configs:
      - targets: ["127.0.0.2:{xsm_port}"]
"""

    return "scrape_configs:\n" + job("ipsec-console", password_file) + job("wrong", wrong_file)


@asynccontextmanager
async def prometheus(tmp_path: Path, xsm_port: int) -> AsyncIterator[str]:
    """Prometheus scraping the hub; yields the base URL of its HTTP API."""
    binary = shutil.which("prometheus")
    require(binary, "Prometheus not installed (apt-get install prometheus)")
    assert binary is not None
    password, wrong = tmp_path / "scrape.secret", tmp_path / "wrong.secret"
    password.write_text(VIEWER[1])
    wrong.write_text("not-the-password")
    config = tmp_path / "prometheus.yml"
    config.write_text(scrape_config(xsm_port, password, wrong))
    api_port = free_port(("127.0.0.1",))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{api_port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{api_port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def eventually(
    web: aiohttp.ClientSession, url: str, what: str, check: Callable[[Any], Any]
) -> Any:
    """Poll a Prometheus API URL until `check(data)` returns something true."""
    deadline = asyncio.get_running_loop().time() + PROMETHEUS_WAIT_S
    last: object = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            async with web.get(url) as reply:
                if reply.status == 200:
                    last = (await reply.json())["data"]
                    found = check(last)
                    if found:
                        return found
        except aiohttp.ClientConnectionError:
            pass  # still starting
        await asyncio.sleep(0.25)
    raise AssertionError(f"Prometheus never showed {what}; last answer: {last}")


def query(api: str, expression: str) -> str:
    return f"{api}/api/v1/query?" + urlencode({"query": expression})


async def test_prometheus_scrapes_the_exporters_families_and_sees_a_clear(tmp_path: Path) -> None:
    xsm_port = free_port(("127.0.0.2",))
    extra = (
        f"username {VIEWER[0]} privilege 5 secret 0 {VIEWER[1]}\n"
        f"ip http server\nip http port {xsm_port}\nxsm\nxsm privilege monitor level 5\n"
    )
    async with (
        Network(tmp_path, hub_extra=extra) as net,
        prometheus(tmp_path, xsm_port) as api,
        aiohttp.ClientSession() as web,
    ):

        def targets(data: dict) -> dict[str, dict] | None:
            by_job = {t["labels"]["job"]: t for t in data["activeTargets"]}
            if {by_job.get(j, {}).get("health") for j in ("ipsec-console", "wrong")} == {
                "up",
                "down",
            } and by_job["ipsec-console"]["health"] == "up":
                return by_job
            return None

        by_job = await eventually(web, f"{api}/api/v1/targets", "both targets scraped", targets)
        assert "401" in by_job["wrong"]["lastError"], by_job["wrong"]
        assert VIEWER[1] not in str(by_job)

        async def series(expression: str, count: int) -> list[dict]:
            def check(data: dict) -> list[dict] | None:
                return data["result"] if len(data["result"]) == count else None

            return await eventually(web, query(api, expression), expression, check)

        states = await series("ipsec_ike_sa_state", 2)
        assert sorted(s["metric"]["remote_host"] for s in states) == ["127.0.0.1", "127.0.0.3"]
        assert {s["value"][1] for s in states} == {"2"}  # ESTABLISHED, the exporter's number
        children = await series("ipsec_child_sa_state", 2)
        assert {s["metric"]["protocol"] for s in children} == {"ESP"}
        assert await series("ipsec_child_sa_bytes_in", 2)
        assert await series('ipsec_console_crypto_sessions{status="UP-ACTIVE"} == 2', 1)

        code, out, _ = await net.cli("clear", "crypto", "session", "remote", "127.0.0.1")
        assert code == 0, out
        remaining = await series("ipsec_ike_sa_state", 1)
        assert remaining[0]["metric"]["remote_host"] == "127.0.0.3"
        assert await series('ipsec_console_crypto_sessions{status="UP-ACTIVE"} == 1', 1)
        assert await series('up{job="ipsec-console"} == 1', 1)
