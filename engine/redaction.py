"""Which words of a configuration line are secrets: the one place that knows.

IOS puts a secret after a keyword: `crypto isakmp key K address A`,
`pre-shared-key [local|remote] [0|6] K`, `radius-server key 7 K`, `server-private A
key K`, `username U secret 9 H`, `enable secret`, `snmp-server community C RO`,
`ntp authentication-key N md5 K`, `key-string K`. The lines a diagnostic echoes are
the ones the parser could not read, typed in a hurry: `pre-shared-kye K`,
`pre-share-key K`, `radius-server kye K`, `pre-sh K`. So a word is taken for a
secret keyword when it is one, abbreviates one, starts with one, or is a typo or
two away from one; and every word after it on the line is a secret. Where the
keyword is missing altogether (`radius-server K`, `username U K`), the command
says where its secret would stand (`_FAMILIES`). Masking a word too many in a
warning costs little; a key in a log costs the key.

Users: the parser echoes lines through `redact` and masks, in every message built
while it reads a line, what that line's secrets are (engine/config/parser.py); the
word cursor never hands a secret out as a name (engine/config/words.py); the
loader asks `carries_secret` of a line that is not valid UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from engine.secret import MASK

#: keyword -> the shortest abbreviation of it taken for it (`pre`, `pas`, `k`);
#: `authentication-k`, not `authentication`: `authentication local pre-share` is no key
SECRET_KEYWORDS: dict[str, int] = {
    "key": 1,
    "key-string": 4,
    "password": 3,
    "secret": 4,
    "pre-shared-key": 3,
    "community": 4,
    "passphrase": 5,
    "authentication-key": len("authentication-k"),
    "auth-key": len("auth-k"),
    "message-digest-key": len("message-digest-k"),
}
#: secret words as parts of a hyphenated keyword: `wpa-psk`, `domain-password`
SECRET_PARTS = ("key", "password", "passwd", "secret", "psk", "community", "passphrase")
#: keywords that look like secret ones and are not; a name follows them
NOT_SECRET = ("keyring", "key-id", "key-chain", "keepalive", "authentication", "message-digest")
#: commands whose secret follows a word that is no secret keyword elsewhere:
#: (first words, that word): `standby 1 authentication K`, `ip nhrp authentication K`
AUTHENTICATION_STRING = (("standby",), ("vrrp",), ("glbp",), ("ip", "nhrp"))


def _normal(word: str) -> str:
    """Case and separators do not matter to a typo: `Pre_Shared-Key` is `presharedkey`."""
    return word.lower().replace("-", "").replace("_", "")


_LETTER = re.compile("[a-z]")
_NORMAL_KEYWORDS = tuple(
    (_normal(keyword), len(_normal(keyword[:shortest])))
    for keyword, shortest in SECRET_KEYWORDS.items()
)


def _distances(word: str, target: str) -> list[int]:
    """Optimal-string-alignment distances from `word` to every prefix of `target`
    (a transposition counts as one edit: `kye` is one typo from `key`)."""
    previous: list[int] = []
    row = list(range(len(target) + 1))
    for i, char in enumerate(word, start=1):
        before_previous, previous = previous, row
        row = [i] + [0] * len(target)
        for j, other in enumerate(target, start=1):
            cost = 0 if char == other else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == target[j - 2] and word[i - 2] == other:
                row[j] = min(row[j], before_previous[j - 2] + 1)
    return row


def _near(word: str, keyword: str, shortest: int) -> bool:
    """`word` is `keyword` or an abbreviation of it, maybe with a typo."""
    if keyword.startswith(word):
        return len(word) >= shortest  # an abbreviation, as IOS takes it
    if word.startswith(keyword):
        return True  # `keys`, `key1`, `passwords`
    allowed = 1 if len(keyword) <= 6 else 2
    whole = abs(len(word) - len(keyword)) <= allowed
    # a mistyped abbreviation of a long keyword: `pre-shred`, `comunit`
    abbreviated = len(keyword) >= 8 and 7 <= len(word) < len(keyword) and word[0] == keyword[0]
    if not (whole or abbreviated):
        return False
    distances = _distances(word, keyword)
    if whole and distances[-1] <= allowed:
        return True  # the whole keyword, mistyped: `kye`, `pasword`, `presharedkye`
    floor = max(shortest, len(word) - 1)
    return abbreviated and min(distances[floor:], default=allowed + 1) <= 1


def _keyword_like(normal: str) -> bool:
    return any(_near(normal, keyword, shortest) for keyword, shortest in _NORMAL_KEYWORDS)


@lru_cache(maxsize=8192)
def is_secret_keyword(word: str, *, parts: bool = True) -> bool:
    """Whether a secret follows this word, as typed (abbreviated or mistyped).

    `parts`: a hyphenated word with a secret part counts too (`wpa-psk`,
    `domain-password`); names are hyphenated like that (`HQ-KEYS`), so the parser,
    which knows names from keywords, asks without."""
    lowered = word.lower()
    if any(exempt.startswith(lowered) for exempt in NOT_SECRET) and not any(
        secret.startswith(lowered) and len(lowered) >= shortest
        for secret, shortest in SECRET_KEYWORDS.items()
    ):
        return False  # `keyr`, `key-i`, `kee`, `auth`: abbreviating a keyword that is no secret
    # a character that was not UTF-8 (U+FFFD) or is not ASCII is taken for a typo
    normal = "".join(char for char in _normal(word) if char.isascii())
    if not _LETTER.search(normal):
        return False  # numbers and addresses are no keywords
    if _keyword_like(normal):
        return True
    pieces = [piece for piece in re.split(r"[-_]", lowered) if piece]
    return (
        parts
        and len(pieces) > 1
        and any(
            piece in SECRET_PARTS or (len(piece) == 3 and _distances(piece, "key")[-1] <= 1)
            for piece in pieces
        )
    )


def mistypes(word: str, options: Iterable[str]) -> bool:
    """Whether `word` is one or two typos from one of `options` (`acct-prot`)."""
    lowered = word.lower()
    return any(
        abs(len(lowered) - len(option)) <= 2 and _distances(lowered, option)[-1] <= 2
        for option in options
    )


def _command_starts(words: Sequence[str], first: tuple[str, ...]) -> bool:
    return len(words) > len(first) and all(
        len(w) >= 2 and keyword.startswith(w.lower())
        for w, keyword in zip(words, first, strict=False)
    )


#: a secret keyword glued to more than letters: `key=K`, `password:K`, `key1`
_GLUED = re.compile(
    r"(?:key|password|secret|community|passphrase|authentication)[^a-z-]", re.IGNORECASE
)


def _no_secret(words: str) -> dict[str, int | None]:
    return dict.fromkeys(words.split())


#: Commands that carry secrets, and where a secret may start when its keyword is left
#: out or mangled past recognition (`radius-server S`, `username U S`, `crypto isakmp S
#: address A`): (first words, where a secret starts, the word after them -> where one
#: starts then; None: only after a secret keyword). A secret is told from a name only
#: by where it stands, so a line of these commands that the parser did not read is
#: shown up to that place.
_FAMILIES: tuple[tuple[tuple[str, ...], int, dict[str, int | None]], ...] = (
    (
        ("radius-server",),
        1,
        {"host": 3}
        | _no_secret(
            "retransmit timeout deadtime vsa attribute dead-criteria source-ports "
            "load-balance directed-request authorization"
        ),
    ),
    (
        ("tacacs-server",),
        1,
        {"host": 3} | _no_secret("timeout directed-request administration packet"),
    ),
    (
        ("snmp-server",),
        1,
        # `snmp-server host A [traps] [version 2c] COMMUNITY`, `snmp-server user U GROUP
        # v3 auth sha PASS priv aes 128 PASS`
        {"host": 3, "user": 4}
        | _no_secret(
            "location contact enable view engineid trap-source chassis-id ifindex "
            "queue-length source-interface system-shutdown trap manager group"
        ),
    ),
    (("username",), 2, {}),
    (("enable",), 1, {}),
    (
        ("ntp",),
        1,
        _no_secret(
            "authenticate trusted-key server peer source master update-calendar logging "
            "access-group"
        ),
    ),
    (
        ("crypto", "isakmp"),
        2,
        _no_secret(
            "policy profile keepalive peer nat identity aggressive-mode client "
            "invalid-spi-recovery enable fragmentation default xauth"
        ),
    ),
    (("server",), 2, {}),
    (
        ("standby",),
        1,
        _no_secret(
            "ip ipv6 priority preempt timers track name version mac-address follow delay bfd "
            "authentication "
            "redirect use-bia"
        ),
    ),
    (
        ("ip", "ospf"),
        2,
        _no_secret(
            "cost priority network hello-interval dead-interval retransmit-interval "
            "transmit-delay mtu-ignore bfd area demand-circuit database-filter "
            "flood-reduction lls ttl-security shutdown prefix-suppression resync-timeout "
            "fast-reroute"
        ),
    ),
    (("server-private",), 2, {}),
)


_SEPARATOR = re.compile("[=:]")


def _family_start(words: Sequence[str]) -> int | None:
    if len(words) > 2 and words[1].isdecimal() and _command_starts(words, ("standby",)):
        found = _family_start([words[0], *words[2:]])  # `standby 1 ...`: the group is optional
        return None if found is None else found + 1
    for first, start, then in _FAMILIES:
        if not _command_starts(words, first):
            continue
        following = words[len(first)].lower()
        if _keyword_like(_normal(following)):
            return len(first) + 1  # the secret follows its keyword, as it should
        known = [value for word, value in then.items() if word.startswith(following)]
        if len(following) >= 2 and known:
            return known[0]
        return start
    return None


def secret_start(words: Sequence[str], *, unread: bool = True) -> int | None:
    """The index of the first secret word of a line, None when the line has none.

    `unread`: the line is one the parser did not read (it is echoed whole), so where
    its command puts a secret counts too (`_FAMILIES`); a line the parser reads shows
    only words it has checked (engine/config/words.py)."""
    start = None
    for i, word in enumerate(words):
        head = _SEPARATOR.split(word, maxsplit=1)[0]
        if head != word and is_secret_keyword(head):
            start = i  # `pre-shared-kye=K`: the word holds the secret
            break
        if is_secret_keyword(word):
            start = i + (not _GLUED.search(word))
            break
    candidates = [start, _family_start(words) if unread else None]
    if any(_command_starts(words, first) for first in AUTHENTICATION_STRING):
        # `standby 1 authentication K`: no secret keyword elsewhere
        candidates.append(
            next(
                (
                    i + (not _GLUED.search(w))
                    for i, w in enumerate(words)
                    if len(w) >= 4 and ("authentication".startswith(w.lower()) or _GLUED.search(w))
                ),
                None,
            )
        )
    found = [c for c in candidates if c is not None]
    start = min(found) if found else None
    if start is None or start >= len(words):
        return None
    return start


def secret_words(text: str) -> list[str]:
    """The words of a line that are (or may be) a secret."""
    words = text.split()
    start = secret_start(words)
    return [] if start is None else words[start:]


def carries_secret(text: str) -> bool:
    return bool(secret_words(text))


def redact(text: str, keep: int | None = None) -> str:
    """A line fit for a diagnostic, a log or a screen: its secret words masked.

    `username bob secret 5 $1$...` must not reach a log through a warning. With
    `keep`, at most that many words are shown (a line of a keyring's body)."""
    words = text.split()
    start = secret_start(words)
    if keep is not None and keep < len(words):
        start = keep if start is None else min(start, keep)
    if start is None:
        return " ".join(words)
    return " ".join([*words[:start], MASK])


#: what may stand next to a short secret word in a message (`'K'`, `K,`, `(K)`)
_EDGE = r"""\s'"`,;:()\[\]{}<>="""


def scrub(message: str, secrets: Iterable[str]) -> str:
    """`message` with every occurrence of the secret words masked, in any case.

    A word of four characters or more is masked wherever it occurs (inside an
    interface name glued from words, after `lower()`); a shorter one only where it
    stands as a word of its own, so that `0` does not mask every zero."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if not secret or secret == MASK:
            continue
        escaped = re.escape(secret)
        if len(secret) < 4:
            escaped = rf"(?<![^{_EDGE}]){escaped}(?![^{_EDGE}])"
        message = re.sub(escaped, MASK, message, flags=re.IGNORECASE)
    return message
