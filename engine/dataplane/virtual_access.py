"""Dynamic VTI: a virtual-access interface per spoke, cloned from its virtual template.

A child SA of a template's peer (`virtual-template N` in the IKEv2 profile) gets the
virtual access of its spoke (one per peer and address, kept across rekeys), made on the
first child and taken away with the last. Its routes are the networks the spoke's
selectors name (a spoke that narrows to its LAN is reached there; an any-to-any spoke
routes nothing by itself, as on IOS without a routing protocol). Numbers are the lowest
free ones, as IOS gives them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace

from engine.config.compile import TunnelInterface, TunnelRoute
from engine.events import ChildSaDeleted, ChildSaInstalled, InterfaceAssigned

#: makes (and starts) the sink of a virtual access; returns an object with `stop()`, or
#: None when none could be made (the spoke's traffic is then counted as "no sink")
SinkFactory = Callable[[TunnelInterface], object | None]


class VirtualAccesses:
    """Subscribed (in the composition root) before the data plane."""

    EVENTS = (ChildSaInstalled, ChildSaDeleted)

    def __init__(
        self,
        templates: Callable[[], dict[str, TunnelInterface]],
        make_sink: SinkFactory,
        publish: Callable[[object], None],
    ) -> None:
        self._templates = templates
        self._make_sink = make_sink
        self._publish = publish
        #: (peer name, remote address) -> (virtual access name, its sink)
        self._by_spoke: dict[tuple[str, str], tuple[str, object | None]] = {}
        #: child SA id -> its spoke
        self._children: dict[int, tuple[str, str]] = {}
        self._numbers: set[int] = set()

    @property
    def interfaces(self) -> dict[str, tuple[str, str]]:
        """Virtual access name -> (peer name, remote address): `show interfaces` style."""
        return {name: spoke for spoke, (name, _) in self._by_spoke.items()}

    def on_event(self, event: object) -> None:
        if isinstance(event, ChildSaInstalled):
            template = self._templates().get(event.interface)
            if template is None:
                return
            spoke = (event.peer_name, event.remote[0])
            found = self._by_spoke.get(spoke)
            if found is None:
                found = self._by_spoke[spoke] = self._create(template, event)
            self._children[event.child_sa_id] = spoke
            self._publish(
                InterfaceAssigned(
                    event.ike_sa_id,
                    event.child_sa_id,
                    event.peer_name,
                    event.remote[0],
                    found[0],
                    event.at,
                )
            )
        elif isinstance(event, ChildSaDeleted):
            spoke = self._children.pop(event.child_sa_id, None)
            if spoke is not None and spoke not in self._children.values():
                name, sink = self._by_spoke.pop(spoke)
                self._numbers.discard(int(name.removeprefix("Virtual-Access")))
                stop = getattr(sink, "stop", None)
                if stop is not None:
                    stop()

    def _create(self, template: TunnelInterface, event: ChildSaInstalled) -> tuple[str, object]:
        number = next(n for n in range(1, len(self._numbers) + 2) if n not in self._numbers)
        self._numbers.add(number)
        name = f"Virtual-Access{number}"
        routes = []
        for text in event.traffic_selectors.remote:
            net = ipaddress.ip_network(text.split()[0], strict=False)
            if net.prefixlen > 0:
                routes.append(TunnelRoute(net))
        access = replace(template, name=name, routes=tuple(routes))
        return name, self._make_sink(access)

    def stop(self) -> None:
        for _, sink in self._by_spoke.values():
            stop = getattr(sink, "stop", None)
            if stop is not None:
                stop()
        self._by_spoke.clear()
        self._children.clear()
        self._numbers.clear()
