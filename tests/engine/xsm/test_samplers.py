"""Samplers of the device data sets: CPU shares between two readings, memory, load,
versions, and every interface from /proc and /sys or from netlink."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

import cryptography

from engine.xsm.samplers import (
    InterfaceSampler,
    SystemSampler,
    kernel_links,
    netlink_links,
    proc_links,
)

TICKS = 100


class FakeProc:
    """/proc and /sys as text the test sets; a missing file raises as the real one."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def __call__(self, path: str) -> str:
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(path) from None


def proc_stat(user: int, idle: int, iowait: int = 0) -> str:
    # user nice system idle iowait irq softirq steal guest guest_nice
    return (
        f"cpu  {user} 0 0 {idle} {iowait} 0 0 0 0 0\n"
        "cpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 12345\nctxt 99\n"
    )


def self_stat(utime: int, stime: int, starttime: int) -> str:
    # a command name with spaces and parentheses must not shift the fields
    fields = ["S", *["0"] * 10, str(utime), str(stime), *["0"] * 6, str(starttime), "0"]
    return f"4242 (ipsec (console) x) {' '.join(fields)}\n"


def system_files(**changes: str) -> dict[str, str]:
    files = {
        "/proc/uptime": "1000.00 1900.00\n",
        "/proc/stat": proc_stat(user=1000, idle=3000),
        "/proc/self/stat": self_stat(utime=300, stime=100, starttime=90_000),
        "/proc/self/status": "Name:\tpython\nVmRSS:\t   51200 kB\nThreads:\t3\n",
        "/proc/meminfo": "MemTotal:  4000000 kB\nMemFree: 1000 kB\nMemAvailable: 3000000 kB\n",
        "/proc/loadavg": "0.50 0.25 0.10 1/100 4242\n",
    }
    files.update(changes)
    return files


def test_first_sample_reports_averages_since_boot_and_since_start() -> None:
    sampler = SystemSampler(FakeProc(system_files()), clock_ticks=TICKS, hostname=lambda: "gw1")
    row = sampler.sample()
    assert row["hostname"] == "gw1"
    assert row["uptime"] == 1000.0
    assert row["process_uptime"] == 100.0  # started 900 s after boot
    # machine: 1000 busy ticks of 4000; process: 400 ticks in 100 s at 100 ticks/s
    assert row["cpu_machine_percent"] == 25.0
    assert row["cpu_process_percent"] == 4.0
    assert row["cpus"] == 2
    assert row["memory_rss"] == 51200 * 1024
    assert (row["memory_total"], row["memory_available"]) == (4000000 * 1024, 3000000 * 1024)
    assert (row["load_1"], row["load_5"], row["load_15"]) == (0.5, 0.25, 0.1)
    assert row["versions"]["python"] == platform.python_version()
    assert row["versions"]["cryptography"] == cryptography.__version__
    assert row["versions"]["openssl"].startswith("OpenSSL")


def test_later_samples_report_the_share_since_the_previous_one() -> None:
    proc = FakeProc(system_files())
    sampler = SystemSampler(proc, clock_ticks=TICKS)
    sampler.sample()
    # 200 ticks later across both CPUs (100 per CPU): 150 busy, 30 iowait, 20 idle
    proc.files.update(
        system_files(
            **{
                "/proc/stat": proc_stat(user=1150, idle=3020, iowait=30),
                "/proc/self/stat": self_stat(utime=330, stime=110, starttime=90_000),
            }
        )
    )
    row = sampler.sample()
    assert row["cpu_machine_percent"] == 75.0
    # 40 ticks of the process in 100 ticks of one CPU
    assert row["cpu_process_percent"] == 40.0
    # rows of the set as the service reads them
    assert list(sampler.rows(None)) == ["system"]


def test_the_real_machine() -> None:
    sampler = SystemSampler()
    first = sampler.sample()
    second = sampler.sample()
    assert first["hostname"] == socket.gethostname()
    assert second["cpus"] == os.cpu_count()
    assert 0 < second["memory_available"] <= second["memory_total"]
    assert second["memory_rss"] > 1 << 20
    assert 0.0 <= second["cpu_machine_percent"] <= 100.0
    assert second["cpu_process_percent"] >= 0.0
    assert second["uptime"] >= first["uptime"] > 0


NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0: 123456789 1000    3    4    0     0          0         7  987654   900    5    6    0     0       0          0
broken line
"""  # noqa: E501


def net_files() -> dict[str, str]:
    return {
        "/proc/net/dev": NET_DEV,
        "/proc/net/if_inet6": (
            "00000000000000000000000000000001 01 80 10 80       lo\n"
            "fe800000000000000000000000000abc 02 40 20 80     eth0\n"
        ),
        "/sys/class/net/lo/operstate": "unknown\n",
        "/sys/class/net/lo/flags": "0x9\n",
        "/sys/class/net/lo/mtu": "65536\n",
        "/sys/class/net/lo/ifindex": "1\n",
        "/sys/class/net/lo/address": "00:00:00:00:00:00\n",
        "/sys/class/net/eth0/operstate": "down\n",
        "/sys/class/net/eth0/flags": "0x1002\n",
        "/sys/class/net/eth0/mtu": "1500\n",
        "/sys/class/net/eth0/ifindex": "2\n",
        "/sys/class/net/eth0/address": "52:54:00:12:34:56\n",
    }


def test_interfaces_from_proc_and_sys() -> None:
    links = {link.name: link for link in proc_links(FakeProc(net_files()))}
    assert set(links) == {"lo", "eth0"}
    eth0 = links["eth0"]
    rx = (eth0.rx_bytes, eth0.rx_packets, eth0.rx_errors, eth0.rx_drops)
    tx = (eth0.tx_bytes, eth0.tx_packets, eth0.tx_errors, eth0.tx_drops)
    assert rx == (123456789, 1000, 3, 4) and tx == (987654, 900, 5, 6)
    assert (eth0.index, eth0.mtu, eth0.mac) == (2, 1500, "52:54:00:12:34:56")
    assert eth0.oper_status == "down" and not eth0.admin_up
    assert eth0.addresses == ("fe80::abc/64",)
    assert links["lo"].admin_up and links["lo"].addresses == ("::1/128",)


def test_an_interface_whose_sys_files_vanished_still_has_its_counters() -> None:
    files = {"/proc/net/dev": NET_DEV}  # no /sys, no if_inet6: a device just removed
    (lo, eth0) = proc_links(FakeProc(files))
    assert eth0.rx_bytes == 123456789 and eth0.mtu == 0 and eth0.oper_status == "unknown"
    assert lo.tx_packets == 50 and lo.addresses == ()


def _proc_counters(name: str) -> tuple[int, int]:
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        dev, _, values = line.partition(":")
        if dev.strip() == name:
            words = values.split()
            return int(words[0]), int(words[8])
    raise AssertionError(f"{name} not in /proc/net/dev")


def test_netlink_and_proc_agree_on_the_real_interfaces() -> None:
    rx_before, tx_before = _proc_counters("lo")
    via_netlink = {link.name: link for link in netlink_links()}
    rx_after, tx_after = _proc_counters("lo")
    via_proc = {link.name: link for link in proc_links()}
    assert set(via_netlink) == set(via_proc)
    lo = via_netlink["lo"]
    assert "127.0.0.1/8" in lo.addresses and lo.admin_up and lo.mtu == via_proc["lo"].mtu
    assert rx_before <= lo.rx_bytes <= rx_after and tx_before <= lo.tx_bytes <= tx_after
    assert {link.name for link in kernel_links()} == set(via_proc)
    rows = InterfaceSampler().rows(None)
    assert rows["lo"]["addresses"] == list(lo.addresses) and rows["lo"]["kind"] == "kernel"
