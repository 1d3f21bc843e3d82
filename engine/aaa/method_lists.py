"""`aaa authentication login LIST METHOD...` at run time: who XAUTH users are.

IOS semantics, as implemented here:

- The methods are tried in order, and the next one only after an ERROR: a server
  group none of whose servers answered. A FAIL (an Access-Reject, a wrong local
  password) ends the list: the user is refused.
- `local` looks the user up in `username` lines, the name in any case (IOS's `local`;
  `local-case` matches it exactly). A user who is not there is an ERROR, not a FAIL:
  IOS goes on to the next method ("User not found" in its AAA debugging), so that
  `local group radius` asks the server about users the router does not know. The last
  method's ERROR refuses the user.
- `none` accepts anyone.
- No list named (`list_name` None): the `default` list when there is one, else the
  local user database alone (IOS: "if no default list is set, only the local user
  database is checked").
- A list that is named but not defined refuses every user (fail closed); `check`
  reports such references as errors (engine/config/validate_remote_access.py), so a
  validated configuration has none.

Hashed local secrets (types 5, 8, 9: scrypt is ~50 ms of CPU) are verified in a worker
thread: no login holds up the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.aaa.local_users import verify_password
from engine.aaa.radius_auth import RadiusAuthClient
from engine.aaa.results import AuthResult
from engine.accounting.accountant import resolve_key
from engine.accounting.transport import RadiusTransport, ServerConfig, Timers
from engine.config.model import (
    GROUP_PREFIX,
    METHOD_LOCAL,
    METHOD_LOCAL_CASE,
    METHOD_NONE,
    Config,
    LocalUser,
    MethodList,
)

DEFAULT_LIST = "default"
#: stored types whose check is a slow hash
SLOW_KINDS = (5, 8, 9)


def radius_groups(model: Config) -> dict[str, tuple[ServerConfig, ...]]:
    """Server group name -> its servers with their keys ("radius": every `radius-server
    host`); servers without any key are left out (check reports them)."""
    groups: dict[str, tuple[ServerConfig, ...]] = {}
    configured = {"radius": list(model.radius_servers)}
    configured |= {name: list(g.servers) for name, g in model.radius_groups.items()}
    for name, servers in configured.items():
        resolved: list[ServerConfig] = []
        for server in servers:
            key = resolve_key(server, model)
            if server.address is None or key is None:
                continue
            config = ServerConfig(
                str(server.address), server.acct_port, key, server.auth_port, authentication=True
            )
            if all(s.name != config.name for s in resolved):
                resolved.append(config)
        groups[name] = tuple(resolved)
    return groups


@dataclass(frozen=True, slots=True)
class _Users:
    exact: Mapping[str, LocalUser]
    #: lower-cased name -> the first user of that name in any case
    folded: Mapping[str, LocalUser]

    @classmethod
    def of(cls, users: Mapping[str, LocalUser]) -> _Users:
        folded: dict[str, LocalUser] = {}
        for name, user in users.items():
            folded.setdefault(name.casefold(), user)
        return cls(dict(users), folded)

    def find(self, name: str, exact: bool) -> LocalUser | None:
        return self.exact.get(name) if exact else self.folded.get(name.casefold())


class Authenticator:
    """The authentication method lists, the local users and the RADIUS groups."""

    def __init__(
        self,
        lists: Mapping[str, MethodList],
        users: Mapping[str, LocalUser],
        groups: Mapping[str, Sequence[ServerConfig]],
        timers: Timers,
        *,
        transport: RadiusTransport | None = None,
        nas_ip: str | None = None,
        nas_identifier: str | None = None,
    ) -> None:
        self.transport = transport or RadiusTransport()
        self.nas_ip = nas_ip
        self._configure(lists, users, groups, timers, nas_identifier)

    @classmethod
    def from_config(
        cls,
        model: Config,
        *,
        transport: RadiusTransport | None = None,
        nas_ip: str | None = None,
        timers: Timers | None = None,
    ) -> Authenticator:
        """From a parsed, validated configuration. `timers` overrides the ones of
        `radius-server timeout|retransmit|deadtime` (tests)."""
        made = cls({}, {}, {}, Timers(), transport=transport, nas_ip=nas_ip)
        made.apply_config(model, timers=timers)
        return made

    def apply_config(self, model: Config, *, timers: Timers | None = None) -> None:
        """A reload: new lists, users and servers; a server's dead time is kept."""
        radius = model.radius
        self._configure(
            model.authentication_lists,
            model.local_users,
            radius_groups(model),
            timers or Timers.from_settings(radius.retransmit, radius.timeout, radius.deadtime),
            model.hostname,
        )

    def _configure(
        self,
        lists: Mapping[str, MethodList],
        users: Mapping[str, LocalUser],
        groups: Mapping[str, Sequence[ServerConfig]],
        timers: Timers,
        nas_identifier: str | None,
    ) -> None:
        self.lists = dict(lists)
        self.users = _Users.of(users)
        self.timers = timers
        self.clients = {
            name: RadiusAuthClient(
                GROUP_PREFIX + name,
                servers,
                timers,
                self.transport,
                nas_ip=self.nas_ip,
                nas_identifier=nas_identifier,
            )
            for name, servers in groups.items()
        }
        self.transport.forget(s.name for servers in groups.values() for s in servers)

    def methods(self, list_name: str | None) -> tuple[str, ...] | None:
        """The methods `check` would try; None for a list that is not defined."""
        if list_name is None:
            default = self.lists.get(DEFAULT_LIST)
            return default.methods if default is not None else (METHOD_LOCAL,)
        found = self.lists.get(list_name)
        return found.methods if found is not None else None

    async def check(
        self,
        list_name: str | None,
        user: str,
        password: str,
        *,
        calling_station_id: str | None = None,
    ) -> AuthResult:
        """Authenticate `user` by the list's methods, with IOS's semantics (above)."""
        methods = self.methods(list_name)
        if methods is None:
            return AuthResult(False, "", f"authentication list {list_name} is not defined")
        errors: list[str] = []
        for method in methods:
            result = await self._one(method, user, password, calling_station_id)
            if not result.error:
                return result
            errors.append(f"{method}: {result.reason}")
        return AuthResult(
            False,
            methods[-1] if methods else "",
            "no method could authenticate the user: " + "; ".join(errors),
            error=True,
        )

    async def _one(
        self, method: str, user: str, password: str, calling_station_id: str | None
    ) -> AuthResult:
        if method == METHOD_NONE:
            return AuthResult(True, method, "method none accepts every user")
        if method in (METHOD_LOCAL, METHOD_LOCAL_CASE):
            return await self._local(method, user, password)
        if method.startswith(GROUP_PREFIX):
            group = method.removeprefix(GROUP_PREFIX)
            client = self.clients.get(group)
            if client is None:
                return AuthResult(False, method, f"server group {group} is not defined", error=True)
            return await client.authenticate(user, password, calling_station_id=calling_station_id)
        return AuthResult(False, method, f"method {method} is not supported", error=True)

    async def _local(self, method: str, user: str, password: str) -> AuthResult:
        found = self.users.find(user, exact=method == METHOD_LOCAL_CASE)
        if found is None:
            return AuthResult(False, method, "no such local user", error=True)
        if found.kind in SLOW_KINDS:
            ok = await asyncio.to_thread(verify_password, found, password)
        else:
            ok = verify_password(found, password)
        if ok:
            return AuthResult(True, method, f"local user {found.name}")
        return AuthResult(False, method, f"wrong password for local user {found.name}")

    async def close(self) -> None:
        await self.transport.close()
