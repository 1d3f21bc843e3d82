"""The secure server: a generated self-signed certificate kept across restarts, or the
configured files."""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from engine.xsm.settings import TlsFiles
from engine.xsm.tls import CERTIFICATE_FILE, KEY_FILE, self_signed

pytestmark = pytest.mark.asyncio


def trusting(pem: bytes) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=pem.decode())
    context.check_hostname = False  # the certificate names gw.example, we dial 127.0.0.1
    return context


async def test_self_signed_certificate_serves_and_stays(xsm, tmp_path) -> None:
    settings = xsm.configure(http_server=False, secure_server=True, secure_port=0)
    service = await xsm.start(settings=settings)
    pem = service.certificate_pem
    assert pem is not None
    certificate = x509.load_pem_x509_certificate(pem)
    cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "gw.example"
    state = tmp_path / "state"
    assert (state / CERTIFICATE_FILE).read_bytes() == pem
    assert (state / KEY_FILE).stat().st_mode & 0o077 == 0
    async with xsm.session.get(
        xsm.url("/xsm/xrd-list", "https"), headers=xsm.auth("admin"), ssl=trusting(pem)
    ) as response:
        assert response.status == 200
    status = service.status().listeners
    assert [(x.kind, x.certificate) for x in status] == [("https", "self-signed")]
    # A client that does not trust it is refused by TLS itself.
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        async with xsm.session.get(xsm.url("/xsm/xrd-list", "https")):
            pass
    await service.stop()
    again = await xsm.start(settings=settings)
    assert again.certificate_pem == pem  # the same certificate after a restart


async def test_without_a_state_directory_each_pair_is_new() -> None:
    first = self_signed("gw-a", None)
    assert self_signed("gw-a", None).key_pem != first.key_pem  # no state: fresh each time


async def test_renamed_host_gets_a_new_certificate_with_the_same_key(tmp_path) -> None:
    first = self_signed("gw-a", tmp_path)
    second = self_signed("gw-b", tmp_path)
    assert second.certificate_pem != first.certificate_pem
    assert second.key_pem == first.key_pem
    assert "*****" in repr(second) and "PRIVATE" not in repr(second)


async def test_configured_files_are_presented(xsm, tmp_path) -> None:
    pair = self_signed("files.example", tmp_path / "elsewhere")
    cert, key = tmp_path / "gw.crt", tmp_path / "gw.key"
    cert.write_bytes(pair.certificate_pem)
    key.write_bytes(pair.key_pem)
    settings = xsm.configure(
        secure_server=True, secure_port=0, tls=TlsFiles(certificate=cert, private_key=key)
    )
    service = await xsm.start(settings=settings)
    assert service.certificate_pem is None
    async with xsm.session.get(
        xsm.url("/xsm/xrd-list", "https"),
        headers=xsm.auth("admin"),
        ssl=trusting(pair.certificate_pem),
    ) as response:
        assert response.status == 200
    async with await xsm.get("/xsm/xrd-list") as response:  # the plain one too
        assert response.status == 200


async def test_unreadable_files_leave_the_plain_server_up(xsm, tmp_path) -> None:
    missing = TlsFiles(tmp_path / "none.crt", tmp_path / "none.key")
    settings = xsm.configure(secure_server=True, secure_port=0, tls=missing)
    service = await xsm.start(settings=settings)
    https = next(x for x in service.status().listeners if x.kind == "https")
    assert https.bound is None and https.error
    async with await xsm.get("/xsm/xrd-list") as response:
        assert response.status == 200


async def test_port_change_restarts_the_listener(xsm) -> None:
    service = await xsm.start()
    stream = await xsm.sse("crypto-sessions")
    await stream.next()
    await service.apply(xsm.configure(secure_server=True, secure_port=0))
    assert service.secure_port is not None
    assert await stream.ended()  # clients reconnect (and resume) after a listener restart
    async with await xsm.get("/xsm/xrd-list") as response:
        assert response.status == 200
