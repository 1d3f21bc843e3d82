"""The gateway as an operator runs it, from one configuration file: sockets, the
session model and store, syslog, the control API, hot reload and static tunnels."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from engine import syslog
from engine.aaa.method_lists import Authenticator
from engine.aaa.pools import AddressPools
from engine.accounting import Accountant
from engine.bus import EventBus
from engine.config.compile import CompiledConfig, TunnelInterface
from engine.config.diagnostics import ConfigError, Severity
from engine.config.diff import ConfigDiff, diff
from engine.config.loader import Loaded, load_compiled
from engine.config.model import Config
from engine.config.reload import FileWatcher, load_complete
from engine.control import Control
from engine.control_socket import ControlServer
from engine.dataplane.lab import EchoResponder
from engine.dataplane.plane import DataPlane
from engine.dataplane.tun_sink import TunSink
from engine.dataplane.tunnel_sink import TunnelSink
from engine.dataplane.virtual_access import VirtualAccesses
from engine.events import (
    ConfigEvent,
    ConfigReloaded,
    ConfigReloadFailed,
    DownReason,
    SessionTransition,
)
from engine.gateway import Gateway
from engine.gc_policy import apply_gateway_thresholds
from engine.logbook import Logbook
from engine.remote_access import RemoteAccessClients
from engine.sessions import SessionModel
from engine.static_tunnels import StaticTunnels
from engine.statistics import EngineStatistics, collect
from engine.store import STATS, Store
from engine.syslog import SyslogForwarder
from engine.xsm.attach import GatewayXsm
from engine.xsm.settings import XsmSettings

#: seconds between snapshots of the drop counters in the store (the console's drops screen)
STATISTICS_INTERVAL = 1.0


def ring_size(logging_buffered: int | None) -> int:
    """`logging buffered SIZE` is bytes on IOS; the console keeps lines (~128 bytes each)."""
    return max(200, (logging_buffered or 256_000) // 128)


def logging_settings(model: Config) -> dict[str, object]:
    return {
        "hosts": [(str(h.address), h.port) for h in model.logging_hosts],
        "trap_level": model.logging_trap,
        "hostname": model.hostname,
    }


class VpnService:
    def __init__(
        self,
        config_path: str | Path,
        *,
        bind: str = "0.0.0.0",
        ike_port: int = 500,
        natt_port: int = 4500,
        watch: bool = True,
        control_path: str | Path | None = None,
        serve_control: bool = False,
        dataplane: str | None = "auto",
        esp_over_ip: bool = True,
        state_dir: str | Path | None = None,
    ) -> None:
        """`dataplane`: "tun" (a TUN device and routes; needs CAP_NET_ADMIN), "echo"
        (answer pings to our protected networks: the lab, unprivileged runs), "auto"
        (tun when it can be had, else echo), or None (IKE only)."""
        self.config_path = Path(config_path)
        self.watch = watch
        self.loaded: Loaded = load_compiled(
            self.config_path, ike_port=ike_port, natt_port=natt_port
        )
        self.store = Store(syslog_size=ring_size(self.model.logging_buffered))
        # One bus for every event; a burst of them (one gateway flush) is one store flush.
        self.bus = EventBus(scope=self.store.batch)
        self.gateway = Gateway(
            self.loaded.compiled.ike,
            bind=bind,
            ike_port=ike_port,
            natt_port=natt_port,
            dataplane=dataplane is not None,
            esp_over_ip=esp_over_ip,
            bus=self.bus,
        )
        self.dataplane_mode = dataplane
        self.sessions = SessionModel(self.store, publish=self.bus.publish)
        self.forwarder = SyslogForwarder(**logging_settings(self.model))  # type: ignore[arg-type]
        self.logbook = Logbook(self.store, self.forwarder)
        self.accountant = Accountant(
            self.store,
            self.logbook,
            spool_path=Path(state_dir) / "accounting.sqlite" if state_dir else None,
            nas_ip=None if bind in ("0.0.0.0", "::") else bind,
        )
        self.accountant.apply_config(self.model, self.compiled)
        # remote access: XAUTH users and mode-config addresses (the IKEv1 exchanges')
        self.authenticator = Authenticator.from_config(
            self.model, nas_ip=None if bind in ("0.0.0.0", "::") else bind
        )
        self.pools = AddressPools(self.model.local_pools)
        self.remote_access = RemoteAccessClients(
            self.gateway, self.authenticator, lambda: self.model, self.pools
        )
        self.control = Control(self)
        self.control_server = ControlServer(self.control, control_path) if serve_control else None
        self.static_tunnels = StaticTunnels(self.gateway, lambda: self.compiled)
        self.dataplane = (
            DataPlane(self.gateway, replay_window=self.model.replay_window) if dataplane else None
        )
        self.virtual_accesses = VirtualAccesses(
            lambda: self.compiled.templates, self._virtual_access_sink, self.bus.publish
        )
        self._subscribe_in_order()
        self.xsm_gateway = GatewayXsm(
            self,
            self.compiled.xsm,
            state_dir=Path(state_dir) if state_dir else None,
            host=None if bind in ("0.0.0.0", "::") else bind,
        )
        #: the XSM service (HTTP data sets, push, exec); `Control` finds it here
        self.xsm = self.xsm_gateway.service
        #: the statistics history's rows (`xsm history vdm|edm`); `Control` finds it here
        self.xsm_history = self.xsm_gateway.history
        self._xsm_apply: asyncio.Task[None] | None = None
        self.sink: TunSink | EchoResponder | None = None
        #: tunnel interfaces (IOS name) -> their sinks
        self.tunnel_sinks: dict[str, TunnelSink | EchoResponder] = {}
        self._watcher: FileWatcher | None = None
        self.last_reload: ConfigReloaded | ConfigReloadFailed | None = None
        self._statistics_task: asyncio.Task[None] | None = None
        self._reload_task: asyncio.Future[object] | None = None

    def _subscribe_in_order(self) -> None:
        """The consumers of the bus, in the order they get each event (README,
        "Architecture"):

        0. virtual accesses (dynamic VTI): a template's child SA gets its spoke's
           virtual-access interface, told to the data plane and sessions first;
        1. the data plane: installs and removes ESP SAs; for a deleted child SA it first
           publishes the child's final counters, which everyone gets before the deletion
           goes on, so the session model retires the last packets too;
        2. the session model: sessions in the store, and session transitions;
        3. accounting: Start, Interim-Update and Stop from the transitions;
        4. the logbook: IOS log lines (session up/down, failures, reloads) to the ring
           and to syslog servers;
        5. static tunnels: bring configured peers back up after a failure or a delete.
        """
        if self.dataplane is not None:
            self.bus.subscribe(
                "virtual accesses", self.virtual_accesses.on_event, VirtualAccesses.EVENTS
            )
            self.bus.subscribe("data plane", self.dataplane.on_event, DataPlane.EVENTS)
        self.bus.subscribe("sessions", self.sessions.handle, SessionModel.EVENTS)
        self.bus.subscribe("accounting", self.accountant.on_transition, (SessionTransition,))
        self.bus.subscribe("remote access", self.remote_access.on_event, RemoteAccessClients.EVENTS)
        self.bus.subscribe("logbook", self.logbook.on_event, Logbook.EVENTS)
        self.bus.subscribe("static tunnels", self.static_tunnels.on_event, StaticTunnels.EVENTS)

    @property
    def compiled(self) -> CompiledConfig:
        return self.loaded.compiled

    @property
    def model(self) -> Config:
        return self.loaded.model

    def statistics(self) -> EngineStatistics:
        """What the gateway dropped and why, read now."""
        esp = self.dataplane.table.drop_counts() if self.dataplane is not None else None
        return collect(self.gateway, esp, time.time())

    def publish_statistics(self) -> None:
        self.store.put(STATS, "engine", self.statistics())
        self.store.flush()

    async def _every_second(self) -> None:
        while True:
            self.publish_statistics()
            self.logbook.tick()
            await asyncio.sleep(STATISTICS_INTERVAL)

    async def start(self) -> None:
        apply_gateway_thresholds()
        await self.gateway.start()
        ike = replace(
            self.compiled.ike, ike_port=self.gateway.ike_port, natt_port=self.gateway.natt_port
        )
        self.loaded = replace(self.loaded, compiled=replace(self.compiled, ike=ike))
        self.sessions.apply_config(self.compiled)
        self.gateway.set_df_bit(self.model.df_bit)
        await self.accountant.start(announce=False)
        self._start_dataplane()
        await self.forwarder.start()
        if self.control_server is not None:
            await self.control_server.start()
        await self.xsm_gateway.start()
        # Only a gateway that has started says "NAS on": a failed start left no record.
        self.accountant.announce_on()
        self.logbook.log(syslog.config_loaded(str(self.config_path)))
        self.static_tunnels.start()
        self._statistics_task = asyncio.create_task(self._every_second())
        if self.watch:
            self._watcher = FileWatcher(self.config_path, self.reload_in_background)
            self._watcher.start()

    async def stop(self) -> None:
        if self._statistics_task is not None:
            self._statistics_task.cancel()
        if self._watcher is not None:
            await self._watcher.stop()
        self.static_tunnels.stop()
        if self._xsm_apply is not None:
            await asyncio.gather(self._xsm_apply, return_exceptions=True)
        await self.xsm_gateway.stop()
        if self.control_server is not None:
            await self.control_server.stop()
        await self.gateway.stop()
        if self.dataplane is not None:
            self.dataplane.stop()
        if isinstance(self.sink, TunSink):
            self.sink.stop()
        for sink in self.tunnel_sinks.values():
            sink.stop()
        self.tunnel_sinks.clear()
        self.virtual_accesses.stop()
        await self.accountant.stop()
        await self.authenticator.close()
        await self.forwarder.close()

    def _start_dataplane(self) -> None:
        if self.dataplane is None:
            return
        if self.dataplane_mode in ("tun", "auto"):
            tun = TunSink(self.dataplane)
            try:
                tun.start()
            except OSError as err:
                if self.dataplane_mode == "tun":
                    raise OSError(f"cannot create the TUN device: {err}") from err
            else:
                self.sink = tun
        if self.sink is None:
            self.sink = EchoResponder(self.dataplane)
        self._sync_tunnels()
        self.dataplane.start()

    def _virtual_access_sink(self, access: TunnelInterface) -> TunnelSink | EchoResponder | None:
        """A spoke's virtual access: a TUN device with a TUN data plane, an echo responder
        in the lab; a device that cannot be made is logged, and the spoke goes unserved."""
        if self.dataplane is None:
            return None
        if not isinstance(self.sink, TunSink):
            return EchoResponder(self.dataplane, access.name)
        made = TunnelSink(self.dataplane, access)
        try:
            made.start()
        except OSError as err:
            self.logbook.log(syslog.tunnel_failed(access.name, str(err)))
            return None
        return made

    def _sync_tunnels(self) -> None:
        """One sink per tunnel interface of the running configuration: made, changed or
        taken away as the configuration says. With a TUN data plane, a tunnel that cannot
        get its device is logged and the others go on; in echo mode (the lab) a tunnel
        answers pings like the crypto maps' side."""
        if self.dataplane is None:
            return
        wanted = self.compiled.tunnels
        for name in [n for n in self.tunnel_sinks if n not in wanted]:
            self.tunnel_sinks.pop(name).stop()
        for name, tunnel in wanted.items():
            sink = self.tunnel_sinks.get(name)
            if isinstance(sink, TunnelSink):
                sink.update(tunnel)
            elif sink is None and isinstance(self.sink, TunSink):
                made = TunnelSink(self.dataplane, tunnel)
                try:
                    made.start()
                except OSError as err:
                    self.logbook.log(syslog.tunnel_failed(name, str(err)))
                else:
                    self.tunnel_sinks[name] = made
                    if self.dataplane.line_is_up(name):
                        made.line_up()
            elif sink is None:
                self.tunnel_sinks[name] = EchoResponder(self.dataplane, name)

    def reload(self) -> ConfigEvent:
        """Parse, validate, diff, apply, all now (tests, tools). A file with errors, or one
        caught mid-write ("incomplete file, waiting"), changes nothing."""
        return self._finish_reload(self._prepare_reload(self.model), time.time())

    async def reload_in_background(self) -> ConfigEvent:
        """`reload`, with the reading, parsing and compiling in a worker thread (the file
        watcher, SIGHUP): a 50 MB file must not stall the loop, and with it every IKE
        exchange and the control socket, for 20 s. The diff and apply run on the loop."""
        now = time.time()
        result = await asyncio.to_thread(self._prepare_reload, self.model)
        # the replaced model is freed in a thread too: millions of objects (seconds)
        retired = [self.loaded]
        event = self._finish_reload(result, now)
        await asyncio.to_thread(retired.clear)
        return event

    def _prepare_reload(self, running: Config) -> Loaded | ConfigError:
        try:
            return load_complete(
                self.config_path,
                running,
                ike_port=self.gateway.ike_port,
                natt_port=self.gateway.natt_port,
            )
        except ConfigError as err:
            return err

    def _finish_reload(self, result: Loaded | ConfigError, now: float) -> ConfigEvent:
        event: ConfigEvent
        if isinstance(result, ConfigError):
            errors = tuple(str(d) for d in result.diagnostics if d.severity is Severity.ERROR)
            event = ConfigReloadFailed(str(self.config_path), now, errors)
        else:
            changes = self.apply(result)
            event = ConfigReloaded(
                str(self.config_path),
                now,
                changes.summary(),
                tuple(str(w) for w in result.warnings),
            )
        self.last_reload = event
        self.gateway.publish(event)
        return event

    def request_reload(self) -> None:
        """Reload in the background (SIGHUP's handler must not do the work itself)."""
        self._reload_task = asyncio.ensure_future(self.reload_in_background())

    def apply(self, loaded: Loaded) -> ConfigDiff:
        changes = diff(self.loaded.compiled, loaded.compiled)
        self.loaded = loaded
        self.gateway.apply(loaded.compiled.ike)
        if loaded.model.df_bit != self.gateway.df_bit:
            self.gateway.set_df_bit(loaded.model.df_bit)
        self.sessions.apply_config(loaded.compiled)
        self.accountant.apply_config(loaded.model, loaded.compiled)
        self.authenticator.apply_config(loaded.model)
        # leases of addresses no longer in a pool stay with their clients until their
        # sessions end; the pools simply no longer hand them out
        self.pools.reload(loaded.model.local_pools)
        self.forwarder.update(**logging_settings(loaded.model))  # type: ignore[arg-type]
        if self.dataplane is not None:  # for SAs installed from now on
            self.dataplane.table.set_replay_window(loaded.model.replay_window)
            if self.sink is not None:
                self._sync_tunnels()
        if changes.removed:
            self.gateway.delete_peers(set(changes.removed), DownReason.CONFIG_REMOVED)
        self.static_tunnels.forget(changes.removed)
        self._apply_xsm(loaded.compiled.xsm)
        return changes

    def _apply_xsm(self, settings: XsmSettings) -> None:
        """Listeners open and close on the loop; reloads that follow wait their turn."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # not started: start() takes the settings as they are then
            self.xsm_gateway.service.settings = settings
            return
        previous = self._xsm_apply

        async def apply() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self.xsm_gateway.apply(settings)

        self._xsm_apply = asyncio.ensure_future(apply())
