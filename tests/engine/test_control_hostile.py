"""The control socket against hostile clients: oversized numbers, deep nesting, bursts of
hundreds of connects, idle clients, too many clients, a socket path that cannot be made.
The server runs over a stub control, so these need no gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from engine.control import Control
from engine.control_socket import REPLY_KEYS, ControlError, ControlServer, request
from engine.store import Store


class StubControl:
    """What the commands call; `config` lets a test make running-config misbehave."""

    def __init__(self) -> None:
        self.config: object = "hostname stub\nend\n"
        self.store = Store()

    def sessions(self, remote: str | None = None) -> list[object]:
        return []

    def isakmp_peers(self) -> list[object]:
        return []

    def isakmp_sas(self) -> list[object]:
        return []

    def statistics(self) -> None:
        return None

    def clear(self, flt: object, by: str) -> list[str]:
        return []

    def address_pools(self) -> None:
        return None

    def xsm_status(self) -> None:
        return None

    def xsm_clients(self) -> list[object]:
        return []

    def xsm_levels(self) -> tuple[int, int]:
        return 15, 15

    def xsm_xrds(self) -> list[object]:
        return []

    def clear_xsm(self, session: int | None = None) -> list[int]:
        return []

    def running_config(self) -> object:
        if isinstance(self.config, Exception):
            raise self.config
        return self.config


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **options: Any) -> AsyncIterator[ControlServer]:
    server = ControlServer(cast(Control, StubControl()), tmp_path / "c.sock", **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes) -> Any:
    writer.write(line + b"\n")
    await writer.drain()
    return json.loads(await asyncio.wait_for(reader.readline(), 5))


async def test_oversized_numbers_and_deep_nesting_get_an_error_and_the_connection_goes_on(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path) as server:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        digits = b"7" * 5_000
        cases = [
            (digits, "a number in the request is too long"),
            (
                b'{"cmd": "describe", "session": ' + digits + b"}",
                "a number in the request is too long",
            ),
            (b"[" * 50_000, "the request is nested too deeply"),
            (
                b'{"cmd": "clear", "words": ' + b"[" * 30_000 + b"}",
                "the request is nested too deeply",
            ),
        ]
        for line, error in cases:
            assert await ask(reader, writer, line) == {"ok": False, "error": error}
        reply = await ask(reader, writer, b'{"cmd": "running-config"}')
        assert reply == {"ok": True, "text": "hostname stub\nend\n"}
        # Past MAX_REQUEST the stream is out of step: answered, then closed (by design).
        too_long = await ask(reader, writer, b"[" * 100_000)
        assert too_long == {"ok": False, "error": "request too long"}
        writer.close()
        assert (await asyncio.to_thread(request, server.path, {"cmd": "running-config"}))["ok"]


async def test_a_failing_handler_answers_internal_error_and_the_connection_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(tmp_path) as server:
        stub = cast(StubControl, server.control)
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        for broken in (RuntimeError("store gone"), object()):  # raises / cannot be encoded
            stub.config = broken
            reply = await ask(reader, writer, b'{"cmd": "running-config"}')
            assert reply == {"ok": False, "error": "internal error"}
        stub.config = ZeroDivisionError("x")
        assert (await ask(reader, writer, b'{"cmd": "running-config"}'))["ok"] is False
        stub.config = "end\n"
        assert await ask(reader, writer, b'{"cmd": "running-config"}') == {
            "ok": True,
            "text": "end\n",
        }
        writer.close()
    assert "store gone" not in json.dumps(reply)  # the bug's details go to the log only
    assert any("running-config" in r.getMessage() for r in caplog.records)


async def closed(reader: asyncio.StreamReader) -> bool:
    """EOF, or a reset when the server closed with bytes of ours unread."""
    try:
        return await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionError:
        return True


def _somaxconn() -> int:
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except (OSError, ValueError):
        return 0


@pytest.mark.skipif(_somaxconn() < 400, reason="the kernel caps the listen backlog below 400")
async def test_a_burst_of_hundreds_of_clients_all_get_answers(tmp_path: Path) -> None:
    async with serving(tmp_path) as server:
        clients: list[socket.socket] = []
        try:
            # All connect while the loop is busy (as when the CLI is run from many shells at
            # once): only the listen backlog holds them. A connect past it fails with EAGAIN.
            for _ in range(350):
                client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                clients.append(client)
                client.settimeout(10)  # as request() does: EAGAIN is raised, not waited on
                client.connect(str(server.path))
                client.sendall(b'{"cmd": "show-isakmp-peers"}\n')

            def replies() -> list[Any]:
                return [json.loads(c.makefile("rb").readline()) for c in clients]

            answers = await asyncio.to_thread(replies)
        finally:
            for client in clients:
                client.close()
        assert len(answers) == 350
        assert all(a == {"ok": True, "peers": [], "text": answers[0]["text"]} for a in answers)


async def test_an_idle_or_trickling_client_is_closed_after_the_idle_timeout(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, idle_timeout=0.3) as server:
        idle_reader, idle = await asyncio.open_unix_connection(str(server.path))
        trickle_reader, trickle = await asyncio.open_unix_connection(str(server.path))
        reader, writer = await asyncio.open_unix_connection(str(server.path))

        async def keep_busy() -> int:
            answered = 0
            for _ in range(8):  # the trickler: a byte every 0.1 s, never a whole line
                with contextlib.suppress(ConnectionError):  # until the server closes it
                    trickle.write(b" ")
                    await trickle.drain()
                # the active client's requests keep it open past the timeout
                answered += (await ask(reader, writer, b'{"cmd": "running-config"}'))["ok"]
                await asyncio.sleep(0.1)
            return answered

        busy = asyncio.create_task(keep_busy())
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await closed(idle_reader)
        assert 0.25 < loop.time() - start < 2
        assert await closed(trickle_reader)
        assert await busy == 8
        for client in (idle, trickle, writer):
            client.close()


async def test_a_client_that_never_reads_its_replies_is_dropped(tmp_path: Path) -> None:
    async with serving(tmp_path, idle_timeout=0.3) as server:
        cast(StubControl, server.control).config = "x" * 4_000_000
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(server.path))
        client.sendall(b'{"cmd": "running-config"}\n')
        await asyncio.sleep(1.0)  # the reply fills every buffer; the server times out

        def drain() -> int:
            client.settimeout(5)
            total = 0
            with contextlib.suppress(ConnectionResetError):
                while chunk := client.recv(1 << 16):
                    total += len(chunk)
            return total

        received = await asyncio.to_thread(drain)
        client.close()
        assert 0 < received < 4_000_000  # cut off, not left to hang the server


async def test_past_max_clients_a_new_client_is_refused_until_one_leaves(tmp_path: Path) -> None:
    async with serving(tmp_path, max_clients=3) as server:
        held = [await asyncio.open_unix_connection(str(server.path)) for _ in range(3)]
        for reader, writer in held:  # each one is accepted and served
            assert (await ask(reader, writer, b'{"cmd": "running-config"}'))["ok"]
        reader, refused = await asyncio.open_unix_connection(str(server.path))
        assert json.loads(await asyncio.wait_for(reader.readline(), 5)) == {
            "ok": False,
            "error": "too many clients",
        }
        assert await asyncio.wait_for(reader.read(), 5) == b""
        refused.close()
        with pytest.raises(ControlError, match=r"^too many clients$"):
            await asyncio.to_thread(request, server.path, {"cmd": "running-config"}, 5)
        held[0][1].close()

        async def served() -> bool:
            try:
                await asyncio.to_thread(request, server.path, {"cmd": "running-config"}, 5)
            except ControlError:
                return False
            return True

        for _ in range(100):
            if await served():
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("a client that left still counts against max_clients")
        for reader, writer in held[1:]:
            assert (await ask(reader, writer, b'{"cmd": "running-config"}'))["ok"]
            writer.close()


async def test_stop_closes_the_clients_it_still_holds(tmp_path: Path) -> None:
    async with serving(tmp_path) as server:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        assert (await ask(reader, writer, b'{"cmd": "running-config"}'))["ok"]  # accepted
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_socket_path_that_cannot_be_made_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.sock"
    server = ControlServer(cast(Control, StubControl()), missing)
    with pytest.raises(OSError) as caught:
        await server.start()
    assert str(caught.value) == (
        f"cannot create the control socket {missing}: No such file or directory"
    )
    too_long = tmp_path / ("d" * 120) / "x.sock"
    too_long.parent.mkdir()
    with pytest.raises(OSError) as caught:
        await ControlServer(cast(Control, StubControl()), too_long).start()
    assert str(caught.value).startswith(f"cannot create the control socket {too_long}: ")


def test_the_reply_keys_the_client_checks_are_what_the_server_sends() -> None:
    server = ControlServer(cast(Control, StubControl()), "/nonexistent/c.sock")
    commands = {name[4:].replace("_", "-") for name in dir(server) if name.startswith("cmd_")}
    assert commands == set(REPLY_KEYS)
    for cmd, keys in REPLY_KEYS.items():
        if cmd == "describe":  # needs a real session; covered in test_control.py
            continue
        reply = server.answer(json.dumps({"cmd": cmd}).encode())
        assert reply["ok"] is True, reply
        assert all(isinstance(reply[key], kind) for key, kind in keys.items()), (cmd, reply)
