"""`ip local pool` at run time: addresses leased to remote-access clients by mode-config.

Each pool is its ranges, in configuration order; an allocation takes the lowest free
address (of the first range that has one), or the one the client asks for when it is
free. The bookkeeping is O(log n) per allocation and release whatever the pool's size
(a /8 pool is never laid out address by address): per range a high-water mark (every
address below it has been handed out at least once; it steps over addresses leased
above it on request) and a heap of released addresses below it. A reload keeps the
leases whose address is still in a pool of the new configuration, in that pool; the
others are returned to the caller (their clients keep them until their sessions end,
but the addresses are no longer the pools' to give).
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.config.model import LocalPool

IPv4Address = ipaddress.IPv4Address

#: how many free addresses `show ip local pool NAME` lists before it says how many more
SHOWN_AVAILABLE = 100


@dataclass(frozen=True, slots=True)
class Lease:
    address: IPv4Address
    pool: str
    #: who holds it: a user and peer, as the caller names them (`joe@203.0.113.7`)
    owner: str


@dataclass(slots=True)
class _Range:
    first: int
    last: int
    #: every address below it has been handed out at least once
    high_water: int
    #: released addresses below the high-water mark (may hold stale entries: `leased`
    #: is the truth)
    released: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, value: int) -> bool:
        return self.first <= value <= self.last


@dataclass(slots=True)
class _Pool:
    name: str
    ranges: list[_Range]
    #: address -> owner
    leased: dict[int, str] = field(default_factory=dict)
    #: owner -> address
    owners: dict[str, int] = field(default_factory=dict)
    #: allocations refused because no address was free
    exhausted: int = 0

    @property
    def size(self) -> int:
        return sum(r.size for r in self.ranges)

    def range_of(self, value: int) -> _Range | None:
        return next((r for r in self.ranges if value in r), None)

    def take(self, value: int, owner: str) -> None:
        self.leased[value] = owner
        self.owners[owner] = value

    def lowest_free(self) -> int | None:
        for item in self.ranges:
            heap = item.released
            while heap and heap[0] in self.leased:  # stale: taken again by `wanted`
                heapq.heappop(heap)
            while item.high_water <= item.last and item.high_water in self.leased:
                item.high_water += 1
            candidates = []
            if heap:
                candidates.append(heap[0])
            if item.high_water <= item.last:
                candidates.append(item.high_water)
            if candidates:
                return min(candidates)
        return None

    def claim_lowest(self, owner: str) -> int | None:
        value = self.lowest_free()
        if value is None:
            return None
        item = self.range_of(value)
        assert item is not None
        if item.released and item.released[0] == value:
            heapq.heappop(item.released)
        else:
            item.high_water = value + 1
        self.take(value, owner)
        return value


def _build(pool: LocalPool) -> _Pool:
    return _Pool(
        pool.name,
        [_Range(int(r.first), int(r.last), int(r.first)) for r in pool.ranges],
    )


class AddressPools:
    """The configured pools and their leases; what mode-config hands out."""

    def __init__(self, pools: Mapping[str, LocalPool] | None = None) -> None:
        self._pools: dict[str, _Pool] = {}
        #: address -> pool name, across pools (IOS keeps pools from overlapping)
        self._where: dict[int, str] = {}
        if pools:
            self.reload(pools)

    # ------------------------------------------------------------------ configuration
    def reload(self, pools: Mapping[str, LocalPool]) -> list[Lease]:
        """Take the pools of a new configuration. Leases whose address is in a range of
        the new pools stay (in the pool that now holds it); the others are returned."""
        old = self._pools
        self._pools = {name: _build(pool) for name, pool in pools.items()}
        self._where = {}
        dropped: list[Lease] = []
        for pool in old.values():
            for value, owner in pool.leased.items():
                target = self._pool_holding(value)
                if target is None or owner in target.owners:
                    dropped.append(Lease(IPv4Address(value), pool.name, owner))
                    continue
                target.take(value, owner)
                self._where[value] = target.name
        for name, pool in self._pools.items():
            previous = old.get(name)
            if previous is not None:
                pool.exhausted = previous.exhausted
        return dropped

    def _pool_holding(self, value: int) -> _Pool | None:
        return next((p for p in self._pools.values() if p.range_of(value) is not None), None)

    # ------------------------------------------------------------------ leases
    def __contains__(self, pool: object) -> bool:
        return pool in self._pools

    def names(self) -> list[str]:
        return list(self._pools)

    def allocate(
        self, pool: str, owner: str, wanted: IPv4Address | None = None
    ) -> IPv4Address | None:
        """An address of `pool` for `owner`: the one it already holds there, else
        `wanted` if that is a free address of the pool, else the lowest free one. None
        when the pool has none free (counted) or there is no such pool."""
        found = self._pools.get(pool)
        if found is None:
            return None
        held = found.owners.get(owner)
        if held is not None:
            return IPv4Address(held)
        if wanted is not None:
            value = int(wanted)
            if found.range_of(value) is not None and value not in found.leased:
                # above the high-water mark it stays there: the mark steps over leased
                # addresses when it reaches them; below it, its heap entry goes stale
                found.take(value, owner)
                self._where[value] = found.name
                return wanted
        return self._allocate_lowest(found, owner)

    def _allocate_lowest(self, pool: _Pool, owner: str) -> IPv4Address | None:
        value = pool.claim_lowest(owner)
        if value is None:
            pool.exhausted += 1
            return None
        self._where[value] = pool.name
        return IPv4Address(value)

    def release(self, address: IPv4Address) -> bool:
        """Give an address back; False when it was not leased."""
        value = int(address)
        name = self._where.pop(value, None)
        if name is None:
            return False
        pool = self._pools[name]
        owner = pool.leased.pop(value)
        if pool.owners.get(owner) == value:
            del pool.owners[owner]
        item = pool.range_of(value)
        if item is not None and value < item.high_water:
            heapq.heappush(item.released, value)
        return True

    def release_owner(self, owner: str) -> list[IPv4Address]:
        """Every address `owner` holds, released (its session went down)."""
        held = [IPv4Address(p.owners[owner]) for p in self._pools.values() if owner in p.owners]
        for address in held:
            self.release(address)
        return held

    def lease(self, address: IPv4Address) -> Lease | None:
        name = self._where.get(int(address))
        if name is None:
            return None
        return Lease(address, name, self._pools[name].leased[int(address)])

    def leases(self, pool: str) -> list[Lease]:
        found = self._pools.get(pool)
        if found is None:
            return []
        return [
            Lease(IPv4Address(value), pool, owner) for value, owner in sorted(found.leased.items())
        ]

    # ------------------------------------------------------------------ counts
    def in_use(self, pool: str) -> int:
        found = self._pools.get(pool)
        return len(found.leased) if found else 0

    def free(self, pool: str) -> int:
        found = self._pools.get(pool)
        return found.size - len(found.leased) if found else 0

    def exhausted(self, pool: str) -> int:
        """How many allocations found no free address."""
        found = self._pools.get(pool)
        return found.exhausted if found else 0

    def range_usage(self, pool: str) -> list[tuple[IPv4Address, IPv4Address, int, int]]:
        """Per range: first, last, free, in use."""
        found = self._pools.get(pool)
        if found is None:
            return []
        rows = []
        for item in found.ranges:
            used = sum(1 for value in found.leased if value in item)
            rows.append((IPv4Address(item.first), IPv4Address(item.last), item.size - used, used))
        return rows

    def available(self, pool: str, limit: int) -> tuple[list[IPv4Address], int]:
        """Up to `limit` free addresses of `pool`, lowest first, and how many free ones
        there are in all."""
        found = self._pools.get(pool)
        if found is None:
            return [], 0
        shown: list[IPv4Address] = []
        for item in found.ranges:
            value = item.first
            while value <= item.last and len(shown) < limit:
                if value not in found.leased:
                    shown.append(IPv4Address(value))
                value += 1
        return shown, self.free(pool)


# ---------------------------------------------------------------------- show ip local pool
HEADER = f" {'Pool':<24} {'Begin':<15} {'End':<15} {'Free':>5} {'In use':>7}"


def _table(pools: AddressPools, names: Iterable[str]) -> list[str]:
    lines = [HEADER]
    for name in names:
        for index, (first, last, free, used) in enumerate(pools.range_usage(name)):
            shown = name if index == 0 else ""
            lines.append(f" {shown:<24} {first!s:<15} {last!s:<15} {free:>5} {used:>7}")
    return lines


def render_show_ip_local_pool(pools: AddressPools, name: str | None = None) -> str:
    """`show ip local pool [NAME]` in IOS's layout: a row per range (Pool, Begin, End,
    Free, In use); with a NAME, its free and leased addresses after the table."""
    if name is None:
        if not pools.names():
            return "No pools configured\n"
        return "\n".join(_table(pools, pools.names())) + "\n"
    if name not in pools:
        return f"%Pool {name} not found\n"
    lines = _table(pools, [name])
    available, total = pools.available(name, SHOWN_AVAILABLE)
    lines += ["", "Available addresses:"]
    lines += [f"    {address}" for address in available] or ["    None"]
    if total > len(available):
        lines.append(f"    ... {total - len(available)} more")
    lines.append("Inuse addresses:")
    leases = pools.leases(name)
    lines += [f"    {lease.address!s:<15} {lease.owner}" for lease in leases] or ["    None"]
    return "\n".join(lines) + "\n"
