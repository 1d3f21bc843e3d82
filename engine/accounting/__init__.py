"""IPsec VPN accounting to RADIUS servers (RFC 2866), as IOS 12.2(15)T does it.

`Accountant` is the entry point: feed it the session model's transitions and the
running configuration; it spools, sends and reports every record.
"""

from engine.accounting.accountant import Accountant, AccountingRecord, DeliveryState, ListPlan
from engine.accounting.transport import ServerConfig, ServerState, Timers

__all__ = [
    "Accountant",
    "AccountingRecord",
    "DeliveryState",
    "ListPlan",
    "ServerConfig",
    "ServerState",
    "Timers",
]
