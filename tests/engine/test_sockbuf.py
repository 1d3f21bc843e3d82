"""Receive buffers beyond net.core.rmem_max when privileged, as large as allowed if not."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from engine.sockbuf import set_receive_buffer


def test_the_buffer_passes_rmem_max_when_privileged() -> None:
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    size = 2 * rmem_max  # more than SO_RCVBUF alone may give
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        set_receive_buffer(sock, size)
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)  # the kernel doubles it
    if os.geteuid() == 0:
        assert got >= 2 * size
    else:
        assert got >= 2 * rmem_max
