"""XSM for one running gateway: the HTTP service, with the gateway as the source of its
data sets, its exec commands and its metrics, kept in step with config reloads.

The composition root (engine.service) builds one; nothing else here knows the service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from engine import syslog
from engine.config.model import Config
from engine.control import Control
from engine.control_socket import ControlServer
from engine.exec_syntax import Clear, ClearXsm, ExecSyntaxError, parse_exec
from engine.logbook import Logbook
from engine.store import Store
from engine.xsm.datasets import DataSet, Row, XsmClient, builtin_datasets, peer_row
from engine.xsm.history_db import HistoryDatabase, HistoryError
from engine.xsm.history_recorder import HistoryRecorder
from engine.xsm.history_sets import HistoryRows, history_datasets
from engine.xsm.metrics import GatewayMetrics
from engine.xsm.server import XsmService
from engine.xsm.settings import XsmSettings
from engine.xsm.status import ExecResult, MetricsHook


class Gateway(Protocol):
    """What XSM reads from the running gateway (a VpnService)."""

    store: Store
    control: Control
    logbook: Logbook

    @property
    def model(self) -> Config: ...


class GatewaySource:
    """The service's data source: the gateway's store, its data sets, and the views the
    sampled sets need (running config, XSM clients, tunnel interfaces)."""

    def __init__(self, gateway: Gateway, extra: Iterable[DataSet] = ()) -> None:
        self.gateway = gateway
        self.xsm: XsmService | None = None
        self._datasets = builtin_datasets()
        # `show crypto isakmp peer` is derived from the config and the sessions, not kept
        # in a store table: the set samples it
        self._datasets["peers"] = replace(
            self._datasets["peers"],
            table=None,
            row_of=None,
            sample=self._peers,
            sample_interval=5.0,
        )
        for dataset in extra:
            self._datasets[dataset.name] = dataset

    @property
    def store(self) -> Store:
        return self.gateway.store

    @property
    def datasets(self) -> Mapping[str, DataSet]:
        return self._datasets

    def running_config(self) -> str:
        return self.gateway.control.running_config()

    def isakmp_peers(self) -> list[Any]:
        return self.gateway.control.isakmp_peers()

    def _peers(self, _source: object) -> dict[str, Row]:
        rows = {}
        for peer in self.gateway.control.isakmp_peers():
            row = peer_row(None, peer)
            if row is not None:
                rows[f"{peer.address}:{peer.port}"] = row
        return rows

    def tunnel_interfaces(self) -> Iterable[Any]:
        sinks = getattr(self.gateway, "tunnel_sinks", {})
        return [sink for sink in sinks.values() if hasattr(sink, "linux_name")]

    def xsm_clients(self) -> Iterable[XsmClient]:
        if self.xsm is None:
            return []
        return [
            XsmClient(
                session=client.session,
                user=client.user,
                privilege=client.privilege,
                address=_host(client.address),
                port=_port(client.address),
                transport=client.transport,
                subscriptions=tuple(client.subscriptions),
                connected_at=client.since,
                events_sent=client.events_sent,
                events_dropped=client.events_dropped,
            )
            for client in self.xsm.clients()
        ]


def _host(address: str) -> str:
    host, _, port = address.rpartition(":")
    return host.strip("[]") if host and port.isdigit() else address


def _port(address: str) -> int | None:
    _, _, port = address.rpartition(":")
    return int(port) if port.isdigit() else None


class ExecBridge:
    """`POST /xsm/exec`: an exec command's words through the control socket's dispatcher,
    so XSM, the CLI and the console run exactly the same commands."""

    def __init__(self, control: Control) -> None:
        self.dispatcher = ControlServer(control)

    def __call__(self, words: list[str], by: str) -> ExecResult:
        command = parse_exec(words)  # ExecSyntaxError for the client's 400
        if isinstance(command, Clear):
            request: dict[str, Any] = {"cmd": "clear", "words": words[3:], "by": by}
        elif isinstance(command, ClearXsm):
            request = command.request(by)
        else:
            request = command.request()
        reply = self.dispatcher.answer(json.dumps(request).encode())
        if not reply.get("ok"):
            raise ExecSyntaxError(str(reply.get("error", "refused")))
        if isinstance(command, Clear):
            cleared = reply["cleared"]
            text = f"cleared {len(cleared)} crypto session{'s' * (len(cleared) != 1)}"
            return ExecResult(text + f" ({reply['filter']})\n", {"cleared": cleared})
        if isinstance(command, ClearXsm):
            cleared = reply["cleared"]
            text = f"cleared {len(cleared)} XSM session{'s' * (len(cleared) != 1)}\n"
            return ExecResult(text, {"cleared": cleared})
        key = command.records_key
        return ExecResult(reply["text"], reply.get(key) if key else None)


class GatewayXsm:
    def __init__(
        self,
        gateway: Gateway,
        settings: XsmSettings,
        *,
        state_dir: Path | None,
        host: str | None,
        metrics: MetricsHook | None = None,
        extra_datasets: Iterable[DataSet] = (),
    ) -> None:
        self.gateway = gateway
        self.state_dir = state_dir
        self.history_db: HistoryDatabase | None = None
        self.recorder: HistoryRecorder | None = None
        self.history = HistoryRows(lambda: self.history_db)
        self.source = GatewaySource(gateway, [*history_datasets(self.history), *extra_datasets])
        self.service = XsmService(
            settings,
            self.source,
            state_dir=state_dir,
            on_login_failure=self._login_failed,
            exec_command=ExecBridge(gateway.control),
            metrics=metrics or GatewayMetrics(gateway.store).render,
            host=host,
            hostname=gateway.model.hostname,
        )
        self.source.xsm = self.service

    def _login_failed(self, user: str, address: str, reason: str) -> None:
        port = self.service.http_port or self.service.secure_port or 0
        self.gateway.logbook.log(syslog.login_failed(user, address, port, reason))

    async def start(self) -> None:
        await self.service.start()
        await self._follow_history(self.service.settings)
        self._log_state()

    async def apply(self, settings: XsmSettings) -> None:
        was = self.service.status().serving
        await self.service.apply(settings)
        await self._follow_history(settings)
        if self.service.status().serving != was:
            self._log_state()

    async def stop(self) -> None:
        await self._follow_history(None)
        await self.service.stop()

    async def _follow_history(self, settings: XsmSettings | None) -> None:
        """Record history while `xsm` and `xsm history vdm|edm` say so; turning it off
        stops recording and keeps the file (turning it on again continues it)."""
        vdm = bool(settings and settings.enabled and settings.history_vdm)
        edm = bool(settings and settings.enabled and settings.history_edm)
        if not (vdm or edm):
            if self.recorder is not None:
                await self.recorder.stop()
                self.recorder = None
            if self.history_db is not None:
                self.history_db.close()
                self.history_db = None
            return
        if self.history_db is None:
            path = self.state_dir / "xsm-history.sqlite" if self.state_dir else None
            try:
                self.history_db = HistoryDatabase(path)
            except (HistoryError, OSError) as exc:
                self.gateway.logbook.log(syslog.xsm_history_failed(str(exc)))
                return
            if self.history_db.moved_aside is not None:
                self.gateway.logbook.log(
                    syslog.xsm_history_failed(
                        f"unreadable history moved to {self.history_db.moved_aside.name}"
                    )
                )
        if self.recorder is None:
            self.recorder = HistoryRecorder(
                self.gateway.store,
                self.history_db,
                vdm=vdm,
                edm=edm,
                tunnels=self.source.tunnel_interfaces,
            )
            self.recorder.start()
        self.recorder.vdm, self.recorder.edm = vdm, edm

    def _log_state(self) -> None:
        status = self.service.status()
        if not status.enabled and not status.listeners:
            return
        ports = ", ".join(
            f"{listener.kind} port {listener.bound or listener.port}"
            + (f" ({listener.error})" if listener.error else "")
            for listener in status.listeners
        )
        self.gateway.logbook.log(syslog.xsm_state(status.serving, ports or "no listener"))
