"""The control socket: newline-delimited JSON over a UNIX socket (mode 0600).

One request per line, one reply per line; a malformed or unknown request gets
`{"ok": false, "error": ...}` and the connection (and the daemon) go on. The CLI
is a client of this; so can any script be.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from engine.control import ClearFilter, Control
from engine.show import show_crypto_session, show_isakmp_peers

MAX_REQUEST = 64 * 1024


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
    ) -> None:
        self.control = control
        self.path = Path(path) if path else default_path()
        self.clock = clock
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if self.path.exists() or self.path.is_symlink():
            if _alive(self.path):
                raise OSError(f"another daemon is serving {self.path}")
            self.path.unlink()
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._reply(writer, {"ok": False, "error": "request too long"})
                    break
                if not line:
                    break
                await self._reply(writer, self.answer(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"ok": False, "error": "not a JSON object"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": "a request is a JSON object with a 'cmd' string"}
        handler = getattr(self, "cmd_" + request["cmd"].replace("-", "_"), None)
        if handler is None:
            return {"ok": False, "error": f"unknown command {request['cmd']!r}"}
        try:
            return {"ok": True, **handler(request)}
        except (ValueError, TypeError, KeyError) as err:
            return {"ok": False, "error": str(err)}

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

    def cmd_running_config(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"text": self.control.running_config()}


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
    """One blocking request, for the CLI."""
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
        sock.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    try:
        reply = json.loads(data)
    except json.JSONDecodeError:
        raise ControlError("the daemon sent an unreadable reply") from None
    if not reply.get("ok"):
        raise ControlError(reply.get("error", "request refused"))
    return reply
