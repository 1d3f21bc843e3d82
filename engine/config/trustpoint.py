"""`ip http secure-trustpoint NAME`: the certificate and key the secure server presents.

IOS keeps a trustpoint's certificate and key in its own store (`crypto pki
trustpoint`); here a trustpoint is files next to the configuration file:

- `NAME.pem`: the certificate chain and its private key in one file, or
- `NAME.crt` (the certificate chain) and `NAME.key` (its private key),

looked up in that order, relative to the configuration file's directory. The first
certificate of the chain is the server's; the private key (unencrypted PEM: PKCS#8,
PKCS#1 or SEC1) must be the one of that certificate's public key. A missing or
unreadable file, a file that holds no PEM certificate or key, or a key that is not the
certificate's is an error on the `ip http secure-trustpoint` line. A secure server
without a trustpoint presents a self-signed certificate the service generates, as
IOS generates its `TP-self-signed-N` trustpoint.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from engine.xsm.settings import TlsFiles

#: far above any certificate chain
MAX_BYTES = 1024 * 1024


class TrustpointError(Exception):
    """Why a trustpoint's files cannot be used; the reason is for the operator."""


def trustpoint_files(name: str, base_dir: Path) -> TlsFiles:
    """The files of trustpoint `name` in `base_dir`, checked to be a certificate chain
    and the private key of its first certificate; raises TrustpointError."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise TrustpointError(f"trustpoint name '{name}' is not a file name")
    pem = base_dir / f"{name}.pem"
    crt, key = base_dir / f"{name}.crt", base_dir / f"{name}.key"
    if pem.exists():
        files = TlsFiles(pem, pem)
    elif crt.exists() or key.exists():
        files = TlsFiles(crt, key)
    else:
        raise TrustpointError(
            f"trustpoint {name}: neither {pem} nor {crt} with {key} exists "
            "(a trustpoint is NAME.pem, or NAME.crt and NAME.key, next to the configuration)"
        )
    check_pair(files)
    return files


def check_pair(files: TlsFiles) -> None:
    """Raises TrustpointError unless the files hold a PEM certificate chain and the
    unencrypted private key of its first certificate."""
    chain_pem = _read(files.certificate)
    key_pem = chain_pem if files.private_key == files.certificate else _read(files.private_key)
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        chain = []
    if not chain:
        raise TrustpointError(f"{files.certificate} holds no PEM certificate")
    try:
        key = load_pem_private_key(_key_block(key_pem, files.private_key), password=None)
    except TypeError:
        raise TrustpointError(f"{files.private_key}: the private key is encrypted") from None
    except ValueError:
        raise TrustpointError(f"{files.private_key} holds no usable PEM private key") from None
    if _spki(key.public_key()) != _spki(chain[0].public_key()):
        raise TrustpointError(
            f"{files.private_key}: the private key is not the one of the certificate in "
            f"{files.certificate}"
        )


def _read(path: Path) -> bytes:
    """A regular file's bytes (never a FIFO or a device: stat first)."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise TrustpointError(f"{path} is not a regular file")
        if status.st_size > MAX_BYTES:
            raise TrustpointError(f"{path} is larger than {MAX_BYTES:,} bytes")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            return file.read(MAX_BYTES + 1)
    except OSError as err:
        raise TrustpointError(f"cannot read {path}: {err.strerror or err}") from None


#: PEM labels of private keys (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1)
_KEY_LABELS = (b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY")


def _key_block(data: bytes, path: Path) -> bytes:
    """The private key's PEM block out of a file that may hold certificates too."""
    for label in _KEY_LABELS:
        begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
        start = data.find(begin)
        if start >= 0:
            stop = data.find(end, start)
            if stop >= 0:
                return data[start : stop + len(end)] + b"\n"
    raise TrustpointError(f"{path} holds no PEM private key")


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]
