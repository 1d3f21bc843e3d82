"""Remote-access clients between the IKEv1 engine and AAA: a client's XAUTH user name and
password checked by the method list its profile names (local users or RADIUS), its
address leased from a pool, its group's attributes; the verdict back to the engine, and
the lease released when the client goes.

Where the address comes from, in IOS's order: RADIUS's Framed-IP-Address, RADIUS's
`ipsec:addr-pool`, the client group's `pool`, the global `crypto isakmp client
configuration address-pool local`, and, when just one `ip local pool` exists, that one
(`check` says so, as the spec's example relies on it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import Protocol

from engine.aaa.pools import AddressPools
from engine.aaa.results import NO_ATTRIBUTES, AuthResult, ModeConfigAttributes
from engine.config.model import Config
from engine.events import ClientAuthorizationRequested, IkeSaAbandoned, IkeSaDown, IkeSaRekeyed
from engine.ikev1.policy import ClientGrant

log = logging.getLogger(__name__)


class Checker(Protocol):
    """`engine.aaa.method_lists.Authenticator`, as this module uses it."""

    async def check(
        self,
        list_name: str | None,
        user: str,
        password: str,
        *,
        calling_station_id: str | None = None,
    ) -> AuthResult: ...


class GatewayPort(Protocol):
    def authorize_client(self, ike_sa_id: int, grant: ClientGrant | None, reason: str) -> bool: ...


class RemoteAccessClients:
    EVENTS = (ClientAuthorizationRequested, IkeSaDown, IkeSaAbandoned, IkeSaRekeyed)

    def __init__(
        self,
        gateway: GatewayPort,
        check: Checker,
        model: Callable[[], Config],
        pools: AddressPools,
    ) -> None:
        self.gateway = gateway
        self.check = check
        self.model = model
        self.pools = pools
        #: ISAKMP SA -> the address leased to its client
        self._leases: dict[int, ipaddress.IPv4Address] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats: dict[str, int] = {"accepted": 0, "rejected": 0, "no address": 0}

    def on_event(self, event: object) -> None:
        if isinstance(event, ClientAuthorizationRequested):
            task = asyncio.get_running_loop().create_task(self._authorize(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(event, IkeSaRekeyed):
            address = self._leases.pop(event.old_ike_sa_id, None)
            if address is not None:
                self._leases[event.new_ike_sa_id] = address
        elif isinstance(event, IkeSaDown | IkeSaAbandoned):
            address = self._leases.pop(event.ike_sa_id, None)
            if address is not None and address not in self._leases.values():
                self.pools.release(address)

    async def _authorize(self, request: ClientAuthorizationRequested) -> None:
        try:
            grant, reason = await self._decide(request)
        except Exception as err:  # a defect must cost this client, not the gateway
            log.exception("remote-access authorization failed")
            grant, reason = None, f"internal error: {type(err).__name__}"
        if grant is None:
            self.stats["rejected"] += 1
        else:
            self.stats["accepted"] += 1
            if grant.address is not None:
                self._leases[request.ike_sa_id] = grant.address
        if not self.gateway.authorize_client(request.ike_sa_id, grant, reason):
            # the client went away meanwhile: its address goes back
            address = self._leases.pop(request.ike_sa_id, None)
            if address is not None and address not in self._leases.values():
                self.pools.release(address)

    async def _decide(
        self, request: ClientAuthorizationRequested
    ) -> tuple[ClientGrant | None, str]:
        attributes = NO_ATTRIBUTES
        if request.password is not None:
            verdict = await self.check.check(
                request.xauth_list or None,
                request.username,
                request.password.reveal().decode("utf-8", "replace"),
                calling_station_id=request.remote[0],
            )
            if not verdict.ok:
                return None, verdict.reason or "rejected"
            attributes = verdict.attributes
        model = self.model()
        group = model.client_groups.get(request.group)
        owner = f"{request.username or request.group or '-'}@{request.remote[0]}"
        address = self._address(
            model, group.pool[0] if group and group.pool else "", attributes, owner
        )
        if address is None and self._wants_address(model):
            self.stats["no address"] += 1
            return None, "no address to assign: the pool is exhausted or none is set"
        dns = attributes.dns_servers or (tuple(group.dns) if group else ())
        wins = attributes.wins_servers or (tuple(group.wins) if group else ())
        domain = attributes.default_domain or ((group.domain or "") if group else "")
        split_acl = attributes.split_tunnel_list or (group.acl[0] if group and group.acl else "")
        split: list[ipaddress.IPv4Network] = []
        if split_acl in model.access_lists:
            for entry in model.access_lists[split_acl].entries:
                if entry.action == "permit" and isinstance(entry.source_net, ipaddress.IPv4Network):
                    split.append(entry.source_net)
        return (
            ClientGrant(
                username=request.username,
                address=address,
                netmask=attributes.framed_ip_netmask or (group.netmask if group else None),
                dns=dns,
                wins=wins,
                domain=domain,
                split_networks=tuple(split),
                save_password=bool(group and group.save_password),
                banner=(group.banner or "") if group else "",
            ),
            "",
        )

    @staticmethod
    def _wants_address(model: Config) -> bool:
        return bool(model.local_pools) or model.client_address_pool is not None

    def _address(
        self,
        model: Config,
        group_pool: str,
        attributes: ModeConfigAttributes,
        owner: str,
    ) -> ipaddress.IPv4Address | None:
        if attributes.framed_ip_address is not None:
            return attributes.framed_ip_address
        pool = attributes.addr_pool or group_pool
        if not pool and model.client_address_pool is not None:
            pool = model.client_address_pool[0]
        if not pool and len(model.local_pools) == 1:
            pool = next(iter(model.local_pools))
        return self.pools.allocate(pool, owner) if pool else None

    def lease_of(self, ike_sa_id: int) -> ipaddress.IPv4Address | None:
        return self._leases.get(ike_sa_id)
