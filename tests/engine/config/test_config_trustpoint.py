"""`ip http secure-trustpoint NAME`: NAME.pem, or NAME.crt and NAME.key, next to the
configuration file; a bad or mismatched pair is an error on that line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tls_files import certificate, key_pem

from engine.config.compile import compile_config
from engine.config.compile_xsm import xsm_settings
from engine.config.diagnostics import ConfigError, Severity
from engine.config.loader import load
from engine.xsm.settings import TlsFiles

CONFIG = """\
hostname gw
ip http secure-server
ip http secure-trustpoint {name}
"""


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def write_config(directory: Path, name: str = "TP") -> Path:
    path = directory / "gateway.conf"
    path.write_text(CONFIG.format(name=name), encoding="utf-8")
    return path


def errors(path: Path) -> list[tuple[int, str]]:
    return [(d.source.line, d.message) for d in load(path).errors]


def test_one_pem_file_with_chain_and_key(tmp_path: Path, key, monkeypatch) -> None:
    (tmp_path / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    path = write_config(tmp_path)
    monkeypatch.chdir("/")  # relative to the configuration's directory, not the cwd
    model = load(path)
    assert model.diagnostics == []
    assert compile_config(model).xsm.tls == TlsFiles(tmp_path / "TP.pem", tmp_path / "TP.pem")


def test_the_key_may_come_first_in_the_pem_file(tmp_path: Path, key) -> None:
    (tmp_path / "TP.pem").write_bytes(key_pem(key) + certificate(key))
    assert errors(write_config(tmp_path)) == []


def test_crt_and_key_files(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "WEB.crt").write_bytes(certificate(rsa_key))
    traditional = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (tmp_path / "WEB.key").write_bytes(traditional)  # `BEGIN RSA PRIVATE KEY`
    model = load(write_config(tmp_path, "WEB"))
    assert model.diagnostics == []
    assert xsm_settings(model, None).tls == TlsFiles(tmp_path / "WEB.crt", tmp_path / "WEB.key")


def test_a_chain_is_served_with_its_first_certificate_matching_the_key(tmp_path: Path, key) -> None:
    issuer = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "TP.crt").write_bytes(certificate(key) + certificate(issuer, "CA"))
    (tmp_path / "TP.key").write_bytes(key_pem(key))
    assert errors(write_config(tmp_path)) == []
    (tmp_path / "TP.crt").write_bytes(certificate(issuer, "CA") + certificate(key))
    ((line, message),) = errors(write_config(tmp_path))
    assert line == 3 and "not the one of the certificate" in message


def test_a_mismatched_pair_is_an_error_on_the_trustpoint_line(tmp_path: Path, key) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "TP.crt").write_bytes(certificate(key))
    (tmp_path / "TP.key").write_bytes(key_pem(other))
    assert errors(write_config(tmp_path)) == [
        (
            3,
            f"ip http secure-trustpoint: {tmp_path / 'TP.key'}: the private key is not the "
            f"one of the certificate in {tmp_path / 'TP.crt'}",
        )
    ]


def test_missing_files_are_an_error_naming_what_was_looked_for(tmp_path: Path) -> None:
    ((line, message),) = errors(write_config(tmp_path))
    assert line == 3
    assert str(tmp_path / "TP.pem") in message and str(tmp_path / "TP.crt") in message


def test_a_crt_without_its_key_is_an_error(tmp_path: Path, key) -> None:
    (tmp_path / "TP.crt").write_bytes(certificate(key))
    ((line, message),) = errors(write_config(tmp_path))
    assert line == 3 and f"cannot read {tmp_path / 'TP.key'}" in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a certificate\n", "holds no PEM certificate"),
        (b"", "holds no PEM certificate"),
        ("key only", "holds no PEM certificate"),
        ("certificate only", "holds no PEM private key"),
        ("encrypted key", "the private key is encrypted"),
    ],
)
def test_a_pem_file_that_is_not_a_pair_is_an_error(
    tmp_path: Path, key, content: bytes | str, reason: str
) -> None:
    data = {
        "key only": key_pem(key),
        "certificate only": certificate(key),
        "encrypted key": certificate(key) + key_pem(key, b"pass phrase"),
    }.get(content, content)
    (tmp_path / "TP.pem").write_bytes(data)  # type: ignore[arg-type]
    ((line, message),) = errors(write_config(tmp_path))
    assert line == 3 and reason in message


def test_a_fifo_or_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "TP.pem")
    ((line, message),) = errors(write_config(tmp_path))
    assert line == 3 and "is not a regular file" in message
    (tmp_path / "D.pem").mkdir()
    ((line, message),) = errors(write_config(tmp_path, "D"))
    assert "is not a regular file" in message


@pytest.mark.parametrize("name", ["../TP", "sub/TP", ".."])
def test_a_trustpoint_name_is_no_path(tmp_path: Path, key, name: str) -> None:
    (tmp_path / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    ((line, message),) = errors(write_config(tmp_path / "sub" if ".." in name else tmp_path, name))
    assert line == 3 and "is not a file name" in message


def test_a_secure_server_without_a_trustpoint_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "gateway.conf"
    path.write_text("ip http secure-server\n", encoding="utf-8")
    model = load(path)
    assert [d for d in model.diagnostics if d.severity is Severity.ERROR] == []
    settings = compile_config(model).xsm
    assert settings.secure_server and settings.tls is None


def test_files_gone_after_validation_fail_the_compile_on_the_line(tmp_path: Path, key) -> None:
    (tmp_path / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    model = load(write_config(tmp_path))
    assert model.errors == []
    (tmp_path / "TP.pem").unlink()
    with pytest.raises(ConfigError) as caught:
        compile_config(model)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.source.line == 3 and "TP.pem" in diagnostic.message


def test_base_dir_overrides_the_configuration_directory(tmp_path: Path, key) -> None:
    elsewhere = tmp_path / "certs"
    elsewhere.mkdir()
    (elsewhere / "TP.pem").write_bytes(certificate(key) + key_pem(key))
    model = load(write_config(tmp_path))
    assert model.errors  # not next to the configuration
    model.diagnostics.clear()
    assert xsm_settings(model, elsewhere).tls == TlsFiles(
        elsewhere / "TP.pem", elsewhere / "TP.pem"
    )
