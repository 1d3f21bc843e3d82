"""Published and independently produced ESP packets, decapsulated by our inbound SAs.

1. The AES-GCM test cases of draft-mcgrew-gcm-test-01 ("Test Cases for the use of GCM
   and GMAC in IPsec ESP", the RFC 4106 vectors), as tabulated in OpenBSD's
   regress/sys/crypto/gmac/gmac_test.c: key | salt, IV, AAD (SPI | seq, or
   SPI | seq high | seq low with ESN), ciphertext | tag. The ESP packet on the wire is
   SPI | seq low | IV | ciphertext | tag. The draft's payloads are carried with next
   header 1, so they go through `unprotect` (mode-independent RFC 4303 processing).
   The GMAC-only cases (RFC 4543) are left out: ENCR_NULL_AUTH_AES_GMAC is not offered.
2. Tunnel-mode packets made by scapy 2.8.0's independent ESP implementation
   (scapy.layers.ipsec.SecurityAssociation.encrypt with fixed keys and IVs), covering
   AES-CBC + HMAC-SHA2 with and without ESN, and AES-GCM with ESN.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from engine.crypto import encryption_named, integrity_named
from engine.esp import DropReason, InboundSa
from engine.esp.sa import ESP_HEADER_SIZE


class Vector(NamedTuple):
    key_salt: str
    iv: str
    aad: str
    ct_tag: str
    plaintext: str


DRAFT_MCGREW_GCM_TEST_01 = [
    # page 6: AES-128, ESN
    Vector(
        "4c80cdefbb5d10da906ac73c3613a6342e443b68",
        "4956ed7e3b244cfe",
        "000043218765432100000000",
        (
            "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
            "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
            "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4"
        ),
        (
            "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
            "00000000045f736970045f756470037369700963796265726369747902646b00"
            "0021000101020201"
        ),
    ),
    # page 7: AES-128, no ESN
    Vector(
        "feffe9928665731c6d6a8f9467308308cafebabe",
        "facedbaddecaf888",
        "0000a5f80000000a",
        (
            "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
            "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
            "83b70d3aa8bc6ee4c309e9d85a41ad4a"
        ),
        (
            "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
            "0001000000000000037369700963796265726369747902646b00000100010001"
        ),
    ),
    # page 8: AES-256, no ESN
    Vector(
        ("abbccddef00112233445566778899aababbccddef00112233445566778899aab11223344"),
        "0102030405060708",
        "4a2cbfe300000002",
        (
            "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
            "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
            "15956c96"
        ),
        (
            "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
            "7002400020bf0000020405b40101040201020201"
        ),
    ),
    # page 9: AES-128, no ESN
    Vector(
        "0000000000000000000000000000000000000000",
        "0000000000000000",
        "0000000000000001",
        (
            "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
            "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
            "f821d496eeb096e98ad2b69e4799c71d"
        ),
        (
            "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
            "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201"
        ),
    ),
    # page 10: AES-128, ESN
    Vector(
        "3de09874b388e6491988d0c3607eae1f57690e43",
        "4e280000a2fca1a3",
        "42f67e3f1010101010101010",
        (
            "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
            "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
            "e0d731cc978ecafaeae88f00e80d6e48"
        ),
        (
            "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
            "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201"
        ),
    ),
    # page 11: AES-128, ESN
    Vector(
        "3de09874b388e6491988d0c3607eae1f57690e43",
        "4e280000a2fca1a3",
        "42f67e3f1010101010101010",
        (
            "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed369f071f"
            "35e034be95f112e4e7d05d35"
        ),
        "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
    ),
    # page 11: AES-192, no ESN
    Vector(
        "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
        "facedbaddecaf888",
        "0000a5f80000000a",
        (
            "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
            "315b27452144cc7795457b9652037f5318027b5b4cd7a636"
        ),
        ("45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001"),
    ),
    # page 12: AES-128, ESN
    Vector(
        "abbccddef00112233445566778899aabdecaf888",
        "cafedebaceface74",
        "000001000000000000000001",
        (
            "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
            "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
            "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436"
        ),
        (
            "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
            "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
            "9b6266c04722b14923010101"
        ),
    ),
    # page 13: AES-256, ESN
    Vector(
        ("abbccddef00112233445566778899aababbccddef00112233445566778899aab73616c74"),
        "616e640169766563",
        "17405e67156f3126dd0db99b",
        (
            "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
            "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35"
        ),
        ("45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001"),
    ),
    # page 14: AES-128, ESN
    Vector(
        "3de09874b388e6491988d0c3607eae1f57690e43",
        "4e280000a2fca1a3",
        "42f67e3f1010101010101010",
        (
            "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d541828"
            "00cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39"
            "ab533163aad4550ee5160975cdb608c5769189609763b8e18caa81e2"
        ),
        (
            "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b"
            "000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32"
            "5ae270c03899493915010101"
        ),
    ),
    # page 15: AES-256, ESN
    Vector(
        ("abbccddef00112233445566778899aababbccddef00112233445566778899aab73616c74"),
        "616e640169766563",
        "17405e67156f3126dd0db99b",
        (
            "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18"
            "d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b0"
            "12a49363412364f8c0cac587f249e56b11e24f30e44ccc76"
        ),
        (
            "636973636f0172756c657301746865016e6574776501646566696e6501746865"
            "746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f"
            "72726f7701020201"
        ),
    ),
    # page 16: AES-128, no ESN
    Vector(
        "7d773d00c144c525ac619d18c84a3f47d9664267",
        "43457e9182443bc6",
        "335467aeffffffff",
        "437f866bcb3f699fe9b0822bac961c4504bef270",
        "01020201",
    ),
    # page 16: AES-128, ESN
    Vector(
        "abbccddef00112233445566778899aabdecaf888",
        "cafedebaceface74",
        "000001000000000000000001",
        ("29c9fc69a197d038ccdd14e2ddfcaa0543332164412503524303ed3c6c5f283843af8c3e"),
        "746f016265016f72016e6f7401746f0162650001",
    ),
    # page 17: AES-256, ESN
    Vector(
        ("6c6567616c697a656d6172696a75616e61616e64646f69746265666f726569617475726e"),
        "333021696765746d",
        "796b6963ffffffffffffffff",
        (
            "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
            "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
            "9fb4c053"
        ),
        (
            "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
            "65666768696a6b6c6d6e6f707172737401020201"
        ),
    ),
    # page 19: AES-128, ESN
    Vector(
        "3de09874b388e6491988d0c3607eae1f57690e43",
        "4e280000a2fca1a3",
        "3f7ef6421010101010101010",
        (
            "fba2caa8c6c5f9f0f22ca54a061210ad3f6e5791cf1aca210d117cec9c357917"
            "65acbd8701ad79845bf9fe3fba487bc96321930684eecadb56912546e7a95c97"
            "40d7cb05"
        ),
        (
            "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
            "65666768696a6b6c6d6e6f707172737401020201"
        ),
    ),
    # page 20: AES-128, ESN
    Vector(
        "4c80cdefbb5d10da906ac73c3613a63422433c64",
        "4855ec7d3a234bfd",
        "000043218765432100000007",
        (
            "74752e8aeb5d873cd7c0f4acc36c4bff84b7d7b98f0ca8b6acda6894bc619069"
            "ef9cbc28fe1b56a7c4e0d58c86cd2bc0"
        ),
        "0800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
    ),
]


def _inbound_for(vector: Vector) -> tuple[InboundSa, bytes]:
    key_salt, aad = bytes.fromhex(vector.key_salt), bytes.fromhex(vector.aad)
    esn = len(aad) == 12
    encr = encryption_named(f"aes-gcm-{(len(key_salt) - 4) * 8}")
    spi = int.from_bytes(aad[:4], "big")
    sa = InboundSa(spi, encr, None, key_salt, esn=esn)
    seq = int.from_bytes(aad[4:], "big")
    if seq > 1:
        sa.replay.accept(seq - 1)  # as if every earlier packet had arrived
    esp = aad[:4] + aad[-4:] + bytes.fromhex(vector.iv) + bytes.fromhex(vector.ct_tag)
    return sa, esp


@pytest.mark.parametrize("vector", DRAFT_MCGREW_GCM_TEST_01)
def test_draft_mcgrew_gcm_vectors_decapsulate(vector: Vector) -> None:
    sa, esp = _inbound_for(vector)
    plaintext = bytes.fromhex(vector.plaintext)
    pad_length = plaintext[-2]
    expected = (plaintext[: len(plaintext) - 2 - pad_length], plaintext[-1])
    assert sa.unprotect(esp, 0.0) == expected
    assert sa.replay.highest == int.from_bytes(bytes.fromhex(vector.aad)[4:], "big")
    # the same packet again is a replay, caught before any decryption
    assert sa.unprotect(esp, 0.0) == DropReason.REPLAY


@pytest.mark.parametrize("vector", DRAFT_MCGREW_GCM_TEST_01[:4])
def test_draft_vectors_tampered_fail_integrity(vector: Vector) -> None:
    sa, esp = _inbound_for(vector)
    for position in (0, 7, ESP_HEADER_SIZE, len(esp) - 1):  # SPI, seq, IV, tag
        forged = bytearray(esp)
        forged[position] ^= 0x40
        result = sa.unprotect(bytes(forged), 0.0)
        assert result in (DropReason.INTEGRITY, DropReason.REPLAY)
    assert sa.drops[DropReason.INTEGRITY] >= 3


def test_draft_vector_is_not_a_tunnel_mode_packet() -> None:
    # next header 1 (ICMP) is transport mode: refused by the tunnel-mode decapsulation
    sa, esp = _inbound_for(DRAFT_MCGREW_GCM_TEST_01[1])
    assert sa.decapsulate(esp, 0.0) == DropReason.MALFORMED
    assert sa.packets == 0


SCAPY_INNER = bytes.fromhex(
    "45000035000700003f1167a10a0100050a0200091388177000213b8073636170792063726f73"
    "732d636865636b207061796c6f6164"
)


@pytest.mark.parametrize(
    ("encryption", "integrity", "encr_key", "integ_key", "seq", "esp"),
    [
        (
            "aes-cbc-128",
            "sha256",
            bytes(range(16)),
            bytes(range(100, 132)),
            (1 << 32) | 7,
            "0a0b0c0d00000007c8c9cacbcccdcecfd0d1d2d3d4d5d6d7c57e554f94faa41379ccf4c076ae1d"
            "50d582a91f23d6c3aefb1efeb5c4e3269739814c49dae38388d3316d24cdbe9cd06b336eb24dd8"
            "d4afd41846f921c5a4247e1921938e152fe8c0b3eac18ca207ce",
        ),
        (
            "aes-cbc-256",
            "sha512",
            bytes(range(32)),
            bytes(range(64, 128)),
            42,
            "0a0b0c0d0000002a101112131415161718191a1b1c1d1e1f3f704603ca4279fddaca46c8fc6adf"
            "cea085e53342c1413ed057ce55f357c8be59fbb2efb3a07be3edcf05eac6fd2786434f93a6b4c2"
            "b7de43b67b26518c9ba75841fed8d961db7d66dbe89038f4be50f804ab56ccb5c7a0f05abed20f"
            "135af7",
        ),
        (
            "aes-gcm-256",
            "none",
            bytes(range(36)),
            b"",
            (2 << 32) | 3,
            "0a0b0c0d0000000300010203040506073a42aea2c6b71799db17c280989eac7f141bc18b853482"
            "061f793e51831aafde227d4700e8984eb50bfdff4fde5d2222fb269b373c46938b9acadba5d0b6"
            "d69fec76b9e0a0162138",
        ),
    ],
    ids=["cbc128-sha256-esn", "cbc256-sha512", "gcm256-esn"],
)
def test_scapy_made_packets_decapsulate(
    encryption: str, integrity: str, encr_key: bytes, integ_key: bytes, seq: int, esp: str
) -> None:
    encr, integ = encryption_named(encryption), integrity_named(integrity)
    sa = InboundSa(0x0A0B0C0D, encr, integ, encr_key, integ_key, esn=seq >> 32 > 0)
    sa.replay.accept(seq - 1)
    assert sa.decapsulate(bytes.fromhex(esp), 0.0) == SCAPY_INNER
    assert (sa.packets, sa.octets, sa.replay.highest) == (1, len(SCAPY_INNER), seq)
