"""How IOS stores local passwords: type 7 (reversible), type 5 (md5-crypt), type 8
(PBKDF2-SHA256) and type 9 (scrypt). Pure functions, no state.

Formats, as IOS writes them (checked against hashes from IOS devices in the tests):

- type 7: two decimal digits (the offset into a fixed 53-character key), then the
  password XORed with the key from that offset on, as hex pairs;
- type 5: `$1$SALT$HASH`, FreeBSD md5-crypt (1000 MD5 rounds, salt of 4 characters
  on IOS, at most 8), in crypt(3)'s own little-endian base64;
- type 8: `$8$SALT$HASH`, PBKDF2-HMAC-SHA256 with 20000 iterations over the 14-character
  salt text, the 32-byte key in base64 with the alphabet `./0-9A-Za-z`, no padding;
- type 9: `$9$SALT$HASH`, scrypt with N=16384, r=1, p=1 over the 14-character salt
  text, the 32-byte key in the same base64.

md5-crypt is written out here: Python's `crypt` module is deprecated and gone in 3.13,
no library in the environment provides it, and passlib (the usual provider) has been
unmaintained since 2020; its forks would bring a framework of thirty schemes for one
40-line algorithm that is only ever used to check an old stored secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: the alphabet of crypt(3) and of IOS's base64
ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STD64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_IOS = str.maketrans(_STD64, ITOA64)
_FROM_IOS = str.maketrans(ITOA64, _STD64)

#: type 7's key (the "xlat" string of IOS)
TYPE7_KEY = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"

TYPE8_ITERATIONS = 20000
TYPE9_N, TYPE9_R, TYPE9_P = 16384, 1, 1
SALT_LENGTH = 14
KEY_LENGTH = 32

_B64 = f"[{re.escape(ITOA64)}]"
_FORMATS = {
    5: re.compile(rf"\$1\$({_B64}{{1,8}})\$({_B64}{{22}})"),
    8: re.compile(rf"\$8\$({_B64}{{{SALT_LENGTH}}})\$({_B64}{{43}})"),
    9: re.compile(rf"\$9\$({_B64}{{{SALT_LENGTH}}})\$({_B64}{{43}})"),
}
_TYPE7 = re.compile(r"([0-9]{2})((?:[0-9A-Fa-f]{2})*)")


class HashFormatError(ValueError):
    """Stored text that is not of its type's format."""


# ------------------------------------------------------------------------ type 7
def type7_decode(text: str) -> bytes:
    """The password a type 7 string encodes."""
    match = _TYPE7.fullmatch(text)
    if match is None:
        raise HashFormatError("a type 7 password is two digits, then hex pairs")
    offset = int(match.group(1))
    if offset >= len(TYPE7_KEY):
        raise HashFormatError(f"type 7 offset {offset} is outside 0-{len(TYPE7_KEY) - 1}")
    data = bytes.fromhex(match.group(2))
    return bytes(b ^ TYPE7_KEY[(offset + i) % len(TYPE7_KEY)] for i, b in enumerate(data))


def type7_encode(password: bytes, offset: int | None = None) -> str:
    """IOS's `service password-encryption` form; IOS picks the offset in 0-15."""
    if offset is None:
        offset = secrets.randbelow(16)
    body = bytes(b ^ TYPE7_KEY[(offset + i) % len(TYPE7_KEY)] for i, b in enumerate(password))
    return f"{offset:02d}{body.hex().upper()}"


# ------------------------------------------------------------------------ type 5
def _to64(value: int, count: int) -> str:
    out = []
    for _ in range(count):
        out.append(ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def md5_crypt(password: bytes, salt: str) -> str:
    """`$1$SALT$HASH` (Poul-Henning Kamp's FreeBSD md5-crypt)."""
    salt_bytes = salt.encode()[:8]
    magic = b"$1$"
    ctx = hashlib.md5(password + magic + salt_bytes)
    alternate = hashlib.md5(password + salt_bytes + password).digest()
    for left in range(len(password), 0, -16):
        ctx.update(alternate[: min(16, left)])
    bits = len(password)
    while bits:
        ctx.update(b"\0" if bits & 1 else password[:1])
        bits >>= 1
    final = ctx.digest()
    for i in range(1000):
        round_ctx = hashlib.md5(password if i & 1 else final)
        if i % 3:
            round_ctx.update(salt_bytes)
        if i % 7:
            round_ctx.update(password)
        round_ctx.update(final if i & 1 else password)
        final = round_ctx.digest()
    encoded = "".join(
        _to64((final[a] << 16) | (final[b] << 8) | final[c], 4)
        for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
    )
    encoded += _to64(final[11], 2)
    return f"$1${salt_bytes.decode()}${encoded}"


# ------------------------------------------------------------------------ types 8, 9
def ios_b64(data: bytes) -> str:
    """Base64 in IOS's alphabet, without padding."""
    return base64.b64encode(data).decode().translate(_TO_IOS).rstrip("=")


def type8_hash(password: bytes, salt: str) -> str:
    key = hashlib.pbkdf2_hmac("sha256", password, salt.encode(), TYPE8_ITERATIONS, KEY_LENGTH)
    return f"$8${salt}${ios_b64(key)}"


def type9_hash(password: bytes, salt: str) -> str:
    key = hashlib.scrypt(
        password, salt=salt.encode(), n=TYPE9_N, r=TYPE9_R, p=TYPE9_P, dklen=KEY_LENGTH
    )
    return f"$9${salt}${ios_b64(key)}"


def new_salt(length: int = SALT_LENGTH) -> str:
    """A random salt in IOS's alphabet (IOS: 10 random bytes in base64, 14 characters)."""
    return "".join(secrets.choice(ITOA64) for _ in range(length))


# ------------------------------------------------------------------------ all types
HASHERS = {5: md5_crypt, 8: type8_hash, 9: type9_hash}


def check_format(kind: int, stored: str) -> None:
    """Raise HashFormatError when `stored` cannot be a secret of that type."""
    if kind == 7:
        type7_decode(stored)
    elif kind in _FORMATS:
        if _FORMATS[kind].fullmatch(stored) is None:
            shape = {5: "$1$SALT$HASH", 8: "$8$SALT$HASH", 9: "$9$SALT$HASH"}[kind]
            raise HashFormatError(f"a type {kind} secret looks like {shape}")
    elif kind != 0:
        raise HashFormatError(f"unknown password type {kind}")


def matches(kind: int, stored: bytes, password: bytes) -> bool:
    """Whether `password` is the one `stored` (of type `kind`) keeps; a malformed stored
    text matches nothing. Comparisons are constant-time."""
    try:
        text = stored.decode("ascii")
    except UnicodeDecodeError:
        return kind == 0 and hmac.compare_digest(stored, password)
    try:
        if kind == 0:
            return hmac.compare_digest(stored, password)
        if kind == 7:
            return hmac.compare_digest(type7_decode(text), password)
        check_format(kind, text)
    except HashFormatError:
        return False
    salt = text.split("$")[2]
    expected = HASHERS[kind](password, salt)
    return hmac.compare_digest(expected.encode(), stored)
