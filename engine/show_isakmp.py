"""`show crypto isakmp sa [detail]`: the ISAKMP (IKEv1 phase 1) SAs as IOS lists them,
read live from the IKEv1 engine, with the state each is in (MM_KEY_EXCH, CONF_XAUTH,
QM_IDLE ...), which a session record does not keep."""

from __future__ import annotations

from dataclasses import dataclass

from engine.show import hms


@dataclass(frozen=True, slots=True)
class IsakmpSaRow:
    conn_id: int
    #: IOS's dst and src: the responder's and the initiator's address
    dst: str
    src: str
    local: str
    remote: str
    state: str
    status: str
    encryption: str
    hash: str
    dh_group: int | None
    #: seconds left, None while phase 1 is not done
    lifetime_left: float | None
    capabilities: str
    ivrf: str = ""
    username: str = ""


def rows_of(engine: object, now: float) -> list[IsakmpSaRow]:
    """What `IkeV1Engine.ike_sas()` holds, as rows."""
    rows = []
    for sa in engine.ike_sas():  # type: ignore[attr-defined]
        choice = sa.choice
        caps = ""
        if sa.remote_access is not None or sa.client is not None:
            caps += "C"
        if sa.dpd is not None:
            caps += "D"
        if sa.nat_local or sa.nat_remote:
            caps += "N"
        if sa.remote_access is not None and sa.remote_access.xauth:
            caps += "X"
        local, remote = sa.local[0], sa.remote[0]
        dst, src = (remote, local) if sa.initiator else (local, remote)
        encryption = ""
        if choice is not None:
            encryption = choice.encryption.name.replace("aes-cbc-", "aes").replace("aes128", "aes")
        rows.append(
            IsakmpSaRow(
                conn_id=sa.ike_sa_id,
                dst=dst,
                src=src,
                local=local,
                remote=remote,
                state=sa.state.value,
                status="ACTIVE" if sa.is_up else "",
                encryption=encryption,
                hash=sa.algorithms().prf if choice is not None else "",
                dh_group=choice.group if choice is not None else None,
                lifetime_left=sa.expire_at - now if sa.is_up else None,
                capabilities=caps,
                ivrf=sa.peer.ivrf if sa.peer else "",
                username=sa.grant.username if sa.grant else "",
            )
        )
    return sorted(rows, key=lambda r: r.conn_id)


def show_crypto_isakmp_sa(rows: list[IsakmpSaRow], *, detail: bool) -> str:
    if not detail:
        out = [
            "IPv4 Crypto ISAKMP SA",
            "dst             src             state          conn-id status",
        ]
        for r in rows:
            out.append(f"{r.dst:<15} {r.src:<15} {r.state:<14} {r.conn_id:>7} {r.status}")
        return "\n".join(out) + "\n"
    out = [
        "Codes: C - IKE configuration mode, D - Dead Peer Detection",
        "       K - Keepalives, N - NAT-traversal",
        "       X - IKE Extended Authentication",
        "       psk - Preshared key, rsig - RSA signature",
        "IPv4 Crypto ISAKMP SA",
        "",
        "C-id  Local           Remote          I-VRF  Status Encr Hash   Auth DH Lifetime Cap.",
        "",
    ]
    for r in rows:
        life = hms(r.lifetime_left) if r.lifetime_left is not None else ""
        dh = str(r.dh_group) if r.dh_group is not None else ""
        out.append(
            f"{r.conn_id:<5} {r.local:<15} {r.remote:<15} {r.ivrf or '':<6} {r.status:<6} "
            f"{r.encryption:<4} {r.hash:<6} psk  {dh:<2} {life:<8} {r.capabilities}"
        )
        out.append(f"       Engine-id:Conn-id =  SW:{r.conn_id}")
        if r.username:
            out.append(f"       XAUTH user: {r.username}")
        out.append("")
    return "\n".join(out) + "\n"
