"""`aaa ...` and `radius-server ...`: method lists, and the RADIUS servers that
authenticate users and take accounting records."""

from __future__ import annotations

from engine.config.commands.base import CommandTree, SubMode, secret_to_end
from engine.config.diagnostics import LineError, Severity, Source
from engine.config.model import (
    GROUP_PREFIX,
    METHOD_NONE,
    AccountingList,
    Config,
    MethodList,
    RadiusGroup,
    RadiusServer,
)
from engine.config.words import Words
from engine.redaction import redact


def new_model(config: Config, words: Words, source: Source, text: str) -> None:
    words.end()
    config.aaa_new_model = True


def accounting_network(config: Config, words: Words, source: Source, text: str) -> None:
    name = words.word("accounting list name")
    mode = words.keyword("start-stop", "stop-only", "none")
    item = AccountingList(source, name, mode)
    if words.optional_keyword("broadcast"):
        item.broadcast = True
    words.keyword("group")
    group = words.word("server group")
    item.group = ("radius" if group.lower() == "radius" else group, source)
    words.end()
    config.accounting_lists[name] = item


#: IOS methods this gateway has no use for in remote access (line and enable passwords,
#: Kerberos, TACACS+): left out of the list with a warning
UNUSED_METHODS = ("enable", "line", "krb5", "krb5-telnet", "cache", "if-authenticated")


def method_list(
    config: Config, words: Words, source: Source, kind: str, lists: dict[str, MethodList]
) -> None:
    """`LIST METHOD...`; a method is `local`, `local-case`, `none` or `group NAME`."""
    name = words.word(f"{kind} list name")
    methods: list[str] = []
    left_out: list[str] = []
    while words:
        method = words.keyword("local", "local-case", "none", "group", *UNUSED_METHODS)
        if method == "group":
            group = words.word("server group")
            if group.lower() == "tacacs+":
                left_out.append("group tacacs+")
                continue
            methods.append(GROUP_PREFIX + ("radius" if group.lower() == "radius" else group))
        elif method in UNUSED_METHODS:
            left_out.append(method)
        else:
            methods.append(method)
    if not methods and not left_out:
        raise LineError(f"{kind} list {name} needs at least one method")
    if left_out:
        config.report(
            source,
            f"{kind} list {name}: {', '.join(left_out)} not supported here: left out",
            Severity.WARNING,
        )
    if METHOD_NONE in methods[:-1]:
        config.report(
            source,
            f"{kind} list {name}: methods after 'none' are never tried",
            Severity.WARNING,
        )
    lists[name] = MethodList(source, name, tuple(methods))


def authentication_login(config: Config, words: Words, source: Source, text: str) -> None:
    """`aaa authentication login LIST METHOD...`: who XAUTH users are checked against."""
    method_list(config, words, source, "authentication", config.authentication_lists)


def authorization_network(config: Config, words: Words, source: Source, text: str) -> None:
    """`aaa authorization network LIST METHOD...`: where a group's mode-config comes from."""
    method_list(config, words, source, "authorization", config.authorization_lists)


def accounting_update(config: Config, words: Words, source: Source, text: str) -> None:
    what = words.keyword("periodic", "newinfo")
    if what == "newinfo":
        config.accounting_update_newinfo = True
        if words.optional_keyword("periodic"):
            config.accounting_update_minutes = words.number("update interval", 1, 71582)
    else:
        config.accounting_update_minutes = words.number("update interval", 1, 71582)
    if words.optional_keyword("jitter"):
        words.skip()
    words.end()


def session_id(config: Config, words: Words, source: Source, text: str) -> None:
    kind = words.keyword("common", "unique")
    words.end()
    config.aaa_session_id_common = kind == "common"


def server_address(words: Words, text: str) -> RadiusServer:
    server = RadiusServer(address=words.address("server address"))
    while words:
        option = words.keyword("auth-port", "acct-port", "key", "timeout", "retransmit")
        if option == "auth-port":
            server.auth_port = words.number("auth port", 0, 65535)
        elif option == "acct-port":
            server.acct_port = words.number("acct port", 0, 65535)
        elif option == "key":
            server.key = secret_to_end(words, text)
        else:
            words.number(option, 1, 1000)
    return server


class GroupMode(SubMode):
    mode_name = "server group mode"
    commands = {"server": "server"}

    def __init__(self, config: Config, group: RadiusGroup) -> None:
        super().__init__(config)
        self.group = group

    def server(self, words: Words, source: Source, text: str) -> None:
        if words.optional_keyword("name"):
            raise LineError(
                "server name NAME (named RADIUS servers) is not supported; use server ADDRESS",
                Severity.WARNING,
            )
        server = server_address(words, text)
        server.source = source
        self.group.servers.append(server)


def group_server_radius(config: Config, words: Words, source: Source, text: str) -> SubMode:
    name = words.word("group name")
    words.end()
    group = config.radius_groups.setdefault(name, RadiusGroup(source, name))
    return GroupMode(config, group)


def radius_host(config: Config, words: Words, source: Source, text: str) -> None:
    server = server_address(words, text)
    server.source = source
    config.radius_servers.append(server)


def radius_key(config: Config, words: Words, source: Source, text: str) -> None:
    config.radius.key = secret_to_end(words, text)


def radius_retransmit(config: Config, words: Words, source: Source, text: str) -> None:
    config.radius.retransmit = words.number("retransmit count", 0, 100)
    words.end()


def radius_timeout(config: Config, words: Words, source: Source, text: str) -> None:
    config.radius.timeout = words.number("timeout seconds", 1, 1000)
    words.end()


def radius_deadtime(config: Config, words: Words, source: Source, text: str) -> None:
    config.radius.deadtime = words.number("deadtime minutes", 0, 1440)
    words.end()


def radius_vsa(config: Config, words: Words, source: Source, text: str) -> None:
    words.keyword("send")
    kind = words.optional_keyword("accounting", "authentication")
    words.end()
    if kind in (None, "accounting"):
        config.radius.vsa_send_accounting = True


def radius_unsupported(config: Config, words: Words, source: Source, text: str) -> None:
    raise LineError(f"ignored: not supported: {redact(text)}", Severity.WARNING)


AAA_COMMANDS: CommandTree = {
    "new-model": new_model,
    "accounting": {"network": accounting_network, "update": accounting_update},
    "session-id": session_id,
    "authentication": {"login": authentication_login},
    "authorization": {"network": authorization_network},
    "group": {"server": {"radius": group_server_radius}},
}
RADIUS_COMMANDS: CommandTree = {
    "host": radius_host,
    "key": radius_key,
    "retransmit": radius_retransmit,
    "timeout": radius_timeout,
    "deadtime": radius_deadtime,
    "vsa": radius_vsa,
    "authorization": radius_unsupported,
}
