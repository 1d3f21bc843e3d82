"""The control socket: newline-delimited JSON over a UNIX socket (mode 0600).

One request per line, one reply per line; a malformed or unknown request gets
`{"ok": false, "error": ...}` and the connection (and the daemon) go on. The CLI
is a client of this; so can any script be. A client that sends no complete line
for `idle_timeout` seconds is closed, and past `max_clients` a new client is told
`too many clients`: idle or hostile clients must not pin the daemon's descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from engine.control import ClearFilter, Control
from engine.exec_syntax import Show, render
from engine.show import show_crypto_session, show_isakmp_peers
from engine.syslog import LogEntry

MAX_REQUEST = 64 * 1024
BACKLOG = 1024  # asyncio's 100 refuses a burst of CLI calls (EAGAIN); the kernel caps at somaxconn
IDLE_TIMEOUT = 30.0
MAX_CLIENTS = 512

# The keys each command's reply carries, checked by the client before it uses them.
REPLY_KEYS: dict[str, dict[str, type]] = {
    "show-sessions": {"sessions": list, "text": str},
    "show-isakmp-peers": {"peers": list, "text": str},
    "show-isakmp-sa": {"sas": list, "text": str},
    "describe": {"detail": dict},
    "clear": {"cleared": list, "filter": str},
    "running-config": {"text": str},
    "show-ikev2-stats": {"stats": dict, "text": str},
    "show-engine-drops": {"stats": dict, "text": str},
    "show-logging": {"entries": list, "text": str},
    "show-ip-local-pool": {"pools": list, "text": str},
    "show-xsm-status": {"xsm": dict, "text": str},
    "show-xsm-xrd-list": {"xrds": list, "text": str},
    "clear-xsm": {"cleared": list},
}
JSON_TYPE_NAMES = {list: "list", str: "string", dict: "object"}

log = logging.getLogger(__name__)


def default_path() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "ipsec-console.sock"
    return Path(f"/tmp/ipsec-console-{os.getuid()}.sock")


def to_json(value: Any) -> Any:
    """Records as plain JSON: dataclasses to objects, enums to their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
        for name in ("active_sas", "totals", "connid"):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = to_json(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


class ControlServer:
    def __init__(
        self,
        control: Control,
        path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        idle_timeout: float = IDLE_TIMEOUT,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.control = control
        self.path = Path(path) if path else default_path()
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.max_clients = max_clients
        self._server: asyncio.AbstractServer | None = None
        self._clients: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Raises OSError naming the path: the CLI prints only the message."""
        if _alive(self.path):
            raise OSError(f"another daemon is serving {self.path}")
        try:
            if self.path.exists() or self.path.is_symlink():
                self.path.unlink()
            old_umask = os.umask(0o177)
            try:
                self._server = await asyncio.start_unix_server(
                    self._serve, path=str(self.path), limit=MAX_REQUEST, backlog=BACKLOG
                )
            finally:
                os.umask(old_umask)
            os.chmod(self.path, 0o600)
        except OSError as err:
            reason = err.strerror or str(err)  # "AF_UNIX path too long" has no errno
            raise OSError(f"cannot create the control socket {self.path}: {reason}") from err

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        handlers = list(self._clients.values())
        for writer in list(self._clients):
            writer.transport.abort()  # a client that does not read must not hold the stop
        if handlers:
            await asyncio.wait(handlers, timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._clients) >= self.max_clients:
            writer.write(_encode({"ok": False, "error": "too many clients"}))
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None
        self._clients[writer] = task
        try:
            while True:
                # One deadline for reading a whole line and sending its reply, so a client
                # trickling bytes or never reading its replies is dropped as well.
                async with asyncio.timeout(self.idle_timeout):
                    try:
                        line = await reader.readline()
                    except (ValueError, asyncio.LimitOverrunError):
                        await self._reply(writer, {"ok": False, "error": "request too long"})
                        break
                    if not line:
                        break
                    await self._reply(writer, self.answer(line))
        except TimeoutError:
            writer.transport.abort()  # close() would wait on a reply the client never reads
        except (OSError, asyncio.IncompleteReadError):  # the client went away
            pass
        finally:
            self._clients.pop(writer, None)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
        writer.write(_encode(reply))
        await writer.drain()

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"ok": False, "error": "not a JSON object"}
        except ValueError:  # an integer past Python's int_max_str_digits (4300)
            return {"ok": False, "error": "a number in the request is too long"}
        except RecursionError:
            return {"ok": False, "error": "the request is nested too deeply"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": "a request is a JSON object with a 'cmd' string"}
        handler = getattr(self, "cmd_" + request["cmd"].replace("-", "_"), None)
        if handler is None:
            return {"ok": False, "error": f"unknown command {request['cmd']!r}"}
        try:
            return {"ok": True, **handler(request)}
        except (ValueError, TypeError, KeyError) as err:
            return {"ok": False, "error": str(err)}
        except Exception:  # a bug: logged, and the connection goes on
            log.exception("control command %r failed", request["cmd"])
            return {"ok": False, "error": "internal error"}

    def cmd_show_sessions(self, request: dict[str, Any]) -> dict[str, Any]:
        remote = request.get("remote")
        if remote is not None and not isinstance(remote, str):
            raise ValueError("'remote' must be an address string")
        views = self.control.sessions(remote)
        text = show_crypto_session(views, detail=bool(request.get("detail")), now=self.clock())
        return {"sessions": to_json(views), "text": text}

    def cmd_show_isakmp_peers(self, request: dict[str, Any]) -> dict[str, Any]:
        peers = self.control.isakmp_peers()
        return {"peers": to_json(peers), "text": show_isakmp_peers(peers)}

    def cmd_show_isakmp_sa(self, request: dict[str, Any]) -> dict[str, Any]:
        rows = self.control.isakmp_sas()
        show = Show("isakmp-sa", bool(request.get("detail")))
        return {"sas": to_json(rows), "text": self._render(show)}

    def cmd_describe(self, request: dict[str, Any]) -> dict[str, Any]:
        detail = self.control.describe(str(request.get("session", "")))
        if detail is None:
            raise ValueError(f"no session {request.get('session')!r}")
        return {"detail": to_json(detail)}

    def cmd_clear(self, request: dict[str, Any]) -> dict[str, Any]:
        words = request.get("words", [])
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError("'words' must be a list of strings")
        flt = ClearFilter.parse(words)
        cleared = self.control.clear(flt, by=str(request.get("by", "control socket")))
        return {"cleared": cleared, "filter": flt.describe()}

    def cmd_show_xsm_status(self, request: dict[str, Any]) -> dict[str, Any]:
        xsm = {
            "status": to_json(self.control.xsm_status()),
            "clients": to_json(self.control.xsm_clients()),
        }
        return {"xsm": xsm, "text": self._render(Show("xsm-status"))}

    def cmd_show_xsm_xrd_list(self, request: dict[str, Any]) -> dict[str, Any]:
        xrds = [
            {"name": d.name, "adapter": d.adapter, "level": d.level, "description": d.description}
            for d in self.control.xsm_xrds()
        ]
        return {"xrds": xrds, "text": self._render(Show("xsm-xrd-list"))}

    def cmd_clear_xsm(self, request: dict[str, Any]) -> dict[str, Any]:
        session = request.get("session")
        if session is not None and (not isinstance(session, int) or isinstance(session, bool)):
            raise ValueError("'session' must be an XSM session number")
        return {"cleared": self.control.clear_xsm(session)}

    def cmd_running_config(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"text": self.control.running_config()}

    def _render(self, show: Show) -> str:
        return render(show, self.control, self.control.store, self.clock())

    def cmd_show_ikev2_stats(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "stats": to_json(self.control.statistics()) or {},
            "text": self._render(Show("ikev2-stats")),
        }

    def cmd_show_engine_drops(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "stats": to_json(self.control.statistics()) or {},
            "text": self._render(Show("engine-drops")),
        }

    def cmd_show_logging(self, request: dict[str, Any]) -> dict[str, Any]:
        entries = [e for e in self.control.store.syslog if isinstance(e, LogEntry)]
        return {"entries": to_json(entries), "text": self._render(Show("logging"))}

    def cmd_show_ip_local_pool(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("pool")
        if name is not None and not isinstance(name, str):
            raise ValueError("'pool' must be a pool name")
        pools = self.control.address_pools()
        listed = []
        if pools is not None:
            for pool in pools.names() if name is None else [name]:
                if pool not in pools:
                    continue
                listed.append(
                    {
                        "name": pool,
                        "free": pools.free(pool),
                        "in_use": pools.in_use(pool),
                        "exhausted": pools.exhausted(pool),
                        "leases": [
                            {"address": str(lease.address), "owner": lease.owner}
                            for lease in pools.leases(pool)
                        ],
                    }
                )
        return {"pools": listed, "text": self._render(Show("ip-local-pool", pool=name))}


def _encode(reply: dict[str, Any]) -> bytes:
    try:
        return json.dumps(reply).encode() + b"\n"
    except (TypeError, ValueError, RecursionError):
        log.exception("control reply could not be encoded")
        return b'{"ok": false, "error": "internal error"}\n'


def _alive(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


class ControlError(Exception):
    """No daemon, or the daemon refused the request."""


def request(path: str | Path, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """One blocking request, for the CLI. Any failure is a ControlError with a one-line
    message; the reply is checked against REPLY_KEYS so callers can index it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise ControlError(
                f"no ipsec-console daemon at {path} "
                "(start one with: ipsec-console daemon --config FILE)"
            ) from None
        except OSError as err:
            raise ControlError(f"cannot reach the daemon at {path}: {err.strerror}") from None
        try:
            # A daemon that refuses (too many clients) writes its reply and closes before
            # reading: the send then fails but the reply is still there to read.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(json.dumps(payload).encode() + b"\n")
            data = _read_line(sock, time.monotonic() + timeout)
        except TimeoutError:
            raise ControlError(
                f"the daemon at {path} did not answer within {timeout:g} s"
            ) from None
        except OSError as err:
            raise ControlError(f"lost the daemon at {path}: {err.strerror or err}") from None
    if not data:
        raise ControlError(f"the daemon at {path} closed the connection without a reply")
    try:
        reply = json.loads(data)
    except (ValueError, RecursionError):
        reply = None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ControlError(f"the daemon at {path} sent an unreadable reply")
    if not reply["ok"]:
        error = reply.get("error")
        raise ControlError(error if isinstance(error, str) and error else "request refused")
    for key, kind in REPLY_KEYS.get(str(payload.get("cmd")), {}).items():
        if not isinstance(reply.get(key), kind):
            raise ControlError(
                f"the daemon at {path} sent an incomplete reply "
                f"(no {key!r} {JSON_TYPE_NAMES[kind]})"
            )
    return reply


def _read_line(sock: socket.socket, deadline: float) -> bytes:
    """Up to the first newline or EOF; TimeoutError at `deadline`, however the bytes trickle."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # the daemon closed with our request unread: EOF too
            break
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)
