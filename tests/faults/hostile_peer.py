"""A hostile IKEv2 responder built from the project's own engine, for the fault suite.

It answers IKE_SA_INIT and IKE_AUTH as a correct peer would (it is `engine.gateway.Gateway`
with a one-peer `IkeConfig`, as tests/ike_pair.py builds them), then refuses every
CREATE_CHILD_SA request with INVALID_KE_PAYLOAD naming a DH group (52159 by default) that
nobody offered. charon cannot be made to do that, and an initiator must not follow such a
refusal (RFC 7296 1.3: a responder picks only among the offered groups).

Run inside charon's namespace of the strongSwan topology:

    ip netns exec ic-ss-TAG .venv/bin/python tests/faults/hostile_peer.py \\
        --bind 10.99.0.1 --peer 10.99.0.2 --psk SECRET

It prints one JSON object per line on stdout: {"event": "ready"} once its sockets are
bound, {"event": "refused", ...} for each CREATE_CHILD_SA it refused, and one line per
engine event (IkeSaUp, ChildSaInstalled, ChildSaDeleted, IkeSaDown ...). SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import engine.ike.responder as responder
from engine.crypto.algorithms import DhId, PrfId
from engine.gateway import Gateway
from engine.ike.constants import ExchangeType, NotifyType
from engine.ike.payloads import NotifyPayload
from engine.ike.policy import (
    AES_GCM_256,
    EspProposalPolicy,
    Identity,
    IkeConfig,
    IkeProposalPolicy,
    PeerPolicy,
)
from engine.secret import Secret


def say(**fields: object) -> None:
    print(json.dumps(fields, default=str), flush=True)


def hostile_respond(group: int):  # type: ignore[no-untyped-def]
    """`engine.ike.responder.respond`, except for CREATE_CHILD_SA."""
    original = responder.respond

    def respond(sa, request, now):  # type: ignore[no-untyped-def]
        if request.exchange == ExchangeType.CREATE_CHILD_SA:
            say(event="refused", message_id=request.message_id, group=group)
            return [NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, group.to_bytes(2, "big"))]
        return original(sa, request, now)

    return respond


def config(args: argparse.Namespace) -> IkeConfig:
    peer = PeerPolicy(
        name="victim",
        psk_local=Secret(args.psk),
        psk_remote=Secret(args.psk),
        ike_proposals=(
            IkeProposalPolicy(
                "gcm256-x25519", (AES_GCM_256,), (PrfId.HMAC_SHA2_256,), (), (DhId.CURVE25519,)
            ),
        ),
        esp_proposals=(EspProposalPolicy("gcm256", (AES_GCM_256,)),),
        local_ts=(ipaddress.ip_network(args.local_ts),),
        remote_ts=(ipaddress.ip_network(args.remote_ts),),
        remote_addresses=(ipaddress.ip_network(f"{args.peer}/32"),),
        local_identity=Identity.address(args.bind),
        remote_identity=Identity.address(args.peer),
        pfs_group=args.pfs_group,
    )
    return IkeConfig(peers=(peer,))


async def main(args: argparse.Namespace) -> None:
    # ike_sa.py looks `respond` up in its module at every request: patch it there.
    responder.respond = hostile_respond(args.group)
    gateway = Gateway(
        config(args), bind=args.bind, ike_port=args.ike_port, natt_port=args.natt_port
    )

    def on_event(event: object) -> None:
        fields = {k: getattr(event, k) for k in getattr(event, "__dataclass_fields__", {})}
        fields.pop("keys", None)  # key material stays in the process
        say(event=type(event).__name__, **fields)

    gateway.subscribe(on_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await gateway.start()
    say(event="ready", ike_port=gateway.ike_port, natt_port=gateway.natt_port)
    try:
        await stop.wait()
    finally:
        await gateway.stop(graceful=False)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--peer", required=True, help="the gateway under test")
    parser.add_argument("--psk", required=True)
    parser.add_argument("--group", type=int, default=52159, help="the group to ask for")
    parser.add_argument("--pfs-group", type=int, default=None)
    parser.add_argument("--local-ts", default="10.98.1.0/24")
    parser.add_argument("--remote-ts", default="10.98.2.0/24")
    parser.add_argument("--ike-port", type=int, default=500)
    parser.add_argument("--natt-port", type=int, default=4500)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
