"""Receive buffers for the gateway's packet sockets.

SO_RCVBUF is capped at net.core.rmem_max (212992 bytes on most hosts: about 90
full-size packets, a few milliseconds of ESP at 100 Mbit/s while the event loop is busy);
with CAP_NET_ADMIN, SO_RCVBUFFORCE is not. Python's socket module lacks the name.
"""

from __future__ import annotations

import contextlib
import socket

SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>


def set_receive_buffer(sock: socket.socket, size: int) -> None:
    """Ask for `size` bytes: forced when privileged, else as much as rmem_max allows."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
