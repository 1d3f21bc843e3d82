"""swanctl.conf for the charon side of the comparisons: one place, so that every pairing
negotiates the same suite."""

from __future__ import annotations

#: the pre-shared key both sides of every comparison use
PSK = "bench-psk-vs-strongswan"


def psk_connection(
    name: str,
    local: str,
    remote_addrs: str,
    remote_id: str,
    local_ts: str,
    remote_ts: str,
    unique: str | None = None,
) -> str:
    """A swanctl.conf of one PSK connection with one child, in the suite both sides of
    every comparison use (AES-GCM-256, X25519)."""
    unique_line = f"    unique = {unique}\n" if unique else ""
    return f"""\
connections {{
  {name} {{
    version = 2
    local_addrs = {local}
    remote_addrs = {remote_addrs}
    proposals = aes256gcm16-prfsha256-x25519
{unique_line}    local {{
      auth = psk
      id = {local}
    }}
    remote {{
      auth = psk
      id = {remote_id}
    }}
    children {{
      net {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = aes256gcm16
      }}
    }}
  }}
}}
secrets {{
  ike-{name} {{
    secret = "{PSK}"
  }}
}}
"""
