"""`username NAME [privilege N] password [0|7] TEXT | secret [0|5|8|9] TEXT`: the local
user database that `aaa authentication login LIST local` checks."""

from __future__ import annotations

from engine.aaa.ios_hashes import HashFormatError, check_format
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import Config, LocalUser
from engine.config.words import Words
from engine.redaction import redact
from engine.secret import MASK, Secret

#: the stored types each keyword takes (IOS: `password 7` is the reversible encoding,
#: `secret 5|8|9` are hashes; `0` is the password itself)
KINDS = {"password": (0, 7), "secret": (0, 5, 8, 9)}
ALGORITHMS = ("md5", "sha256", "scrypt")


def username(config: Config, words: Words, source: Source, text: str) -> None:
    """Lines for the same name add to one user, as on IOS (`username U privilege 15`,
    then `username U secret ...`)."""
    name = words.word("user name")
    privilege: int | None = None
    keyword: str | None = None
    while words and keyword is None:
        option = words.optional_keyword(
            "privilege", "algorithm-type", "password", "secret", "nopassword"
        )
        if option is None:
            raise LineError(
                f"ignored: username {name}: option not supported: {redact(text)}",
                Severity.WARNING,
            )
        if option == "privilege":
            privilege = words.number("privilege level", 0, 15)
        elif option == "algorithm-type":
            words.keyword(*ALGORITHMS)  # the hash IOS would store; the text is kept as given
        elif option == "nopassword":
            raise LineError(
                f"username {name} nopassword is not supported: the user is not added",
                Severity.WARNING,
            )
        else:
            keyword = option
    user = LocalUser(source, name)
    if keyword is not None:
        user.keyword = keyword
        user.kind, user.secret = _stored(words, name, keyword, text)
    elif privilege is None:
        raise LineError(f"username {name}: missing password or secret")
    existing = config.local_users.get(name)
    if existing is not None and keyword is None:
        existing.privilege = privilege if privilege is not None else existing.privilege
        return
    if existing is not None and privilege is None:
        user.privilege = existing.privilege
    elif privilege is not None:
        user.privilege = privilege
    config.local_users[name] = user
    if user.secret is None and keyword is not None:
        config.report(
            source,
            f"username {name}: its {keyword} is masked ('{MASK}', as show running-config "
            "writes it): no password is accepted for this user",
            Severity.WARNING,
        )


def _stored(words: Words, name: str, keyword: str, text: str) -> tuple[int, Secret | None]:
    kinds = KINDS[keyword]
    kind = 0
    following = words.items[words.pos + 1 :] if words else []
    if words.peek() is not None and words.peek().isdecimal() and following:
        kind = int(words.key_type())
        if kind not in kinds:
            allowed = "|".join(map(str, kinds))
            raise LineError(f"{keyword} type {kind} is not one IOS takes ({keyword} {allowed})")
    if kind == 0:
        value = words.secret_text(text)  # the password itself may hold spaces, as on IOS
    else:
        value = words.secret_word(keyword)
        words.end()
    if not value:
        raise LineError(f"missing {keyword}")
    if value == MASK:
        return kind, None
    try:
        check_format(kind, value)
    except HashFormatError as err:
        # IOS refuses the line, not the file: the user is left out
        raise LineError(
            f"ignored: username {name} {keyword} {kind} {MASK}: {err}: the user is not added",
            Severity.WARNING,
        ) from None
    return kind, Secret(value)
