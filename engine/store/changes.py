"""Change sets: the net difference between two store versions, and how they fold together.

A change set describes where a table ended up, not the steps it took: a key added and
removed within one set appears nowhere, a key changed then removed appears only in
``removed``, and a key removed then put back counts as ``changed``. The same rules fold
the sets a slow subscriber missed into one, so consumers never replay history.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, MutableMapping
from dataclasses import dataclass
from types import MappingProxyType

#: Marks "no record" where None could be mistaken for a value.
ABSENT: object = object()

_NOTHING: Mapping[Hashable, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TableChanges:
    """One table's net change; a key is in at most one of the three fields.

    The mappings are read-only because one instance is shared by every consumer of a flush.
    """

    added: Mapping[Hashable, object]
    changed: Mapping[Hashable, object]
    removed: frozenset[Hashable]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def apply_to(self, target: MutableMapping[Hashable, object]) -> None:
        """Bring a replica of the previous version (e.g. seeded from a snapshot) up to date."""
        target.update(self.added)
        target.update(self.changed)
        for key in self.removed:
            target.pop(key, None)


NO_CHANGES = TableChanges(_NOTHING, _NOTHING, frozenset())


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What one flush published (or, for a subscriber that lagged, several flushes merged).

    ``tables`` holds only the tables that changed; ``table(name)`` answers for any name so
    consumers need no membership test. ``version`` is the store version after the (last)
    flush; a filtered subscriber sees gaps in it.
    """

    version: int
    tables: Mapping[str, TableChanges]

    def table(self, name: str) -> TableChanges:
        return self.tables.get(name, NO_CHANGES)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def only(self, names: frozenset[str]) -> ChangeSet | None:
        """This set restricted to ``names``; None when none of them changed."""
        tables = self.tables
        if tables.keys() <= names:
            return self
        kept = {name: changes for name, changes in tables.items() if name in names}
        if not kept:
            return None
        return ChangeSet(self.version, MappingProxyType(kept))


def freeze(
    added: dict[Hashable, object], changed: dict[Hashable, object], removed: set[Hashable]
) -> TableChanges | None:
    """Wrap freshly built containers; the caller must not touch them afterwards."""
    if not (added or changed or removed):
        return None
    return TableChanges(
        MappingProxyType(added) if added else _NOTHING,
        MappingProxyType(changed) if changed else _NOTHING,
        frozenset(removed),
    )


class ChangeMerger:
    """Folds consecutive change sets into one.

    It owns its dicts, so folding a set costs the size of that set, not of everything
    accumulated so far: a subscriber lagging for an hour costs no more per flush than one
    that keeps up.
    """

    __slots__ = ("_tables", "_version")

    def __init__(self, first: ChangeSet | None = None) -> None:
        self._tables: dict[
            str, tuple[dict[Hashable, object], dict[Hashable, object], set[Hashable]]
        ] = {}
        self._version = 0
        if first is not None:
            self.add(first)

    def add(self, changes: ChangeSet) -> None:
        self._version = changes.version
        for name, table in changes.tables.items():
            held = self._tables.get(name)
            if held is None:
                self._tables[name] = (dict(table.added), dict(table.changed), set(table.removed))
                continue
            added, changed, removed = held
            for key, record in table.added.items():
                if key in removed:
                    removed.discard(key)
                    changed[key] = record
                elif key in changed:
                    changed[key] = record
                else:
                    added[key] = record
            for key, record in table.changed.items():
                if key in added:
                    added[key] = record
                else:
                    removed.discard(key)
                    changed[key] = record
            for key in table.removed:
                if added.pop(key, ABSENT) is ABSENT:
                    changed.pop(key, None)
                    removed.add(key)

    def result(self) -> ChangeSet | None:
        """The merged set, or None when the changes cancelled out; empties the merger."""
        tables = {}
        for name, (added, changed, removed) in self._tables.items():
            frozen = freeze(added, changed, removed)
            if frozen is not None:
                tables[name] = frozen
        self._tables = {}
        if not tables:
            return None
        return ChangeSet(self._version, MappingProxyType(tables))
