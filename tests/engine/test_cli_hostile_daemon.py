"""`show` and `clear` against a daemon that is slow, confused or gone mid-request: each
case is one line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from engine import exec_commands

SILENT = b"<silent>"  # read the request, never answer
CLOSE = b"<close>"  # close at once, before reading anything

SHOW_SESSIONS = ["show", "crypto", "session"]
SHOW_PEERS = ["show", "crypto", "isakmp", "peer"]
SHOW_CONFIG = ["show", "running-config"]
CLEAR = ["clear", "crypto", "session"]


@contextlib.asynccontextmanager
async def fake_daemon(path: Path, reply: bytes) -> AsyncIterator[None]:
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if reply == CLOSE:
            writer.close()
            return
        await reader.readline()
        if reply == SILENT:
            held.append(writer)
            return
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(serve, path=str(path))
    try:
        yield
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def run(
    command: Callable[..., int], argv: list[str], path: Path, timeout: float = 5.0
) -> int:
    return await asyncio.to_thread(command, [*argv, "--control", str(path)], timeout=timeout)


UNREADABLE = "sent an unreadable reply"
CLOSED = "closed the connection without a reply"


def incomplete(key: str, kind: str) -> str:
    return f"sent an incomplete reply (no {key!r} {kind})"


CASES = [  # what the daemon sends, the command, the message after "the daemon at PATH "
    pytest.param(b"[]\n", SHOW_SESSIONS, UNREADABLE, id="a-list"),
    pytest.param(b"\x00\xff\xfegarbage\x9c\n", SHOW_SESSIONS, UNREADABLE, id="garbage"),
    pytest.param(b"{not json", SHOW_PEERS, UNREADABLE, id="half-json-then-close"),
    pytest.param(b"7" * 5_000 + b"\n", SHOW_SESSIONS, UNREADABLE, id="5000-digit-number"),
    pytest.param(b"[" * 50_000 + b"\n", SHOW_CONFIG, UNREADABLE, id="deep-nesting"),
    pytest.param(b'{"ok": "yes", "text": ""}\n', SHOW_CONFIG, UNREADABLE, id="ok-not-a-bool"),
    pytest.param(
        b'{"ok": true}\n', SHOW_SESSIONS, incomplete("sessions", "list"), id="show-no-keys"
    ),
    pytest.param(
        b'{"ok": true}\n',
        [*SHOW_SESSIONS, "--json"],
        incomplete("sessions", "list"),
        id="show-json-no-keys",
    ),
    pytest.param(
        b'{"ok": true, "sessions": []}\n',
        SHOW_SESSIONS,
        incomplete("text", "string"),
        id="show-no-text",
    ),
    pytest.param(
        b'{"ok": true, "peers": {}, "text": ""}\n',
        SHOW_PEERS,
        incomplete("peers", "list"),
        id="peers-not-a-list",
    ),
    pytest.param(
        b'{"ok": true, "text": null}\n',
        SHOW_CONFIG,
        incomplete("text", "string"),
        id="config-text-null",
    ),
    pytest.param(b'{"ok": true}\n', CLEAR, incomplete("cleared", "list"), id="clear-no-keys"),
    pytest.param(
        b'{"ok": true, "cleared": 3, "filter": ""}\n',
        CLEAR,
        incomplete("cleared", "list"),
        id="cleared-not-a-list",
    ),
    pytest.param(
        b'{"ok": true, "cleared": []}\n',
        [*CLEAR, "--json"],
        incomplete("filter", "string"),
        id="clear-no-filter",
    ),
    pytest.param(CLOSE, SHOW_SESSIONS, CLOSED, id="show-closed-at-once"),
    pytest.param(CLOSE, CLEAR, CLOSED, id="clear-closed-at-once"),
    pytest.param(b"", SHOW_CONFIG, CLOSED, id="closed-after-reading"),
]


@pytest.mark.parametrize(("reply", "argv", "message"), CASES)
async def test_a_confused_daemon_gets_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reply: bytes, argv: list[str], message: str
) -> None:
    path = tmp_path / "fake.sock"
    command = exec_commands.clear if argv[0] == "clear" else exec_commands.show
    async with fake_daemon(path, reply):
        code = await run(command, argv[1:], path)
    out, err = capsys.readouterr()
    assert (code, out, err) == (1, "", f"ipsec-console: the daemon at {path} {message}\n")


@pytest.mark.parametrize(
    "argv",
    [SHOW_SESSIONS, SHOW_PEERS, SHOW_CONFIG, CLEAR],
    ids=["show-sessions", "show-peers", "show-config", "clear"],
)
async def test_a_daemon_that_never_answers_times_out_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = tmp_path / "slow.sock"
    command = exec_commands.clear if argv[0] == "clear" else exec_commands.show
    loop = asyncio.get_running_loop()
    async with fake_daemon(path, SILENT):
        start = loop.time()
        code = await run(command, argv[1:], path, timeout=0.3)
        elapsed = loop.time() - start
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == f"ipsec-console: the daemon at {path} did not answer within 0.3 s\n"
    assert 0.25 < elapsed < 3


async def test_a_trickling_daemon_is_held_to_the_whole_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trickle.sock"
    done = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        with contextlib.suppress(ConnectionError):
            for byte in b'{"ok": true, "text": "' + b"x" * 100:  # a byte every 0.05 s
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)
        writer.close()
        done.set()

    server = await asyncio.start_unix_server(serve, path=str(path))
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        code = await run(exec_commands.show, SHOW_CONFIG[1:], path, timeout=0.5)
    finally:
        server.close()
        await asyncio.wait_for(done.wait(), 5)  # the CLI hung up: the trickle ends
    assert loop.time() - start < 2
    _, err = capsys.readouterr()
    assert (code, err) == (1, f"ipsec-console: the daemon at {path} did not answer within 0.5 s\n")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b'{"ok": false, "error": "unknown command"}\n', "unknown command"),
        (b'{"ok": false}\n', "request refused"),
        (b'{"ok": false, "error": {"x": 1}}\n', "request refused"),
    ],
    ids=["worded", "no-error", "error-not-a-string"],
)
async def test_a_refusal_is_printed_as_the_daemon_worded_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reply: bytes, error: str
) -> None:
    path = tmp_path / "no.sock"
    async with fake_daemon(path, reply):
        code = await run(exec_commands.show, SHOW_SESSIONS[1:], path)
    _, err = capsys.readouterr()
    assert (code, err) == (1, f"ipsec-console: {error}\n")


async def test_a_well_formed_reply_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.sock"
    reply = b'{"ok": true, "cleared": ["s1", "s2"], "filter": "fvrf A"}\n'
    async with fake_daemon(path, reply):
        code = await run(exec_commands.clear, [*CLEAR[1:], "fvrf", "A"], path)
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == "cleared 2 crypto sessions (fvrf A)\n  s1\n  s2\n"


@pytest.mark.parametrize(
    "reply",
    [b"[]\n", b'{"ok": true}\n', b"7" * 5_000 + b"\n", CLOSE],
    ids=["a-list", "no-keys", "5000-digit-number", "closed-at-once"],
)
async def test_the_command_line_prints_no_traceback(tmp_path: Path, reply: bytes) -> None:
    path = tmp_path / "cli.sock"
    async with fake_daemon(path, reply):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli",
            "show",
            "crypto",
            "session",
            "--control",
            str(path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1 and out == b""
    assert "Traceback" not in err.decode()
    assert err.decode().startswith(f"ipsec-console: the daemon at {path} ")
    assert err.decode().count("\n") == 1
