"""Reading a configuration file all the way to what the gateway runs.

`check` and the daemon (at start and on every reload) read through `load`, so a
file that is not a regular file, is too large or holds a stray byte gets the same
answer everywhere: a diagnostic, never a hang, a MemoryError or a traceback.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.config.compile import CompiledConfig, compile_config
from engine.config.diagnostics import ConfigError, Diagnostic, Severity, Source
from engine.config.interfaces import fill_from_kernel
from engine.config.model import Config
from engine.config.parser import parse_text
from engine.config.validate import validate
from engine.redaction import carries_secret

#: far above any real configuration (the largest seen are tens of MB), far below
#: what would take the daemon's memory
MAX_BYTES = 256 * 1024 * 1024

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class Unreadable(Exception):
    """Why a file cannot be read as a configuration; the reason is for the operator."""


def _not_regular(mode: int) -> Unreadable:
    kind = _KINDS.get(stat.S_IFMT(mode))
    return Unreadable(f"not a regular file ({kind})" if kind else "not a regular file")


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """The file's bytes. Raises Unreadable (or OSError) for anything but a regular file
    of at most `limit` bytes (default MAX_BYTES).

    stat comes first, so a FIFO is never opened (opening one for reading waits for a
    writer) nor /dev/zero read; the file is opened non-blocking and checked again, in
    case it was swapped for one between the two."""
    limit = MAX_BYTES if limit is None else limit
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise _not_regular(status.st_mode)
    too_large = Unreadable(f"larger than {limit:,} bytes; not read")
    if status.st_size > limit:
        raise too_large
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(mode)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large  # it grew while being read
    return data


def decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text, line by line: a byte that is not UTF-8 costs its line a diagnostic
    (it reads as U+FFFD), not the whole file. In a line that carries a secret it is an
    error: the key would silently not be the one the peer has. A leading BOM goes."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    problems: list[Diagnostic] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
            continue
        except UnicodeDecodeError as err:
            text = raw.decode("utf-8", errors="replace")
            column = len(raw[: err.start].decode("utf-8")) + 1
        lines.append(text)
        if carries_secret(text):
            severity = Severity.ERROR
            message = (
                f"column {column}: not valid UTF-8 in a line that carries a secret; "
                "the key would not be the one written (the bad bytes read as U+FFFD)"
            )
        else:
            severity = Severity.WARNING
            message = f"column {column}: not valid UTF-8; the bad bytes read as U+FFFD"
        problems.append(Diagnostic(Source(file, number), severity, message))
    return "\n".join(lines), problems


def load(path: str | Path) -> Config:
    """Parse and validate. An unreadable file becomes one error diagnostic (line 0),
    not an exception."""
    path = Path(path)
    try:
        text, problems = decode(read_bytes(path), str(path))
    except (OSError, Unreadable) as err:
        config = Config(file=str(path))
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        config.diagnostics.append(
            Diagnostic(Source(str(path), 0), Severity.ERROR, f"cannot read the file: {reason}")
        )
        return config
    config = parse_text(text, str(path))
    config.diagnostics[:0] = problems
    return validate(fill_from_kernel(config))


@dataclass(frozen=True, slots=True)
class Loaded:
    model: Config
    compiled: CompiledConfig

    @property
    def warnings(self) -> list[Diagnostic]:
        return self.model.warnings


def load_compiled(path: str | Path, *, ike_port: int = 500, natt_port: int = 4500) -> Loaded:
    """Raises ConfigError with every diagnostic when the file has errors."""
    return compiled(load(path), ike_port=ike_port, natt_port=natt_port)


def compiled(model: Config, *, ike_port: int = 500, natt_port: int = 4500) -> Loaded:
    """A loaded model compiled; raises ConfigError with every diagnostic if it has errors."""
    if model.errors:
        raise ConfigError(model.diagnostics)
    return Loaded(model, compile_config(model, ike_port=ike_port, natt_port=natt_port))
