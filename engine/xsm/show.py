"""`show xsm status` and `show xsm xrd-list`, as the CLI prints them and the console
shows them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.xsm.clients import ClientInfo
    from engine.xsm.datasets import DataSet
    from engine.xsm.status import XsmStatus


def _since(stamp: float) -> str:
    return time.strftime("%b %d %H:%M:%S", time.localtime(stamp))


def show_xsm_status(status: XsmStatus | None, clients: Iterable[ClientInfo]) -> str:
    if status is None or not status.enabled:
        return "XSM server is disabled\n"
    lines = [
        f"XSM server: enabled, {'serving' if status.serving else 'no HTTP server configured'}",
    ]
    for listener in status.listeners:
        state = f"listening on port {listener.bound}" if listener.bound else "not listening"
        if listener.error:
            state += f" ({listener.error})"
        if listener.certificate:
            state += f", {listener.certificate} certificate"
        lines.append(f"  {listener.kind:<5} port {listener.port:<5} {state}")
    lines.append(f"Adapters: {' '.join(status.adapters) or 'none'}")
    lines.append(
        f"Privilege: monitor level {status.monitor_level}, "
        f"configuration level {status.configuration_level}"
    )
    counters = status.counters
    lines.append(
        f"Logins failed: {counters.logins_failed}, rate limited: {counters.rate_limited}, "
        f"denied by access class: {counters.denied_access_class}, "
        f"dropped as slow: {counters.dropped_slow}"
    )
    listed = sorted(clients, key=lambda c: c.session)
    lines.append(f"Clients: {len(listed)}")
    if listed:
        lines.append(
            f"  {'Session':<8}{'User':<16}{'Priv':<5}{'Address':<22}{'Via':<4}"
            f"{'Connected since':<17}{'Sent':>8}{'Dropped':>8}  Subscriptions"
        )
        for client in listed:
            lines.append(
                f"  {client.session:<8}{client.user[:15]:<16}{client.privilege:<5}"
                f"{client.address[:21]:<22}{client.transport:<4}{_since(client.since):<17}"
                f"{client.events_sent:>8}{client.events_dropped:>8}  "
                f"{','.join(client.subscriptions) or '-'}"
            )
    return "\n".join(lines) + "\n"


def show_xsm_xrd_list(datasets: Iterable[DataSet], monitor: int, configuration: int) -> str:
    rows = sorted(datasets, key=lambda d: (d.adapter, d.name))
    if not rows:
        return "No XRDs: XSM is disabled\n"
    lines = [f"{'XRD':<18}{'Adapter':<9}{'Privilege':<11}Description"]
    for dataset in rows:
        level = monitor if dataset.level == "monitor" else configuration
        lines.append(f"{dataset.name:<18}{dataset.adapter:<9}{level:<11}{dataset.description}")
    return "\n".join(lines) + "\n"
