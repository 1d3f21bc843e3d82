"""ESP security associations, one object per direction (RFC 4303, tunnel and transport mode).

Wire format: SPI (4) | sequence (4) | IV | ciphertext | ICV, where the ciphertext covers
inner packet | padding 1, 2, 3, ... | pad length | next header (4 IPv4, 41 IPv6).

Transport mode (section 3.1.1) protects the upper-layer payload of a packet between the
two peers themselves: the ciphertext covers that payload, next header is the packet's
IP protocol (47 GRE, 6 TCP ...), and the IP header stays outside. The ESP packet leaves
through the gateway's own sockets (ESP in UDP or a raw socket), so the kernel builds the
outer IP header; the receiver rebuilds the original header from the SA's selectors,
which in transport mode are exactly the two peers' addresses (checked at negotiation
and at install): source and destination, protocol = next header, the total length and
checksum. TTL, DSCP and the IPv4 identification are not carried (nor by a kernel
transport-mode SA's header in the ESP packet: that header is the one on the wire here).
IPv4 fragments and packets with IPv4 options are refused (NOT_FOR_TRANSPORT): the
rebuilt header would lose them. Without NAT, the rebuilt addresses are the sender's, so
the TCP/UDP checksums inside stay valid (RFC 3948 3.1.2's fix-up is for NAT, where
this gateway does not use transport mode).

- AES-GCM-16 and ChaCha20-Poly1305 (RFC 4106, RFC 7634): nonce = salt (last 4 bytes of
  the key material) | 8-byte IV; the IV is the 64-bit sequence number, unique per key as
  RFC 4106 section 3.1 allows; AAD = SPI | sequence, or SPI | high 32 | low 32 with
  extended sequence numbers (RFC 4106 section 5); padding to 4 bytes.
- AES-CBC or 3DES-CBC + HMAC-SHA2, HMAC-SHA1-96 or HMAC-MD5-96 (RFC 3602, RFC 2451,
  RFC 4868, RFC 2404, RFC 2403): padding to the cipher's block (16 bytes for AES, 8 for
  3DES), whose size the IV has too; the ICV covers header | IV | ciphertext, plus the
  high 32 sequence bits when ESN is on (RFC 4303 section 2.2.1: authenticated, never
  sent).
- NULL + an HMAC (RFC 2410): no IV, the payload in clear, padding to 4 bytes; only the
  ICV protects it.

Cipher objects are built once per SA: a new AESGCM costs 2.5x the encryption itself, and
a new CBC context (~3 us) more than encrypting 1400 bytes. CBC therefore keeps one
encryptor and one decryptor for the SA's life:
- sending, it encrypts a fresh random block R ahead of the packet; the first output
  block E(R xor previous block) is the IV the packet carries, as unpredictable as R
  (RFC 3602 section 2) and chaining on into the packet exactly as CBC with that IV;
- receiving, it decrypts IV | ciphertext and drops the first output block: CBC
  decryption of a block needs only the block before it, so the context's leftover
  state never reaches the payload.
Both stay block-aligned by construction (alignment is checked before decrypting). The
same holds for any block size: 3DES does it with 8-byte blocks.

Refusals are returned as a `DropReason`, already counted (see engine.esp.drops).
"""

from __future__ import annotations

import hmac as stdlib_hmac
import math
import os
import struct
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, modes

from engine.crypto.dh import RandomBytes
from engine.crypto.encryption import AeadCipher, Encryption
from engine.crypto.integrity import Integrity
from engine.esp.drops import DropReason
from engine.esp.replay import ReplayWindow
from engine.esp.selectors import IPV4, IPV4_HEADER, IPV6, IPV6_HEADER, NetworkSet

NEXT_HEADER_IPV4 = 4
NEXT_HEADER_IPV6 = 41
#: "no next header": a dummy packet for traffic flow confidentiality (RFC 4303 section 2.6)
NEXT_HEADER_NONE = 59
ESP_HEADER_SIZE = 8
#: the last sequence number an SA may send without / with extended sequence numbers
MAX_SEQ_32 = 2**32 - 1
MAX_SEQ_64 = 2**64 - 1
_LOW32 = 0xFFFFFFFF
#: ESP's own alignment: the trailer ends on a 4-byte boundary (RFC 4303 section 2.4)
_ESP_ALIGN = 4

# padding bytes for each pad length: 1, 2, 3, ... (RFC 4303 section 2.4)
_PADS: tuple[bytes, ...] = tuple(bytes(range(1, n + 1)) for n in range(256))
_HEADER = struct.Struct(">II")
_HEADER_IV = struct.Struct(">IIQ")
_NONCE = struct.Struct(">IQ")
_AAD_ESN = struct.Struct(">III")
_U32 = struct.Struct(">I")
_V4_ADDRS = struct.Struct(">II")
_V4_HEADER = struct.Struct(">BBHHHBBH4s4s")
_V6_HEADER = struct.Struct(">IHBB16s16s")
#: TTL / hop limit of a rebuilt transport-mode IP header
REBUILT_TTL = 64
_IPV4_MF_OFFSET = 0x3FFF


def ipv4_checksum(header: bytes) -> int:
    """The ones' complement header checksum (RFC 791), over a header whose checksum
    field is zero: the integer's remainder mod 0xFFFF is the folded ones' complement sum."""
    total = int.from_bytes(header, "big") % 0xFFFF
    return 0xFFFF - total if total else 0  # a sum of 0xFFFF (never 0: the version is in it)


def rebuild_ip_header(
    version: int, source: bytes, destination: bytes, protocol: int, payload_size: int
) -> bytes:
    """The IP header of a transport-mode packet received for `source` -> `destination`."""
    if version == IPV4:
        header = _V4_HEADER.pack(
            0x45, 0, IPV4_HEADER + payload_size, 0, 0, REBUILT_TTL, protocol, 0, source, destination
        )
        return header[:10] + ipv4_checksum(header).to_bytes(2, "big") + header[12:]
    return _V6_HEADER.pack(6 << 28, payload_size, protocol, REBUILT_TTL, source, destination)


class EspConfigError(ValueError):
    """An SA cannot be built from these parameters (a caller's bug, not wire input)."""


@dataclass(frozen=True, slots=True)
class Lifetime:
    """Hard limits of one SA (None or <= 0: no limit of that kind; a kilobyte is 1024 inner
    packet bytes); the soft limit, at which the SA asks to be rekeyed, is `soft_fraction`
    of each (RFC 4301 section 4.4.2.1)."""

    seconds: float | None = None
    kilobytes: int | None = None
    soft_fraction: float = 0.9

    def __post_init__(self) -> None:
        if not 0 < self.soft_fraction <= 1:
            raise EspConfigError("soft_fraction must be in (0, 1]")


def _limit(value: float | None) -> float:
    return math.inf if value is None or value <= 0 else float(value)


_NO_LIMIT = Lifetime()


class _EspSa:
    """What both directions share: keys, lifetime and counters."""

    __slots__ = (
        "_aead",
        "_block",
        "_cbc",
        "_hard_at",
        "_hard_octets",
        "_icv_size",
        "_mac",
        "_salt",
        "_salt_int",
        "_soft_at",
        "_soft_octets",
        "created_at",
        "drops",
        "encryption",
        "esn",
        "integrity",
        "last_used",
        "lifetime",
        "octets",
        "packets",
        "spi",
    )

    #: the AEAD (GCM, ChaCha20-Poly1305), or None for CBC or NULL with an HMAC
    _aead: AeadCipher | None
    #: CBC only: the long-lived cipher context (None for NULL); with an HMAC, the keyed
    #: HMAC copied per packet
    _cbc: CipherContext | None
    _mac: hmac.HMAC

    def __init__(
        self,
        spi: int,
        encryption: Encryption,
        integrity: Integrity | None,
        encr_key: bytes,
        integ_key: bytes,
        esn: bool,
        lifetime: Lifetime,
        now: float,
    ) -> None:
        if not 0 <= spi <= _LOW32:
            raise EspConfigError(f"SPI {spi} does not fit in 32 bits")
        if (integrity is None) != encryption.is_aead:
            needs = "no" if encryption.is_aead else "an"
            raise EspConfigError(f"{encryption.name} needs {needs} integrity algorithm")
        if len(encr_key) != encryption.key_material_size:
            raise EspConfigError(
                f"{encryption.name} needs {encryption.key_material_size} bytes of key "
                f"material, got {len(encr_key)}"
            )
        self.spi = spi
        self.encryption = encryption
        self.integrity = integrity
        self.esn = esn
        self.lifetime = lifetime
        self.created_at = now
        #: inner packet bytes and packets processed (vici's bytes and packets)
        self.octets = 0
        self.packets = 0
        self.drops: Counter[DropReason] = Counter()
        self.last_used: float | None = None
        hard_s = _limit(lifetime.seconds)
        hard_bytes = _limit(lifetime.kilobytes) * 1024
        self._hard_at = now + hard_s
        self._soft_at = now + hard_s * lifetime.soft_fraction
        self._hard_octets = hard_bytes
        self._soft_octets = hard_bytes * lifetime.soft_fraction
        if integrity is None:
            if integ_key:
                raise EspConfigError("an AEAD takes no integrity key")
            self._aead = encryption.aead(encr_key)
            self._salt = encryption.salt(encr_key)
            self._salt_int = int.from_bytes(self._salt, "big")
            self._icv_size = encryption.icv_size
            self._block = _ESP_ALIGN
            self._cbc = None
        else:
            if len(integ_key) != integrity.key_size:
                raise EspConfigError(f"{integrity.name} needs a {integrity.key_size}-byte key")
            self._aead = None
            self._mac = hmac.HMAC(integ_key, integrity.algorithm)
            self._salt = b""
            self._salt_int = 0
            self._icv_size = integrity.icv_size
            # CBC pads to its block; NULL (block_size 4) to ESP's 4 bytes
            self._block = encryption.block_size
            self._cbc = None

    @property
    def drops_total(self) -> int:
        return sum(self.drops.values())

    @property
    def icv_size(self) -> int:
        return self._icv_size

    def expired(self, now: float) -> bool:
        """Past the hard limit of time or bytes: the SA refuses every packet from now on."""
        return now >= self._hard_at or self.octets >= self._hard_octets

    def needs_rekey(self, now: float, *, by_time: bool = True) -> bool:
        """Past the soft limit of time or bytes: time to negotiate a replacement.
        `by_time=False`: bytes (and sequence numbers) only, the limits only ESP sees."""
        return (by_time and now >= self._soft_at) or self.octets >= self._soft_octets

    def _drop(self, reason: DropReason) -> DropReason:
        self.drops[reason] += 1
        return reason

    def __repr__(self) -> str:
        integ = self.integrity.name if self.integrity else "aead"
        return (
            f"{type(self).__name__}(spi=0x{self.spi:08x}, {self.encryption.name}, {integ}, "
            f"esn={self.esn})"
        )


class OutboundSa(_EspSa):
    """Encrypts inner packets; sequence numbers start at 1 and never wrap.

    `random_bytes(n)` (CBC only, n = the cipher's block size) must return exactly n
    bytes: the long-lived CBC context relies on every packet being whole blocks."""

    __slots__ = ("_max_seq", "_random_bytes", "_soft_seq", "_tails", "_transport_tails", "seq")

    def __init__(
        self,
        spi: int,
        encryption: Encryption,
        integrity: Integrity | None,
        encr_key: bytes,
        integ_key: bytes = b"",
        *,
        esn: bool = False,
        lifetime: Lifetime = _NO_LIMIT,
        now: float = 0.0,
        random_bytes: RandomBytes = os.urandom,
    ) -> None:
        super().__init__(spi, encryption, integrity, encr_key, integ_key, esn, lifetime, now)
        #: the sequence number of the last packet sent (0: none yet)
        self.seq = 0
        self._max_seq = MAX_SEQ_64 if esn else MAX_SEQ_32
        self._soft_seq = int(self._max_seq * lifetime.soft_fraction)
        self._random_bytes = random_bytes
        if integrity is not None and not encryption.is_null:
            key = encryption.block_cipher(encr_key)
            self._cbc = Cipher(key, modes.CBC(bytes(self._block))).encryptor()
        # the trailer for each pad length, per IP version: padding | pad length | next header
        self._tails = {
            version: tuple(_PADS[pad] + bytes((pad, nh)) for pad in range(self._block))
            for version, nh in ((IPV4, NEXT_HEADER_IPV4), (IPV6, NEXT_HEADER_IPV6))
        }
        #: the same per IP protocol, for transport mode (made on first use)
        self._transport_tails: dict[int, tuple[bytes, ...]] = {}

    @property
    def exhausted(self) -> bool:
        """No sequence number left: only a rekey lets this traffic flow again."""
        return self.seq >= self._max_seq

    def needs_rekey(self, now: float, *, by_time: bool = True) -> bool:
        return super().needs_rekey(now, by_time=by_time) or self.seq >= self._soft_seq

    def encapsulate(self, inner: bytes, now: float) -> bytes | DropReason:
        """The ESP packet carrying the IPv4/IPv6 packet `inner`, or why it was refused."""
        if now >= self._hard_at or self.octets >= self._hard_octets:
            return self._drop(DropReason.LIFETIME_EXPIRED)
        if self.seq + 1 > self._max_seq:
            return self._drop(DropReason.SEQUENCE_EXHAUSTED)
        tails = self._tails.get(inner[0] >> 4) if inner else None
        if tails is None:
            return self._drop(DropReason.MALFORMED)
        return self._seal(inner, tails, len(inner), now)

    def encapsulate_transport(self, packet: bytes, now: float) -> bytes | DropReason:
        """Transport mode: the ESP packet carrying the upper-layer payload of the IP
        packet `packet` (its header stays outside), or why it was refused."""
        if now >= self._hard_at or self.octets >= self._hard_octets:
            return self._drop(DropReason.LIFETIME_EXPIRED)
        if self.seq + 1 > self._max_seq:
            return self._drop(DropReason.SEQUENCE_EXHAUSTED)
        size = len(packet)
        version = packet[0] >> 4 if packet else 0
        if version == IPV4 and size >= IPV4_HEADER:
            header = (packet[0] & 0x0F) * 4
            if header < IPV4_HEADER or int.from_bytes(packet[2:4], "big") != size:
                return self._drop(DropReason.MALFORMED)
            if header != IPV4_HEADER or int.from_bytes(packet[6:8], "big") & _IPV4_MF_OFFSET:
                return self._drop(DropReason.NOT_FOR_TRANSPORT)
            protocol = packet[9]
        elif version == IPV6 and size >= IPV6_HEADER:
            if int.from_bytes(packet[4:6], "big") != size - IPV6_HEADER:
                return self._drop(DropReason.MALFORMED)
            header, protocol = IPV6_HEADER, packet[6]
        else:
            return self._drop(DropReason.MALFORMED)
        tails = self._transport_tails.get(protocol)
        if tails is None:
            tails = self._transport_tails[protocol] = tuple(
                _PADS[pad] + bytes((pad, protocol)) for pad in range(self._block)
            )
        return self._seal(packet[header:], tails, size, now)

    def _seal(
        self, inner: bytes, tails: tuple[bytes, ...], counted: int, now: float
    ) -> bytes | DropReason:
        """Encrypt `inner` with the trailer for its next header; `counted` bytes go to
        the SA's octets (the whole IP packet, in either mode)."""
        seq = self.seq = self.seq + 1
        size = len(inner)
        low = seq & _LOW32
        aead = self._aead
        if aead is not None:
            head = _HEADER_IV.pack(self.spi, low, seq)
            aad = _AAD_ESN.pack(self.spi, seq >> 32, low) if self.esn else head[:8]
            nonce = _NONCE.pack(self._salt_int, seq)
            packet = head + aead.encrypt(nonce, inner + tails[(-size - 2) & 3], aad)
        else:
            block = self._block
            cbc = self._cbc
            if cbc is None:  # NULL: the payload as it is
                body = _HEADER.pack(self.spi, low) + inner + tails[(-size - 2) & (block - 1)]
            else:
                body = _HEADER.pack(self.spi, low) + cbc.update(
                    self._random_bytes(block) + inner + tails[(-size - 2) & (block - 1)]
                )
            mac = self._mac.copy()
            mac.update(body)
            if self.esn:
                mac.update(_U32.pack(seq >> 32))
            packet = body + mac.finalize()[: self._icv_size]
        self.packets += 1
        self.octets += counted
        self.last_used = now
        return packet


class InboundSa(_EspSa):
    """Checks and decrypts ESP packets; the replay window moves only for verified ones."""

    __slots__ = (
        "_align",
        "_align_base",
        "_local_v4",
        "_local_v6",
        "_min_size",
        "_remote_v4",
        "_remote_v6",
        "_start",
        "replay",
        "selectors",
    )

    def __init__(
        self,
        spi: int,
        encryption: Encryption,
        integrity: Integrity | None,
        encr_key: bytes,
        integ_key: bytes = b"",
        *,
        esn: bool = False,
        replay_window: int = 64,
        lifetime: Lifetime = _NO_LIMIT,
        now: float = 0.0,
        selectors: tuple[NetworkSet, NetworkSet] | None = None,
    ) -> None:
        """`selectors`: the child SA's (local, remote) traffic selectors; a decapsulated
        packet must go from remote to local (RFC 4301 section 5.2). None: not checked."""
        super().__init__(spi, encryption, integrity, encr_key, integ_key, esn, lifetime, now)
        self.replay = ReplayWindow(replay_window, esn)
        self.selectors = selectors
        if selectors is None:
            anywhere = ((0, 0),)
            self._local_v4 = self._local_v6 = self._remote_v4 = self._remote_v6 = anywhere
        else:
            local, remote = selectors
            self._local_v4, self._local_v6 = local.v4, local.v6
            self._remote_v4, self._remote_v6 = remote.v4, remote.v6
        if integrity is None or encryption.is_null:
            # header, IV (none for NULL), at least pad length and next header, tag; no
            # alignment enforced
            self._min_size = ESP_HEADER_SIZE + encryption.iv_size + 2 + self._icv_size
            self._align = 1
            self._align_base = 0
            self._start = 0
        else:
            block = self._block
            key = encryption.block_cipher(encr_key)
            self._cbc = Cipher(key, modes.CBC(bytes(block))).decryptor()
            self._min_size = ESP_HEADER_SIZE + 2 * block + self._icv_size
            # IV | ciphertext, between header and ICV, must be whole blocks: the
            # long-lived decryptor would otherwise keep a partial block for the next packet
            self._align = block
            self._align_base = ESP_HEADER_SIZE + self._icv_size
            # the first block out is the IV decrypted against stale state: discarded
            self._start = block

    def _open(self, packet: bytes, now: float) -> bytes | DropReason:
        """RFC 4303 section 3.4: lifetime, replay check, ICV, decryption, window update,
        padding. Returns the decrypted bytes: payload | padding | pad length | next
        header, after `_start` bytes to skip."""
        if now >= self._hard_at or self.octets >= self._hard_octets:
            return self._drop(DropReason.LIFETIME_EXPIRED)
        size = len(packet)
        if size < self._min_size or (size - self._align_base) % self._align:
            return self._drop(DropReason.MALFORMED)
        replay = self.replay
        seq = _U32.unpack_from(packet, 4)[0]
        if self.esn or seq <= replay.highest:  # in order without ESN: nothing to look up
            seq = replay.check(seq)
            if seq < 0:
                return self._drop(DropReason.REPLAY)
        aead = self._aead
        if aead is not None:
            aad = packet[:4] + _U32.pack(seq >> 32) + packet[4:8] if self.esn else packet[:8]
            try:
                # the ciphertext as a view: no copy of the packet before decrypting it
                plain = aead.decrypt(self._salt + packet[8:16], memoryview(packet)[16:], aad)
            except InvalidTag:
                return self._drop(DropReason.INTEGRITY)
        else:
            end = size - self._icv_size
            mac = self._mac.copy()
            mac.update(packet[:end])
            if self.esn:
                mac.update(_U32.pack(seq >> 32))
            if not stdlib_hmac.compare_digest(mac.finalize()[: self._icv_size], packet[end:]):
                return self._drop(DropReason.INTEGRITY)
            cbc = self._cbc
            plain = (
                packet[ESP_HEADER_SIZE:end]
                if cbc is None
                else cbc.update(packet[ESP_HEADER_SIZE:end])
            )
        replay.accept(seq)
        trailer = len(plain) - 2
        pad = plain[trailer]
        if pad and (trailer - pad < self._start or plain[trailer - pad : trailer] != _PADS[pad]):
            return self._drop(DropReason.BAD_PADDING)
        return plain

    def unprotect(self, packet: bytes, now: float) -> tuple[bytes, int] | DropReason:
        """The mode-independent part of `decapsulate`: (payload, next header), or why the
        packet was refused. Counts only refusals."""
        plain = self._open(packet, now)
        if isinstance(plain, DropReason):
            return plain
        return plain[self._start : len(plain) - 2 - plain[-2]], plain[-1]

    def decapsulate_transport(
        self, packet: bytes, now: float, endpoints: tuple[int, bytes, bytes], protocol: int = 0
    ) -> bytes | DropReason:
        """The IP packet of a transport-mode ESP packet, its header rebuilt, or why it
        was refused. `endpoints`: (IP version, peer's address, our address), the SA's
        selectors; `protocol`: the one IP protocol they allow (0: any)."""
        plain = self._open(packet, now)
        if isinstance(plain, DropReason):
            return plain
        start = self._start
        stop = len(plain) - 2 - plain[-2]
        next_header = plain[-1]
        if next_header == NEXT_HEADER_NONE:
            return self._drop(DropReason.DUMMY)
        if protocol and next_header != protocol:
            return self._drop(DropReason.OUTSIDE_SELECTORS)
        version, source, destination = endpoints
        header = rebuild_ip_header(version, source, destination, next_header, stop - start)
        inner = header + plain[start:stop]
        self.packets += 1
        self.octets += len(inner)
        self.last_used = now
        return inner

    def decapsulate(self, packet: bytes, now: float) -> bytes | DropReason:
        """The inner IP packet of a tunnel-mode ESP packet, or why it was refused."""
        plain = self._open(packet, now)
        if isinstance(plain, DropReason):
            return plain
        start = self._start
        stop = len(plain) - 2 - plain[-2]
        next_header = plain[-1]
        if next_header == NEXT_HEADER_IPV4:
            if stop - start < IPV4_HEADER or plain[start] >> 4 != IPV4:
                return self._drop(DropReason.MALFORMED)
            src, dst = _V4_ADDRS.unpack_from(plain, start + 12)
            for network, mask in self._remote_v4:
                if src & mask == network:
                    break
            else:
                return self._drop(DropReason.OUTSIDE_SELECTORS)
            for network, mask in self._local_v4:
                if dst & mask == network:
                    break
            else:
                return self._drop(DropReason.OUTSIDE_SELECTORS)
        elif next_header == NEXT_HEADER_IPV6:
            if stop - start < IPV6_HEADER or plain[start] >> 4 != IPV6:
                return self._drop(DropReason.MALFORMED)
            src = int.from_bytes(plain[start + 8 : start + 24], "big")
            dst = int.from_bytes(plain[start + 24 : start + 40], "big")
            if not (_covers(self._remote_v6, src) and _covers(self._local_v6, dst)):
                return self._drop(DropReason.OUTSIDE_SELECTORS)
        elif next_header == NEXT_HEADER_NONE:
            return self._drop(DropReason.DUMMY)
        else:
            return self._drop(DropReason.MALFORMED)
        inner = plain[start:stop]
        self.packets += 1
        self.octets += stop - start
        self.last_used = now
        return inner


def _covers(networks: tuple[tuple[int, int], ...], address: int) -> bool:
    return any(address & mask == network for network, mask in networks)
