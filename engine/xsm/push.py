"""Writing a client's queued changes to its stream: server-sent events or a WebSocket.

A client's queue is filled by the feed without waiting; these loops drain it at the
pace the connection allows, so a slow client only ever holds up itself.
"""

from __future__ import annotations

import contextlib

from aiohttp import WSMsgType, web

from engine.xsm.clients import Client, Closed
from engine.xsm.codec import Codec
from engine.xsm.stream import ChangeEvent, Snapshot, sse_event


async def pump_sse(
    client: Client, response: web.StreamResponse, codec: Codec, keepalive: float
) -> None:
    """Write a client's queue to its event stream until it is closed; an idle stream
    gets comment lines so that proxies keep it open."""
    while True:
        try:
            item = await client.next(keepalive)
        except Closed:
            return
        with client.writing():
            if item is None:
                await response.write(b": keep-alive\n\n")
            elif isinstance(item, ChangeEvent):
                await response.write(item.sse(codec))
                client.sent()
            elif isinstance(item, Snapshot):
                chunks = codec.snapshot(item.xrd, item.rows, item.id)
                for chunk in sse_event("snapshot", item.id, chunks):
                    await response.write(chunk)
                client.sent()


async def pump_ws(
    client: Client, ws: web.WebSocketResponse, codec: Codec, keepalive: float
) -> None:
    """Write a client's queue to its WebSocket until it is closed, then close the socket
    with the reason."""
    try:
        while True:
            try:
                item = await client.next(keepalive)
            except Closed:
                break
            if item is None:
                continue  # aiohttp's heartbeat pings keep the connection alive
            with client.writing():
                if isinstance(item, ChangeEvent):
                    await ws.send_frame(item.payload(codec), WSMsgType.TEXT)
                    client.sent()
                elif isinstance(item, Snapshot):
                    document = b"".join(codec.snapshot(item.xrd, item.rows, item.id))
                    await ws.send_frame(document, WSMsgType.TEXT)
                    client.sent()
                else:
                    await ws.send_frame(item.payload, WSMsgType.TEXT)
    except (ConnectionError, RuntimeError):
        pass
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=1001, message=(client.close_reason or "").encode()[:100])
