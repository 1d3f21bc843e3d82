"""The secure server's certificate: the configured files, or a self-signed one.

Like IOS's TP-self-signed trustpoint, the generated certificate and its key are kept (in
the state directory) so clients that pinned it keep trusting the gateway across
restarts; only a change of host name or an approaching expiry makes a new certificate,
and that one keeps the same key.
"""

from __future__ import annotations

import datetime
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine.xsm.settings import TlsFiles

CERTIFICATE_FILE = "xsm-self-signed.crt"
KEY_FILE = "xsm-self-signed.key"
VALIDITY = datetime.timedelta(days=3650)
#: a certificate closer than this to its end is replaced at the next start
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class CertificatePair:
    certificate_pem: bytes
    key_pem: bytes

    def __repr__(self) -> str:  # the key never shows
        return "CertificatePair(certificate_pem=..., key_pem=*****)"


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    key: ec.EllipticCurvePrivateKey, hostname: str, now: datetime.datetime
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )


def _usable(pem: bytes, hostname: str, now: datetime.datetime) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return False
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != hostname:
        return False
    return certificate.not_valid_after_utc - now > RENEW_BEFORE


def _write_private(path: Path, data: bytes) -> None:
    """Write so that the file is never readable by others, even for an instant."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def self_signed(
    hostname: str, state_dir: Path | None, *, now: datetime.datetime | None = None
) -> CertificatePair:
    """The self-signed certificate for `hostname`: the kept one when still good, else a
    new one (with the kept key when there is one). Without a state directory the pair is
    made fresh; the caller keeps it for the life of the process."""
    now = now or datetime.datetime.now(datetime.UTC)
    key: ec.EllipticCurvePrivateKey | None = None
    if state_dir is not None:
        key_path, cert_path = state_dir / KEY_FILE, state_dir / CERTIFICATE_FILE
        if key_path.exists():
            try:
                loaded = serialization.load_pem_private_key(key_path.read_bytes(), None)
            except (ValueError, TypeError):
                loaded = None
            if isinstance(loaded, ec.EllipticCurvePrivateKey):
                key = loaded
                if cert_path.exists():
                    pem = cert_path.read_bytes()
                    if _usable(pem, hostname, now) and _matches(pem, key):
                        return CertificatePair(pem, _key_pem(key))
    if key is None:
        key = _new_key()
    pem = _certificate(key, hostname, now).public_bytes(serialization.Encoding.PEM)
    pair = CertificatePair(pem, _key_pem(key))
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(state_dir / KEY_FILE, pair.key_pem)
        (state_dir / CERTIFICATE_FILE).write_bytes(pem)
    return pair


def _matches(pem: bytes, key: ec.EllipticCurvePrivateKey) -> bool:
    certificate = x509.load_pem_x509_certificate(pem)
    return certificate.public_key() == key.public_key()


def server_context(source: TlsFiles | CertificatePair) -> ssl.SSLContext:
    """A TLS server context (TLS 1.2 and later) presenting the files or the pair.

    Raises OSError or ssl.SSLError when the files are missing or do not match."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if isinstance(source, TlsFiles):
        context.load_cert_chain(source.certificate, source.private_key)
        return context
    # ssl loads keys only from files: a private directory, gone right after.
    with tempfile.TemporaryDirectory(prefix="xsm-tls-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(source.certificate_pem)
        _write_private(key_path, source.key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context
