"""The XSM HTTP service: data sets as documents, pushed changes, exec commands, metrics.

Endpoints (all behind the access class, then HTTP basic authentication):

- `GET /xsm/xrd-list`: the data sets this user may read
- `GET /xsm/xrd/NAME`: one data set (JSON, or XML by `Accept` or `?format=xml`)
- `GET /xsm/subscribe?xrd=A,B`: server-sent events, a snapshot of each set then its
  changes; `Last-Event-ID` resumes
- `GET /xsm/ws`: the same over a WebSocket; the client sends `{"subscribe": [...]}`
- `POST /xsm/exec`: `{"command": "clear crypto session ..."}` at configuration privilege
- `GET /metrics`: Prometheus exposition at monitor privilege

The service lives in the gateway's event loop and must never hold it up: a request is
answered or refused in bounded work, pushes are encoded once and shared, and a client
that can't keep up is dropped, not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, hdrs, web

from engine.config.model import LocalUser
from engine.exec_syntax import ExecSyntaxError
from engine.xsm.auth import (
    LoginFailureHook,
    LoginLimiter,
    MalformedCredentials,
    access_permits,
    check_login,
    client_address,
    parse_basic,
)
from engine.xsm.clients import (
    SLOW_CONSUMER,
    Client,
    ClientInfo,
    ClientRegistry,
    Notice,
    QueueLimits,
    Transport,
)
from engine.xsm.codec import Codec, default_codecs
from engine.xsm.datasets import DataSet
from engine.xsm.listeners import ListenerSpec, bind_listener, wanted_listeners
from engine.xsm.negotiation import accepted_media, last_event_id
from engine.xsm.push import pump_sse, pump_ws
from engine.xsm.settings import XsmSettings
from engine.xsm.status import (
    ExecCommand,
    ExecResult,
    ListenerStatus,
    MetricsHook,
    XsmCounters,
    XsmStatus,
)
from engine.xsm.stream import (
    DEFAULT_SAMPLE_INTERVAL,
    Feed,
    Source,
    monotonic_ids,
)
from engine.xsm.tls import CertificatePair, self_signed, server_context

log = logging.getLogger(__name__)

__all__ = [
    "ClientInfo",
    "ExecCommand",
    "ExecResult",
    "ExecSyntaxError",
    "ListenerStatus",
    "MetricsHook",
    "Source",
    "XsmCounters",
    "XsmService",
    "XsmStatus",
]

KEEPALIVE = 15.0
MAX_CONNECTIONS = 1000
#: request bodies (exec commands) and WebSocket messages are small
CLIENT_MAX_SIZE = 64 * 1024
REALM = 'Basic realm="xsm", charset="UTF-8"'


def _published(ds: DataSet, settings: XsmSettings) -> bool:
    if not settings.enabled or not getattr(settings, ds.adapter, False):
        return False
    return not ds.history or bool(getattr(settings, f"history_{ds.adapter}", False))


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


class XsmService:
    """The XSM service of one gateway: built once, reconfigured by `apply`."""

    def __init__(
        self,
        settings: XsmSettings,
        source: Source,
        *,
        state_dir: Path | None,
        clock: Callable[[], float] = time.time,
        on_login_failure: LoginFailureHook | None = None,
        exec_command: ExecCommand | None = None,
        metrics: MetricsHook | None = None,
        host: str | None = None,
        hostname: str | None = None,
        codecs: dict[str, Codec] | None = None,
        max_connections: int = MAX_CONNECTIONS,
        client_max_size: int = CLIENT_MAX_SIZE,
        keepalive: float = KEEPALIVE,
        queue_limits: QueueLimits | None = None,
        ring_size: int = 256,
        login_failures: int = 5,
        login_window: float = 60.0,
        login_backoff: float = 60.0,
        sweep_interval: float = 1.0,
        sample_interval: float = DEFAULT_SAMPLE_INTERVAL,
    ) -> None:
        self.settings = settings
        self.source = source
        self.state_dir = state_dir
        self.clock = clock
        self.on_login_failure = on_login_failure
        self.exec_command = exec_command
        self.metrics = metrics
        self.host = host
        self.hostname = hostname or socket.gethostname()
        self.codecs = codecs or default_codecs()
        self.max_connections = max_connections
        self.client_max_size = client_max_size
        self.keepalive = keepalive
        self.sweep_interval = sweep_interval
        self._registry = ClientRegistry(queue_limits or QueueLimits(), clock)
        self._limiter = LoginLimiter(
            clock, failures=login_failures, window=login_window, backoff=login_backoff
        )
        self._ring_size = ring_size
        self._sample_interval = sample_interval
        self._feed: Feed | None = None
        self._runner: web.AppRunner | None = None
        self._specs: tuple[ListenerSpec, ...] = ()
        self._listeners: dict[str, ListenerStatus] = {}
        self._bound_ports: set[int] = set()
        self._self_signed: CertificatePair | None = None
        self._self_signed_host = ""
        self._sweeper: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._inflight = 0
        self._logins_failed = 0
        self._rate_limited = 0
        self._denied_acl = 0
        self._refused_busy = 0
        self._internal_errors = 0
        self._logged_errors: set[str] = set()

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start following the store and open the listeners the settings ask for."""
        if self._feed is not None:
            return
        self._feed = Feed(
            self.source,
            first_id=monotonic_ids(self.clock),
            ring_size=self._ring_size,
            default_sample_interval=self._sample_interval,
        )
        self._feed.set_active(self._visible_names(self.settings))
        self._feed.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="xsm-sweep")
        await self._open(wanted_listeners(self.settings))

    async def apply(self, settings: XsmSettings) -> None:
        """Take a new configuration. Listeners restart only when ports, TLS or serving
        changed; user, level, adapter and access-class changes apply to the next request
        and close the streams they no longer allow."""
        old, self.settings = self.settings, settings
        if self._feed is None:
            return
        self._feed.set_active(self._visible_names(settings))
        specs = wanted_listeners(settings)
        if specs != self._specs:
            reason = "xsm disabled" if not specs else "listener restarted"
            await self._close_listeners(reason)
            await self._open(specs)
        if old is not settings:
            for client in self._registry:
                why = self._disallowed(client, settings)
                if why is not None:
                    client.close(why)

    async def stop(self) -> None:
        """Close every client cleanly, then the listeners and the feed."""
        await self._close_listeners("shutdown")
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        if self._feed is not None:
            await self._feed.stop()
            self._feed = None

    # -- what the gateway asks ----------------------------------------------------------

    @property
    def http_port(self) -> int | None:
        """The plain listener's bound port (the real one when configured as 0)."""
        status = self._listeners.get("http")
        return status.bound if status else None

    @property
    def secure_port(self) -> int | None:
        status = self._listeners.get("https")
        return status.bound if status else None

    @property
    def certificate_pem(self) -> bytes | None:
        """The self-signed certificate the secure server presents, if it uses one."""
        return self._self_signed.certificate_pem if self._self_signed else None

    def clients(self) -> list[ClientInfo]:
        return self._registry.infos()

    def clear(self, session: int | None = None) -> list[int]:
        """Disconnect one streaming client (or all): its stream ends. Returns the
        sessions cleared."""
        cleared = []
        for client in self._registry:
            if (session is None or client.session == session) and not client.closed:
                client.close("cleared")
                cleared.append(client.session)
        return cleared

    def xrd_list(self, privilege: int) -> list[DataSet]:
        """The data sets a user of `privilege` may read now, by name."""
        return [
            ds
            for name, ds in sorted(self.source.datasets.items())
            if self._visible(name) is not None and privilege >= self._level(ds)
        ]

    def status(self) -> XsmStatus:
        settings = self.settings
        adapters = tuple(a for a, on in (("vdm", settings.vdm), ("edm", settings.edm)) if on)
        return XsmStatus(
            enabled=settings.enabled,
            serving=bool(self._bound_ports),
            listeners=tuple(self._listeners.values()),
            adapters=adapters if settings.enabled else (),
            monitor_level=settings.monitor_level,
            configuration_level=settings.configuration_level,
            clients=len(self._registry),
            counters=XsmCounters(
                logins_failed=self._logins_failed,
                rate_limited=self._rate_limited,
                denied_access_class=self._denied_acl,
                dropped_slow=self._registry.closed[SLOW_CONSUMER],
                refused_busy=self._refused_busy,
                internal_errors=self._internal_errors,
            ),
            last_event_id=self._feed.last_id if self._feed else 0,
            closed_by_reason=dict(self._registry.closed),
        )

    # -- listeners ----------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._guard],
            client_max_size=self.client_max_size,
            handler_args={"max_line_size": 8190, "max_field_size": 8190},
        )
        app.router.add_get("/xsm/xrd-list", self._xrd_list)
        app.router.add_get("/xsm/xrd/{name}", self._xrd)
        app.router.add_get("/xsm/subscribe", self._subscribe, allow_head=False)
        app.router.add_get("/xsm/ws", self._websocket, allow_head=False)
        app.router.add_post("/xsm/exec", self._exec)
        app.router.add_get("/metrics", self._metrics)
        return app

    def _tls_context(self, spec: ListenerSpec) -> tuple[ssl.SSLContext, str]:
        if spec.tls is not None:
            return server_context(spec.tls), "configured"
        if self._self_signed is None or self._self_signed_host != self.hostname:
            self._self_signed = self_signed(self.hostname, self.state_dir)
            self._self_signed_host = self.hostname
        return server_context(self._self_signed), "self-signed"

    async def _open(self, specs: tuple[ListenerSpec, ...]) -> None:
        self._specs = specs
        self._listeners = {}
        self._bound_ports = set()
        if not specs:
            return
        runner = web.AppRunner(self._app(), shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        self._runner = runner
        for spec in specs:
            certificate = None
            try:
                context = None
                if spec.kind == "https":
                    context, certificate = self._tls_context(spec)
                sock = bind_listener(self.host, spec.port)
                site = web.SockSite(runner, sock, ssl_context=context)
                await site.start()
            except (OSError, ssl.SSLError, ValueError) as err:
                log.error("XSM %s server on port %d not started: %s", spec.kind, spec.port, err)
                self._listeners[spec.kind] = ListenerStatus(
                    spec.kind, spec.port, None, str(err) or type(err).__name__, certificate
                )
                continue
            bound = sock.getsockname()[1]
            self._bound_ports.add(bound)
            self._listeners[spec.kind] = ListenerStatus(
                spec.kind, spec.port, bound, None, certificate
            )

    async def _close_listeners(self, reason: str) -> None:
        for client in self._registry:
            client.close(reason)
        # Let the streams' handlers end their responses before connections close.
        me = asyncio.current_task()
        pending = [task for task in self._handlers if not task.done() and task is not me]
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        runner, self._runner = self._runner, None
        self._bound_ports = set()
        self._listeners = {}
        self._specs = ()
        if runner is not None:
            await runner.cleanup()

    # -- checks -------------------------------------------------------------------------

    def _visible_names(self, settings: XsmSettings) -> set[str]:
        return {name for name, ds in self.source.datasets.items() if _published(ds, settings)}

    def _visible(self, name: str) -> DataSet | None:
        """The data set, if it is published now (its adapter on)."""
        ds = self.source.datasets.get(name)
        if ds is None or not _published(ds, self.settings):
            return None
        return ds

    def _level(self, ds: DataSet, settings: XsmSettings | None = None) -> int:
        settings = settings or self.settings
        if ds.level == "configuration":
            return settings.configuration_level
        return settings.monitor_level

    def _disallowed(self, client: Client, settings: XsmSettings) -> str | None:
        """Why the new settings no longer allow this client's stream, if they don't."""
        user = settings.user(client.user)
        if user is None:
            return "user removed"
        old = client.account
        if isinstance(old, LocalUser) and (old.secret != user.secret or old.kind != user.kind):
            return "credentials changed"
        if not access_permits(settings, client_address(client.address)):
            return "access-class"
        for name in client.xrds:
            ds = self.source.datasets.get(name)
            if ds is None or name not in self._visible_names(settings):
                return "data set withdrawn"
            if user.privilege < self._level(ds, settings):
                return "privilege"
        client.privilege = user.privilege
        client.account = user
        return None

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Connection limit, listener still current, access class; then the handler, whose
        unexpected failures become a bare 500 (logged once per kind)."""
        if self._inflight >= self.max_connections:
            self._refused_busy += 1
            return _plain(503, "too many connections", {"Retry-After": "5"})
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if not sockname or sockname[1] not in self._bound_ports:
            # a kept-alive connection to a listener since closed
            return _plain(503, "service not available", {"Connection": "close"})
        if not access_permits(self.settings, client_address(request.remote)):
            self._denied_acl += 1
            return _plain(403, "forbidden")
        self._inflight += 1
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as err:
            self._internal_errors += 1
            kind = f"{request.path}:{type(err).__name__}"
            if kind not in self._logged_errors:
                self._logged_errors.add(kind)
                log.exception("XSM request %s %s failed", request.method, request.path)
            return _plain(500, "internal error")
        finally:
            self._inflight -= 1
            if task is not None:
                self._handlers.discard(task)

    def _failed_login(self, user: str, address: str, reason: str) -> None:
        self._logins_failed += 1
        self._limiter.failed(address)
        if self.on_login_failure is not None:
            try:
                self.on_login_failure(user, address, reason)
            except Exception:
                log.exception("XSM login failure hook failed")

    async def _authenticate(self, request: web.Request) -> LocalUser:
        address = request.remote or ""
        wait = self._limiter.retry_after(address)
        if wait is not None:
            self._rate_limited += 1
            raise web.HTTPTooManyRequests(
                text="too many failed logins\n", headers={"Retry-After": str(int(wait) + 1)}
            )
        unauthorized = web.HTTPUnauthorized(
            text="authentication required\n", headers={hdrs.WWW_AUTHENTICATE: REALM}
        )
        try:
            credentials = parse_basic(request.headers.get(hdrs.AUTHORIZATION))
        except MalformedCredentials as err:
            self._failed_login("", address, str(err))
            raise unauthorized from None
        if credentials is None:
            raise unauthorized
        user, reason = await check_login(self.settings, credentials)
        if user is None:
            self._failed_login(credentials.user, address, reason or "refused")
            raise unauthorized
        self._limiter.succeeded(address)
        return user

    def _require(self, user: LocalUser, level: int) -> None:
        if user.privilege < level:
            raise web.HTTPForbidden(text="privilege level too low\n")

    def _dataset(self, user: LocalUser, name: str) -> DataSet:
        ds = self._visible(name)
        if ds is None:
            raise web.HTTPNotFound(text=f"no data set {name[:64]!r}\n")
        self._require(user, self._level(ds))
        return ds

    def _codec(self, request: web.Request) -> Codec:
        wanted = request.query.get("format")
        if wanted is not None:
            codec = self.codecs.get(wanted.lower())
            if codec is None:
                raise web.HTTPBadRequest(text=f"format is one of {', '.join(self.codecs)}\n")
            return codec
        by_media = {codec.media_type: codec for codec in self.codecs.values()}
        by_media.setdefault("text/xml", self.codecs.get("xml") or self.codecs["json"])
        for media in accepted_media(request.headers.get(hdrs.ACCEPT, "")):
            if media in by_media:
                return by_media[media]
        return self.codecs["json"]

    # -- handlers -----------------------------------------------------------------------

    async def _xrd_list(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        codec = self._codec(request)
        body = codec.prologue + codec.xrd_list(self.xrd_list(user.privilege))
        return web.Response(body=body, content_type=codec.media_type, charset="utf-8")

    async def _xrd(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        name = request.match_info["name"]
        ds = self._dataset(user, name)
        codec = self._codec(request)
        assert self._feed is not None
        params = {k: v for k, v in request.query.items() if k != "format"}
        event_id = self._feed.last_id
        if params and ds.query is not None:
            try:
                rows = await asyncio.to_thread(ds.query, params)
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{exc}\n") from None
        else:
            rows = self._feed.rows(name)
        response = web.StreamResponse(headers={"X-XSM-Event-Id": str(event_id)})
        response.content_type = codec.media_type
        response.charset = "utf-8"
        await response.prepare(request)
        try:
            if codec.prologue:
                await response.write(codec.prologue)
            for chunk in codec.snapshot(name, rows, event_id):
                await response.write(chunk)
            await response.write_eof()
        except ConnectionError:
            pass
        return response

    def _names(self, user: LocalUser, raw: object) -> list[str]:
        if isinstance(raw, str):
            names = [n.strip() for n in raw.split(",") if n.strip()]
        elif isinstance(raw, list) and all(isinstance(n, str) for n in raw):
            names = [n.strip() for n in raw if n.strip()]
        else:
            raise web.HTTPBadRequest(text="xrd is a list of data set names\n")
        if not names or len(names) > len(self.source.datasets):
            raise web.HTTPBadRequest(text="name at least one data set, each once\n")
        for name in names:
            self._dataset(user, name)
        return sorted(set(names))

    def _client(self, request: web.Request, user: LocalUser, transport: Transport) -> Client:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        listener = "http"
        https = self._listeners.get("https")
        if sockname and https is not None and https.bound == sockname[1]:
            listener = "https"
        client = self._registry.add(
            user=user.name,
            privilege=user.privilege,
            address=request.remote or "",
            transport=transport,
            listener=listener,
        )
        client.account = user
        tcp = request.transport
        if tcp is not None:
            client.abort = tcp.abort
            client.buffered = tcp.get_write_buffer_size
        client.alive = lambda: request.transport is not None and not request.transport.is_closing()
        return client

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        accepted = accepted_media(request.headers.get(hdrs.ACCEPT, "*/*"))
        if not {"text/event-stream", "*/*", "text/*"} & set(accepted):
            raise web.HTTPNotAcceptable(text="this is a text/event-stream\n")
        if "xrd" not in request.query:
            raise web.HTTPBadRequest(text="which data sets? ?xrd=NAME[,NAME...]\n")
        names = self._names(user, request.query["xrd"])
        codec = self._codec_for_stream(request)
        assert self._feed is not None
        client = self._client(request, user, "sse")
        response = web.StreamResponse(
            headers={
                hdrs.CONTENT_TYPE: "text/event-stream; charset=utf-8",
                hdrs.CACHE_CONTROL: "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            client.xrds = frozenset(names)
            client.enqueue(self._feed.join(client, names, last_event_id(request)))
            await response.prepare(request)
            await response.write(b"retry: 3000\n\n")
            await pump_sse(client, response, codec, self.keepalive)
        except (ConnectionError, RuntimeError):
            pass  # the client went away (or was aborted as a slow consumer)
        finally:
            self._feed.leave(client)
            self._registry.remove(client)
        if response.prepared:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write_eof()
        return response

    def _codec_for_stream(self, request: web.Request) -> Codec:
        wanted = request.query.get("format", "json").lower()
        codec = self.codecs.get(wanted)
        if codec is None:
            raise web.HTTPBadRequest(text=f"format is one of {', '.join(self.codecs)}\n")
        return codec

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        ws = web.WebSocketResponse(
            heartbeat=self.keepalive, max_msg_size=self.client_max_size, compress=False
        )
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="this is a WebSocket endpoint\n")
        codec = self._codec_for_stream(request)
        assert self._feed is not None
        client = self._client(request, user, "ws")
        writer: asyncio.Task[None] | None = None
        try:
            await ws.prepare(request)
            pump = pump_ws(client, ws, codec, self.keepalive)
            writer = asyncio.get_running_loop().create_task(pump)
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    if message.type == WSMsgType.BINARY:
                        self._ws_error(client, "messages are JSON text")
                    continue
                self._ws_request(client, user, message.data)
                if client.closed:
                    break
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._feed.leave(client)
            if not client.closed:
                client.close("disconnected")
            if writer is not None:
                await asyncio.gather(writer, return_exceptions=True)
            self._registry.remove(client)
            if not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.close(code=1001, message=b"closed by the gateway")
        return ws

    def _ws_error(self, client: Client, error: str) -> None:
        payload = json.dumps({"type": "error", "error": error}).encode()
        client.enqueue([Notice(payload)])

    def _ws_request(self, client: Client, user: LocalUser, text: str) -> None:
        """One client message: `{"subscribe": [...], "last_event_id": N}` or
        `{"unsubscribe": [...]}`; anything else is answered with an error message."""
        assert self._feed is not None
        try:
            request = json.loads(text)
        except (ValueError, RecursionError):
            self._ws_error(client, "not JSON")
            return
        if not isinstance(request, dict) or not ({"subscribe", "unsubscribe"} & request.keys()):
            self._ws_error(client, 'expected {"subscribe": [names]} or {"unsubscribe": [names]}')
            return
        try:
            if "unsubscribe" in request:
                names = self._names(user, request["unsubscribe"])
                self._feed.leave(client, names)
                client.xrds = client.xrds - set(names)
            if "subscribe" in request:
                names = [n for n in self._names(user, request["subscribe"]) if n not in client.xrds]
                last = request.get("last_event_id")
                last = last if isinstance(last, int) and not isinstance(last, bool) else None
                items = self._feed.join(client, names, last)
                client.xrds = client.xrds | set(names)
                client.enqueue(items)
        except web.HTTPException as err:
            self._ws_error(client, (err.text or err.reason).strip())

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        self._require(user, self.settings.configuration_level)
        if self.exec_command is None:
            raise web.HTTPNotFound(text="exec commands are not served here\n")
        body = await request.read()
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise web.HTTPBadRequest(text='expected {"command": "..."}\n') from None
        command = document.get("command") if isinstance(document, dict) else None
        if not isinstance(command, str) or not command.split():
            raise web.HTTPBadRequest(text='expected {"command": "..."}\n')
        by = f"xsm {user.name}@{request.remote or '?'}"
        try:
            result = self.exec_command(command.split(), by)
            if inspect.isawaitable(result):
                result = await result
        except ValueError as err:  # ExecSyntaxError and the control API's own refusals
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(
            {"command": command, "output": result.text, "records": result.records}
        )

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        user = await self._authenticate(request)
        self._require(user, self.settings.monitor_level)
        if self.metrics is None:
            raise web.HTTPNotFound(text="no metrics here\n")
        body, content_type = self.metrics(request.headers.get(hdrs.ACCEPT, ""))
        return web.Response(body=body, headers={hdrs.CONTENT_TYPE: content_type})

    # -- housekeeping -------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                for session in self._registry.sweep():
                    log.info("XSM client %d dropped: slow consumer", session)
            except Exception:
                log.exception("XSM client sweep failed")
