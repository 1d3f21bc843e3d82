"""The `ipsec-console` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time

from engine.events import (
    AuthenticationFailed,
    ChildSaDeleted,
    ChildSaInstalled,
    IkeEvent,
    IkeSaDown,
    IkeSaUp,
    NegotiationFailed,
)


def describe_event(event: IkeEvent) -> str | None:
    """One line per event for the headless lab log."""
    if isinstance(event, IkeSaUp):
        alg = event.algorithms
        return (
            f"IKE SA up        peer {event.remote[0]}:{event.remote[1]}  id {event.remote_id}"
            f"  {alg.encryption}/{alg.prf}/group {alg.dh_group}"
        )
    if isinstance(event, IkeSaDown):
        return f"IKE SA down      peer {event.remote[0]}:{event.remote[1]}  ({event.reason.value})"
    if isinstance(event, ChildSaInstalled):
        ts = event.traffic_selectors
        return (
            f"IPsec SA up      peer {event.remote[0]}  spi in {event.spi_in:08x} "
            f"out {event.spi_out:08x}  permit ip {','.join(ts.local)} "
            f"{','.join(ts.remote)}"
        )
    if isinstance(event, ChildSaDeleted):
        return f"IPsec SA down    spi in {event.spi_in:08x}  ({event.reason.value})"
    if isinstance(event, AuthenticationFailed):
        return f"auth failed      peer {event.remote[0]}  {event.reason}"
    if isinstance(event, NegotiationFailed):
        return f"negotiation failed peer {event.remote[0]}  {event.reason}"
    return None


async def run_lab(args: argparse.Namespace) -> None:
    from engine.lab import Lab

    stop = asyncio.Event()

    def say(line: str) -> None:
        try:
            print(line, flush=True)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other CLI tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            stop.set()

    def show(event: IkeEvent) -> None:
        line = describe_event(event)
        if line:
            say(f"{time.strftime('%H:%M:%S')} {line}")

    lab = Lab(ike_port=args.ike_port, natt_port=args.natt_port, peers=args.peers)
    await lab.start(show)
    say(
        f"lab gateway on 127.0.0.1:{lab.gateway.ike_port} with {len(lab.peers)} lab peers;"
        " Ctrl-C stops"
    )
    try:
        await asyncio.wait_for(stop.wait(), args.duration or None)
    except TimeoutError:
        pass
    finally:
        await lab.stop()


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
        "With no arguments: the lab (a gateway and lab peers on loopback).",
    )
    parser.add_argument(
        "--ike-port", type=port, default=15500, help="gateway IKE port in the lab (default 15500)"
    )
    parser.add_argument(
        "--natt-port",
        type=port,
        default=15501,
        help="gateway NAT-T port in the lab (default 15501)",
    )
    parser.add_argument("--peers", type=int, default=8, help="number of lab peers (default 8)")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.peers <= 200:
        print("ipsec-console: --peers must be between 1 and 200", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_lab(args))
    except KeyboardInterrupt:
        pass
    except OSError as err:
        print(f"ipsec-console: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
