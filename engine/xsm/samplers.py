"""Samplers for the device data sets: the machine and process (`system`) and every
kernel interface (`interfaces`).

They read /proc, /sys and netlink through an injected reader, so tests feed them fixed
text. A sampler keeps its previous reading: CPU use is the share of the time between two
samples (the first sample reports the average since boot, or since the process started).
Sampling is synchronous and cheap (a few small files, one netlink dump on its worker
thread); a sampler serves one caller at a time.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import platform
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cryptography

if TYPE_CHECKING:
    from engine.xsm.datasets import DataSource, Row

#: reads one file by absolute path (/proc/stat, /sys/class/net/lo/mtu ...)
Reader = Callable[[str], str]


def read_file(path: str) -> str:
    return Path(path).read_text(encoding="utf-8", errors="surrogateescape")


def _versions() -> dict[str, str]:
    try:
        console = metadata.version("ipsec-console")
    except metadata.PackageNotFoundError:
        console = "unknown"
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        openssl = backend.openssl_version_text()
    except Exception:  # a cryptography without the OpenSSL backend
        openssl = ""
    return {
        "ipsec_console": console,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "openssl": openssl,
        "python_openssl": ssl.OPENSSL_VERSION,
    }


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """One reading of the machine's and this process's CPU time, in clock ticks."""

    #: all CPUs' time, busy and idle
    total: int
    #: all CPUs' time not idle (idle and iowait excluded)
    busy: int
    #: this process's user + system time
    process: int
    cpus: int


class SystemSampler:
    """The `system` set: one row, key `system`."""

    KEY = "system"

    def __init__(
        self,
        read: Reader = read_file,
        *,
        clock_ticks: int | None = None,
        hostname: Callable[[], str] = socket.gethostname,
    ) -> None:
        self._read = read
        self._ticks = clock_ticks or _clock_ticks()
        self._hostname = hostname
        self._previous: CpuTimes | None = None
        self._versions = _versions()

    def rows(self, source: DataSource | None = None) -> dict[str, Row]:
        return {self.KEY: self.sample()}

    def sample(self) -> Row:
        """hostname, uptime (machine and process, seconds), versions, CPU use in percent
        (process: of one CPU, as top shows it; machine: of all CPUs), memory in bytes,
        load average."""
        uptime = float(self._read("/proc/uptime").split()[0])
        stat = _process_stat(self._read("/proc/self/stat"))
        started = stat[19] / self._ticks  # seconds after boot
        now = self._cpu_times(stat)
        previous, self._previous = self._previous, now
        if previous is None:
            machine = _share(now.busy, now.total)
            process = _share(now.process, (uptime - started) * self._ticks)
        else:
            machine = _share(now.busy - previous.busy, now.total - previous.total)
            per_cpu = (now.total - previous.total) / max(now.cpus, 1)
            process = _share(now.process - previous.process, per_cpu)
        meminfo = _meminfo(self._read("/proc/meminfo"))
        load = self._read("/proc/loadavg").split()
        return {
            "hostname": self._hostname(),
            "uptime": round(uptime, 2),
            "process_uptime": round(max(0.0, uptime - started), 2),
            "versions": dict(self._versions),
            "cpus": now.cpus,
            "cpu_process_percent": process,
            "cpu_machine_percent": machine,
            "memory_rss": _status_bytes(self._read("/proc/self/status"), "VmRSS"),
            "memory_total": meminfo.get("MemTotal", 0),
            "memory_available": meminfo.get("MemAvailable", 0),
            "load_1": float(load[0]),
            "load_5": float(load[1]),
            "load_15": float(load[2]),
        }

    def _cpu_times(self, stat: list[int]) -> CpuTimes:
        total = busy = cpus = 0
        for line in self._read("/proc/stat").splitlines():
            name, _, values = line.partition(" ")
            if name == "cpu":
                # user nice system idle iowait irq softirq steal (guest time is in user)
                ticks = [int(v) for v in values.split()[:8]]
                total = sum(ticks)
                busy = total - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)
            elif name.startswith("cpu") and name[3:].isdigit():
                cpus += 1
        return CpuTimes(total, busy, stat[11] + stat[12], cpus)


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return 100


def _process_stat(text: str) -> list[int]:
    """The numeric fields of /proc/self/stat after `pid (comm) state`, as 0-based
    indexes from the state field (utime is 11, stime 12, starttime 19)."""
    fields = text[text.rindex(")") + 2 :].split()
    return [int(f) if f.lstrip("-").isdigit() else 0 for f in fields]


def _share(part: float, whole: float) -> float:
    if whole <= 0:
        return 0.0
    return round(max(0.0, 100.0 * part / whole), 1)


def _meminfo(text: str) -> dict[str, int]:
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            values[name] = int(words[0]) * (1024 if words[1:] == ["kB"] else 1)
    return values


def _status_bytes(text: str, name: str) -> int:
    return _meminfo(text).get(name, 0)


# ---------------------------------------------------------------------- interfaces
@dataclass(frozen=True, slots=True)
class Link:
    """One kernel interface with its counters (64-bit, since it came up)."""

    name: str
    index: int
    #: operational state as the kernel words it, lower case: up, down, unknown, dormant
    oper_status: str
    admin_up: bool
    mtu: int
    mac: str
    #: address/prefix length
    addresses: tuple[str, ...]
    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_drops: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_drops: int = 0


class TunnelPort(Protocol):
    """A tunnel interface of the gateway (engine.dataplane.tunnel_sink.TunnelSink is one)."""

    @property
    def name(self) -> str:
        """Its IOS name (`Tunnel1`)."""
        ...

    @property
    def linux_name(self) -> str:
        """Its kernel device ("" while it has none)."""
        ...

    @property
    def up(self) -> bool:
        """Line protocol: the interface has an SA."""
        ...


IFF_UP = 0x1


def netlink_links() -> list[Link]:
    """Every interface from one netlink dump of links and addresses (on the netlink
    worker thread, so it works from inside the event loop)."""
    from engine.netlink import netlink

    def dump(ipr: Any) -> tuple[list[Any], list[Any]]:
        return list(ipr.get_links()), list(ipr.get_addr())

    links, addrs = netlink(dump)
    addresses: dict[int, list[str]] = {}
    for addr in addrs:
        local = addr.get_attr("IFA_LOCAL") or addr.get_attr("IFA_ADDRESS")
        if local:
            addresses.setdefault(addr["index"], []).append(f"{local}/{addr['prefixlen']}")
    out = []
    for link in links:
        stats = link.get_attr("IFLA_STATS64") or link.get_attr("IFLA_STATS") or {}
        out.append(
            Link(
                name=str(link.get_attr("IFLA_IFNAME") or ""),
                index=int(link["index"]),
                oper_status=str(link.get_attr("IFLA_OPERSTATE") or "unknown").lower(),
                admin_up=bool(link["flags"] & IFF_UP),
                mtu=int(link.get_attr("IFLA_MTU") or 0),
                mac=str(link.get_attr("IFLA_ADDRESS") or ""),
                addresses=tuple(addresses.get(int(link["index"]), ())),
                rx_bytes=int(stats.get("rx_bytes", 0)),
                rx_packets=int(stats.get("rx_packets", 0)),
                rx_errors=int(stats.get("rx_errors", 0)),
                rx_drops=int(stats.get("rx_dropped", 0)),
                tx_bytes=int(stats.get("tx_bytes", 0)),
                tx_packets=int(stats.get("tx_packets", 0)),
                tx_errors=int(stats.get("tx_errors", 0)),
                tx_drops=int(stats.get("tx_dropped", 0)),
            )
        )
    return out


def proc_links(read: Reader = read_file) -> list[Link]:
    """Every interface from /proc/net/dev, with state from /sys/class/net and IPv6
    addresses from /proc/net/if_inet6 (IPv4 addresses need netlink)."""
    v6: dict[str, list[str]] = {}
    with contextlib.suppress(OSError):
        for line in read("/proc/net/if_inet6").splitlines():
            words = line.split()
            if len(words) == 6:
                with contextlib.suppress(ValueError):
                    address = ipaddress.IPv6Address(bytes.fromhex(words[0]))
                    v6.setdefault(words[5], []).append(f"{address}/{int(words[2], 16)}")
    out = []
    for line in read("/proc/net/dev").splitlines()[2:]:
        name, sep, counters = line.partition(":")
        values = counters.split()
        if not sep or len(values) < 16:
            continue
        name = name.strip()
        n = [int(v) if v.isdigit() else 0 for v in values]
        flags = _sys_int(read, name, "flags", 16)
        out.append(
            Link(
                name=name,
                index=_sys_int(read, name, "ifindex"),
                oper_status=_sys(read, name, "operstate") or "unknown",
                admin_up=bool(flags & IFF_UP),
                mtu=_sys_int(read, name, "mtu"),
                mac=_sys(read, name, "address"),
                addresses=tuple(v6.get(name, ())),
                rx_bytes=n[0],
                rx_packets=n[1],
                rx_errors=n[2],
                rx_drops=n[3],
                tx_bytes=n[8],
                tx_packets=n[9],
                tx_errors=n[10],
                tx_drops=n[11],
            )
        )
    return out


def _sys(read: Reader, name: str, attribute: str) -> str:
    try:
        return read(f"/sys/class/net/{name}/{attribute}").strip()
    except (OSError, ValueError):
        return ""


def _sys_int(read: Reader, name: str, attribute: str, base: int = 10) -> int:
    try:
        return int(_sys(read, name, attribute), base)
    except ValueError:
        return 0


def kernel_links() -> list[Link]:
    """Netlink when it answers, else /proc and /sys."""
    try:
        return netlink_links()
    except Exception:  # no netlink socket (a sandbox), pyroute2's NetlinkError
        return proc_links()


class InterfaceSampler:
    """The `interfaces` set: a row per kernel interface, keyed by its kernel name; the
    gateway's tunnel interfaces name their IOS interface and line protocol, and one
    without a device yet shows as down under its IOS name."""

    def __init__(self, links: Callable[[], Iterable[Link]] = kernel_links) -> None:
        self._links = links

    def rows(self, source: DataSource | None = None) -> dict[str, Row]:
        tunnels: dict[str, TunnelPort] = {}
        ports = getattr(source, "tunnel_interfaces", None)
        if callable(ports):
            for port in ports():
                tunnels[port.linux_name or port.name] = port
        rows = {}
        for link in self._links():
            rows[link.name] = interface_row(link, tunnels.pop(link.name, None))
        for name, port in tunnels.items():
            if name not in rows:
                rows[name] = interface_row(Link(name, 0, "down", False, 0, "", ()), port)
        return rows


def interface_row(link: Link, tunnel: TunnelPort | None = None) -> Row:
    return {
        "name": link.name,
        "index": link.index,
        "ios_name": tunnel.name if tunnel is not None else "",
        "kind": "tunnel" if tunnel is not None else "kernel",
        "oper_status": link.oper_status,
        "admin_status": "up" if link.admin_up else "down",
        "line_protocol": ("up" if tunnel.up else "down") if tunnel is not None else "",
        "mtu": link.mtu,
        "mac": link.mac,
        "addresses": list(link.addresses),
        "rx_bytes": link.rx_bytes,
        "rx_packets": link.rx_packets,
        "rx_errors": link.rx_errors,
        "rx_drops": link.rx_drops,
        "tx_bytes": link.tx_bytes,
        "tx_packets": link.tx_packets,
        "tx_errors": link.tx_errors,
        "tx_drops": link.tx_drops,
    }
