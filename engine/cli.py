"""The `ipsec-console` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from engine.config.diagnostics import ConfigError
from engine.config.words import match_keyword

if TYPE_CHECKING:
    from engine.service import VpnService


class EventPrinter:
    """Prints the headless console's lines; stops the program quietly when stdout goes
    away, and on the signals that stop a daemon."""

    def __init__(self) -> None:
        self.stopped = asyncio.Event()

    def say(self, line: str) -> None:
        try:
            print(line, flush=True)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other CLI tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self.stopped.set()

    def stop_on_signals(self, service: VpnService | None = None) -> None:
        """SIGTERM and SIGINT stop cleanly: DELETEs go to the peers, Stop records out.
        SIGHUP reloads the configuration, as daemons do; it never stops the gateway."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopped.set)
        if service is not None:
            loop.add_signal_handler(signal.SIGHUP, service.request_reload)

    async def wait(self, duration: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopped.wait(), duration or None)


def print_log_lines(service: object, printer: EventPrinter) -> None:
    """Follow the service's log ring on stdout (the headless console)."""
    from engine.store import SYSLOG

    def show(changes: object) -> None:
        for entry in changes.table(SYSLOG).added.values():  # type: ignore[attr-defined]
            printer.say(entry.display())

    service.store.listen(show, tables={SYSLOG})  # type: ignore[attr-defined]


ConsoleRunner = Callable[[object, "str | None"], Awaitable[None]]


async def run_lab(args: argparse.Namespace, console: ConsoleRunner | None = None) -> None:
    from engine.lab import Lab

    printer = EventPrinter()
    lab = Lab(
        ike_port=args.ike_port,
        natt_port=args.natt_port,
        peers=args.peers,
        control_path=args.control,
        gateway_config=args.config,
        peers_config=args.lab,
        bind=args.bind if args.config else "127.0.0.1",
    )
    if console is not None and not args.headless:
        await lab.start()
        try:
            await console(lab, args.theme)
        finally:
            await lab.stop()
        return
    print_log_lines(lab.service, printer)
    printer.stop_on_signals(lab.service)
    await lab.start()
    printer.say(
        f"lab gateway on 127.0.0.1:{lab.gateway.ike_port} with {len(lab.peers)} "
        "lab peers; Ctrl-C stops"
    )
    try:
        await printer.wait(args.duration)
    finally:
        await lab.stop()


async def run_config(args: argparse.Namespace, console: ConsoleRunner | None = None) -> None:
    """The gateway from a configuration file, headless: its log lines on stdout."""
    from engine.service import VpnService

    printer = EventPrinter()
    service = VpnService(
        args.config,
        bind=args.bind,
        ike_port=args.ike_port,
        natt_port=args.natt_port,
        control_path=args.control,
        serve_control=True,
        state_dir=args.state_dir,
    )
    for warning in service.loaded.warnings:
        print(warning, file=sys.stderr)
    if console is not None and not args.headless and not args.daemon:
        await service.start()
        try:
            await console(service, args.theme)
        finally:
            await service.stop()
        return
    print_log_lines(service, printer)
    printer.stop_on_signals(service)
    await service.start()
    assert service.control_server is not None
    printer.say(
        f"gateway on {args.bind}:{service.gateway.ike_port} "
        f"(NAT-T {service.gateway.natt_port}) with {args.config}; "
        f"control socket {service.control_server.path}; Ctrl-C stops"
    )
    try:
        await printer.wait(args.duration)
    finally:
        await service.stop()


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipsec-console",
        description="Operator's console for an in-process IKEv2/IPsec VPN gateway. "
        "With no arguments: the lab (a gateway and lab peers on loopback). "
        "Also: 'ipsec-console check FILE' validates a configuration.",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="run the gateway with this IOS-style configuration instead of the lab",
    )
    parser.add_argument("--bind", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    parser.add_argument(
        "--lab",
        metavar="PEERS.conf",
        default=None,
        help="with --config: also run the lab peers of this file against it",
    )
    parser.add_argument(
        "--control",
        metavar="PATH",
        default=None,
        help="control socket (default: $XDG_RUNTIME_DIR/ipsec-console.sock)",
    )
    parser.add_argument(
        "--ike-port", type=port, default=None, help="IKE port (default 500; 15500 in the lab)"
    )
    parser.add_argument(
        "--natt-port", type=port, default=None, help="NAT-T port (default 4500; 15501 in the lab)"
    )
    parser.add_argument(
        "--peers",
        type=int,
        default=None,
        help="lab peers to start (default: all of lab-peers.conf)",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        default=None,
        help="where the accounting spool is kept (default: $XDG_STATE_HOME/ipsec-console)",
    )
    parser.add_argument(
        "--theme", default=None, help="console theme: dark (default), light or green"
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no full-screen console: print the log lines instead",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    return parser


def check(argv: list[str]) -> int:
    """`check FILE`: compiler-style diagnostics; 0 clean or warnings, 1 errors, 2 usage."""
    from engine.config.loader import load

    parser = argparse.ArgumentParser(
        prog="ipsec-console check", description="Validate an IOS-style configuration file."
    )
    parser.add_argument("file")
    args = parser.parse_args(argv)
    # A file name that is not UTF-8, a line that held a stray byte (now U+FFFD), a
    # terminal that is not UTF-8: each is printed escaped, never a UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    model = load(args.file)
    if model.errors and model.errors[0].source.line == 0:
        print(f"ipsec-console: {model.errors[0].message}: {args.file}", file=sys.stderr)
        return 2
    for diagnostic in sorted(model.diagnostics, key=lambda d: d.source.line):
        print(diagnostic)
    errors, warnings = len(model.errors), len(model.warnings)
    print(
        f"{args.file}: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )
    return 1 if errors else 0


def main(argv: list[str] | None = None, console: ConsoleRunner | None = None) -> int:
    """`console` runs the full-screen console over a started gateway or lab; the engine
    does not know the console, so the console's own entry point passes it in."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "check":
        return check(argv[1:])
    verb = match_keyword(argv[0], ("show", "clear")) if argv else None
    if verb is not None:
        from engine import exec_commands

        return getattr(exec_commands, verb)(argv[1:])
    daemon = bool(argv) and argv[0] == "daemon"
    args = build_parser().parse_args(argv[1:] if daemon else argv)
    args.daemon = daemon
    if daemon and args.config is None:
        print("ipsec-console daemon: --config FILE is required", file=sys.stderr)
        return 2
    if args.peers is not None and not 1 <= args.peers <= 200:
        print("ipsec-console: --peers must be between 1 and 200", file=sys.stderr)
        return 2
    lab = args.config is None or args.lab is not None
    if args.ike_port is None:
        args.ike_port = 15500 if lab else 500
    if args.natt_port is None:
        args.natt_port = 15501 if lab else 4500
    try:
        asyncio.run(run_lab(args, console) if lab else run_config(args, console))
    except KeyboardInterrupt:
        pass
    except ConfigError as err:
        for diagnostic in err.diagnostics:
            print(diagnostic, file=sys.stderr)
        return 1
    except OSError as err:
        print(f"ipsec-console: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
