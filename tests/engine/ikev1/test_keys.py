"""IKEv1 key material (RFC 2409 sections 5, 5.5 and appendix B) against published
known-answer data, and against the RFC formulas computed here with hmac/hashlib.

Sources of the known answers:

* NSS (nss-dev/nss) gtests/common/testvectors/ike-sha1-vectors.h and
  ike-sha256-vectors.h, the vectors of its `Pkcs11IkeTest`: entries 1-10 are NIST CAVP
  (SP 800-135 IKEv1 KDF) samples (SKEYID for pre-shared keys, SKEYID_d/a/e), entries
  11-16 NSS's own for the appendix B stretching and the quick mode KEYMAT expansion.
* RUB-NDS/IPsec-StateMachineExtractor
  src/test/java/de/rub/nds/ipsec/statemachineextractor/ike/v1/IKEv1HandshakeSessionSecretsTest.java:
  two recorded main mode handshakes (PSK "AAAA", AES-128, SHA-1, group 2) with their
  SKEYID, SKEYID_d/a/e, cipher key, phase 1 IV, HASH_R and an informational exchange's IV.

HASH_I, quick mode's HASH(1..3) and KEYMAT with an SPI have no published answer found:
they are computed independently below from RFC 2409's formulas (hmac, hashlib), never by
calling engine/ikev1/keys.py for the expected value.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from engine.crypto import EncrId, IntegId, encryption, integrity
from engine.ikev1 import keys
from engine.ikev1.constants import Phase1Hash, ProtocolId

SHA1, SHA256 = Phase1Hash.SHA1, Phase1Hash.SHA2_256
HASHLIB = {SHA1: hashlib.sha1, SHA256: hashlib.sha256}
AES128 = encryption(EncrId.AES_CBC, 128)
AES256 = encryption(EncrId.AES_CBC, 256)
h = bytes.fromhex


def rfc_prf(hash_id: int, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, HASHLIB[hash_id]).digest()


# ------------------------------------------------------------------ NIST / NSS vectors
# (hash, pre-shared key, Ni_b, Nr_b, SKEYID): NSS entry 5 of each file (NIST CAVP)
PSK_SKEYID = [
    (
        SHA1,
        "c0",
        "03a6f25a83c8c2a3",
        "9d958a6618f77e7f",
        "ab3be41bc62f2ef0c41a3076d58768be77fadd2e",
    ),
    (
        SHA256,
        "a0",
        "ead9ced494868f41",
        "f1aff4f425a94f18",
        "558a99b299773d267cf7c8ef073bf3b7af362c206c75a538403c5ef884d4cace",
    ),
]

# (hash, SKEYID, g^xy, CKY-I, CKY-R, SKEYID_d, SKEYID_a, SKEYID_e): NSS entries 2-4 (NIST)
SKEYID_DAE = [
    (
        SHA1,
        "707197817fb2d90cf54d1842606bdea59b9f4823",
        "8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb",
        "8c3bcd3a69831d7f",
        "d2d9a7ff4fbe95a7",
        "384be709a8a5e63c3ed160cfe3921c4b37d5b32d",
        "48b327575abe3adba0f279849e289022a13e2b47",
        "a4a415c8e0c38c0da847c356cc61c24df8025560",
    ),
    (
        SHA256,
        "750c5c94b9c2ec20b68033e024dadf0fa87e8b48c6561b21c72478451a06583d",
        "a1ff3dc6cf9b4c04709943cb4ca1f1789bcf360b03f1d027de3ae8ee039e9155",
        "6c6beb72631ddc3d",
        "b84e24b22cffbd14",
        "a4f7ca7de913814813e3312099e7c943bd293483f387532330237f1b20957310",
        "1d4b705746c43b0a6fcbb8db33983c0f24ff6f8b6543e3779fed227c6067f004",
        "03e6f16cd9ce9f64b5cdc5b34cca7163483ba5389a30afebef3d14640b0a815e",
    ),
]

# (hash, SKEYID_e, size, Ka): NSS entries 11-13 (appendix B stretching)
APPENDIX_B = [
    (
        SHA1,
        "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
        132,
        "933347a07de5782247dd36d1562ffe0eecade1eb4134165257e3af1000af8ae3f165063828cbb60d"
        "910b7db38fa3c7f62c4afaaf3203da065c841729853edb23e9e7ac8286ae65c8cb6c667d79268c0b"
        "d6705abb9131698eb822b1c1f9dd142fc7be2c1010ee0152e10195add98999c6b6d42c8fe9c1b134"
        "d56ad5f2c6f20e815bd25c52",
    ),
    (
        SHA1,
        "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
        40,
        "933347a07de5782247dd36d1562ffe0eecade1eb4134165257e3af1000af8ae3f165063828cbb60d",
    ),
    (SHA1, "63e81194946ebd05df7df5ebf5d8750056bf1f1d", 15, "63e81194946ebd05df7df5ebf5d875"),
    (
        SHA256,
        "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
        132,
        "b10fff32cbeaa1e7afe6ab0b191e0bd63cd524849a4b56019146d232a24cf9af6b89494d2a360b06"
        "825db8bb0324c15cecf47fc0bc99e39bf1171a7f4bf1733dc49ef64c642e73b054b2e82456e34fa3"
        "c822da475e27e403b3da3929da50e6aa9e7f9252c68fa069b4b0edd374e80d35378c4f5e8ec285a1"
        "b169c92bbb5353d05ba94165",
    ),
    (
        SHA256,
        "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
        32,
        "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
    ),
]

# (hash, SKEYID_d, size, KEYMAT): NSS entries 14-16, the "quick mode" expansion
# K1 = prf(K, seed), Kn = prf(K, Kn-1 | seed) with the one-octet seed 0x00 -- what
# keymat() builds from protocol 0, no SPI, no nonces and no PFS secret.
QUICK_EXPANSION = [
    (
        SHA1,
        "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
        132,
        "933347a07de5782247dd36d1562ffe0eecade1ebaeaa476a5f578c34a9b2b7101a621202f61db924"
        "c5ef9efa3bb2698095841603b7ac8a880329a927ecd4ad53a944b607a5ac2f3d154e2748c188d737"
        "0d76be83fc204fdacf0f66b99dd760ba619ffac65eda1420c8a936dac5a599afaf4043b29ef2b65d"
        "c042724355b550875316c6fd",
    ),
    (SHA1, "63e81194946ebd05df7df5ebf5d8750056bf1f1d", 15, "933347a07de5782247dd36d1562ffe"),
    (
        SHA256,
        "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a9d8ba6fe",
        132,
        "b10fff32cbeaa1e7afe6ab0b191e0bd63cd524849a4b56019146d232a24cf9af59f18ed9aabbb2db"
        "bafecf48d72a34a8f72fab2ff4f37e5c917288a78ce00933612e9531a7469995c7f7cc33c7627cac"
        "3efbc819330c4fe3bfa3788799630f37bcb74800d82bbebd17b1906e304a786f4f810c266c15be1a"
        "30576039c293272748d65966",
    ),
]


@pytest.mark.parametrize(("hash_id", "psk", "ni", "nr", "skeyid"), PSK_SKEYID)
def test_skeyid_of_a_pre_shared_key_matches_nist(
    hash_id: int, psk: str, ni: str, nr: str, skeyid: str
) -> None:
    derived = keys.derive_phase1_keys(
        keys.phase1_prf(hash_id), AES128, h(psk), h(ni), h(nr), b"\x01" * 32, b"i" * 8, b"r" * 8
    )
    assert derived.skeyid.hex() == skeyid


@pytest.mark.parametrize(("hash_id", "skeyid", "gxy", "cky_i", "cky_r", "d", "a", "e"), SKEYID_DAE)
def test_skeyid_d_a_e_match_nist(
    hash_id: int, skeyid: str, gxy: str, cky_i: str, cky_r: str, d: str, a: str, e: str
) -> None:
    """derive_phase1_keys starts from the PSK, and no PSK gives the NIST SKEYID: its prf
    answers the first call (SKEYID = prf(PSK, Ni | Nr)) with that SKEYID, and is the
    real HMAC for the chain SKEYID_d, _a, _e that follows."""
    prf = keys.phase1_prf(hash_id)
    calls: list[bytes] = []

    class FirstIsSkeyid:
        algorithm = prf.algorithm

        def __call__(self, key: bytes, data: bytes) -> bytes:
            calls.append(key)
            return h(skeyid) if len(calls) == 1 else prf(key, data)

    derived = keys.derive_phase1_keys(
        FirstIsSkeyid(),  # type: ignore[arg-type]
        AES128,
        b"psk",
        b"ni",
        b"nr",
        h(gxy),
        h(cky_i),
        h(cky_r),
    )
    assert (derived.skeyid_d.hex(), derived.skeyid_a.hex(), derived.skeyid_e.hex()) == (d, a, e)
    assert calls[1:4] == [h(skeyid)] * 3  # every one keyed by SKEYID


@pytest.mark.parametrize(("hash_id", "skeyid_e", "size", "ka"), APPENDIX_B)
def test_appendix_b_key_stretching_matches_nss(
    hash_id: int, skeyid_e: str, size: int, ka: str
) -> None:
    assert keys.stretch_key(keys.phase1_prf(hash_id), h(skeyid_e), size).hex() == ka


@pytest.mark.parametrize(("hash_id", "skeyid_d", "size", "keymat"), QUICK_EXPANSION)
def test_keymat_expansion_matches_nss(hash_id: int, skeyid_d: str, size: int, keymat: str) -> None:
    prf = keys.phase1_prf(hash_id)
    assert keys.keymat(prf, h(skeyid_d), 0, b"", b"", b"", size).hex() == keymat


# ------------------------------------------------------------------ RUB-NDS handshakes
RUB_SA_OFFER = h(
    "00000001000000010000002c01010001000000240101000080010007800e0080800200028004000280"
    "030001800b0001800c7080"
)
RUB_ID_R = h("010000000a00030a")
RUB = [
    {
        "cky_i": "7116900aa5c2880d",
        "cky_r": "047ad6f8b3d0abb7",
        "ni": "4654fdd74594982a",
        "nr": "3673e64987b4956dbb8b933399251a5abf88f557a723b802b345f838667e9a4e",
        "gxi": "75fb75db0749d4b15d9bb067b63399f790246dd7919d0c0a88fc34dd76eb9ad204e162b261"
        "914c0966a2d32d05178d4c0f0ec3817692fca675678f2fd2a6869188b943e33ad44cc859a5af98d6"
        "d5332c538cff4174ee737c8624de910cc40bd953f7940d1b2d8a681cee03c85199fbe773bfa100ff"
        "ea5fcb82eed25a399b0b3e",
        "gxr": "2096a31ff922e5224d9d19f06a41e2d9aebe1180d4e5cbc3d6ea166e2b8810d5ddd048375025"
        "ae9bf895ad40c508cd8b9398bded0d00ae7e77c1a1eb31930495106892630152a926a45037606cda46"
        "51340082fc10558786b4d8c4e6d72222d580d9a30d9c3b7fe9c348a6eadc5e79a24fe4b4364297b5ff"
        "71914ef8a6980e73",
        "gxy": "19B67B23EB5F792EC9D7E11D16501CA20F2A2D0B230D525CD824DFB16867B515DC2CE9560B2"
        "0B2149BFB360C1662C26A5AD7FE1FAA86E66213238C80B2ED46CCB821BF5043093027EB6E32C71685A"
        "093306DF20C24190C7F93947FA21E56D10E4C5B7063B2B4DC1747F1DF0BD46975D1825EEDE335E3A"
        "CBAD71A063CECF866C7",
        "skeyid": "49856bc53f30db8ce55f5befae9e42431279550c",
        "d": "e5d7368180a8766f09c90cc9ac15182d3cd492ee",
        "a": "92de109fe83047c95812b600820f1476cd24aa49",
        "e": "de5d24679ad21491e63e2d7173017769cd7b9bc5",
        "ka": "de5d24679ad21491e63e2d7173017769",
        "iv": "139568606df1337cbcbc8fa7d201c8a8",
        "hash_r": "ba8c49cfd796bdc78e63ff6b5a858fc289dad933",
        "info_iv": None,
    },
    {
        "cky_i": "dc3f1d7452b2c376",
        "cky_r": "5f17969262b7829b",
        "ni": "18eeeee5b29ef938",
        "nr": "cf6306dcc088a94c1983462f97a3128ecdefbe4a1925cffddedd526215648099",
        "gxi": "a8b04c567a6bb3ab17da6a07f3f1667e6c70fb992ffe0a01dccc0877214c1936cc13a66aa97e"
        "4cd9ebfd61f6a7119859bba763255b54364d37a59f969d230f877cce6d77ca843e5f0cb24e354d51a4"
        "29aabf75238f5a17ef5801f3b02d9f35dcd3562c35e6aeff67e9c71961f9313b6306c2c1adb428d6e7"
        "0e713f894d9b7eda",
        "gxr": "7947cdf90ed5f07ca325c9c9e6de95a82e5728b2e1daf44866100723ad2bed0f09e8383cf89c"
        "7645c805c2942d4aebfa1b6c351a9666faa1f4988c3a557cb411a3b73fd3e094144e646ef5eb85118a"
        "61f06c6359e0f19b43a99720b49ae322155d462004be5e09140cfc843e0622c6735bc90ab730577fc3"
        "11b23b25a8d283fa",
        "gxy": "9FC4267E99D40EE7AA19492615990548621EBED0AE925A0810C2F4BF30A100F6B13201BAC45"
        "95281E5F2FB6FAF56F9CDA292991B40B41A48CFBA7713140DE1784DBD525C0CB88A4D3B4B46D7CABD"
        "539CDD1E79EDE000420CFFE9ED8BCA0B2FE09208D9D3145F55F68CE0E3C6C479616B64F3EB451CD4C"
        "E268310BCDC766BA8A2",
        "skeyid": "505e91ca4127fe30d9cad15f6176e8c504d2d612",
        "d": "571d06b00eda6d375310377f3b3e0994a936e0f2",
        "a": "1de7b88b63deea0bb41374c6f9514f64b894e083",
        "e": "84faf4df7dcec32ac45f13a485e732632160f596",
        "ka": "84faf4df7dcec32ac45f13a485e73263",
        "iv": "0e09ed33bac3584d1d10762a9bd026c1",
        "hash_r": "ddb2cf1067913e83ea6633b8b174bc8ce559b9d1",
        "info_iv": ("d8029d42", "0bf60ed4c34fea8a12077a204dfd413f"),
    },
]


@pytest.mark.parametrize("case", RUB, ids=["handshake", "informational"])
def test_recorded_main_mode_handshakes(case: dict) -> None:
    prf = keys.phase1_prf(SHA1)
    derived = keys.derive_phase1_keys(
        prf,
        AES128,
        b"AAAA",
        h(case["ni"]),
        h(case["nr"]),
        h(case["gxy"]),
        h(case["cky_i"]),
        h(case["cky_r"]),
    )
    assert derived.skeyid.hex() == case["skeyid"]
    assert derived.skeyid_d.hex() == case["d"]
    assert derived.skeyid_a.hex() == case["a"]
    assert derived.skeyid_e.hex() == case["e"]
    assert derived.key.hex() == case["ka"]
    iv = keys.phase1_iv(prf, h(case["gxi"]), h(case["gxr"]), AES128.block_size)
    assert iv.hex() == case["iv"]
    digest = keys.hash_r(
        prf,
        derived.skeyid,
        h(case["gxi"]),
        h(case["gxr"]),
        h(case["cky_i"]),
        h(case["cky_r"]),
        RUB_SA_OFFER,
        RUB_ID_R,
    )
    assert digest.hex() == case["hash_r"]
    if case["info_iv"]:
        message_id, expected = case["info_iv"]
        assert keys.exchange_iv(prf, iv, int(message_id, 16), 16).hex() == expected


# ------------------------------------------------------------------ RFC formulas, here
def test_hash_i_is_the_rfc_formula() -> None:
    """HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b), and HASH_R
    swaps the halves and the cookies (RFC 2409 section 5)."""
    case = RUB[0]
    prf = keys.phase1_prf(SHA1)
    skeyid = h(case["skeyid"])
    gxi, gxr, ci, cr = h(case["gxi"]), h(case["gxr"]), h(case["cky_i"]), h(case["cky_r"])
    id_i = h("011101f40a000001")
    expected = rfc_prf(SHA1, skeyid, gxi + gxr + ci + cr + RUB_SA_OFFER + id_i)
    assert keys.hash_i(prf, skeyid, gxi, gxr, ci, cr, RUB_SA_OFFER, id_i) == expected
    assert keys.hash_r(prf, skeyid, gxi, gxr, ci, cr, RUB_SA_OFFER, id_i) != expected


def test_protected_hashes_are_the_rfc_formulas() -> None:
    """HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest),
    HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409 section 5.5)."""
    prf = keys.phase1_prf(SHA256)
    skeyid_a, mid, ni, nr, rest = b"\x11" * 32, 0x0A0B0C0D, b"\x22" * 32, b"\x33" * 32, b"body"
    mid_b = mid.to_bytes(4, "big")
    assert keys.protected_hash(prf, skeyid_a, mid, rest) == rfc_prf(SHA256, skeyid_a, mid_b + rest)
    assert keys.quick_hash_2(prf, skeyid_a, mid, ni, rest) == rfc_prf(
        SHA256, skeyid_a, mid_b + ni + rest
    )
    assert keys.quick_hash_3(prf, skeyid_a, mid, ni, nr) == rfc_prf(
        SHA256, skeyid_a, b"\x00" + mid_b + ni + nr
    )


@pytest.mark.parametrize("pfs", [b"", b"\x44" * 256], ids=["no-pfs", "pfs"])
def test_keymat_for_an_esp_sa_is_the_rfc_formula(pfs: bytes) -> None:
    """KEYMAT = K1 | K2 ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
    Kn = prf(SKEYID_d, Kn-1 | the same seed); enough for AES-256 and HMAC-SHA2-256."""
    prf = keys.phase1_prf(SHA1)
    skeyid_d, spi, ni, nr = b"\x55" * 20, b"\xca\xfe\x00\x01", b"\x66" * 16, b"\x77" * 16
    seed = pfs + bytes((ProtocolId.ESP,)) + spi + ni + nr
    k1 = rfc_prf(SHA1, skeyid_d, seed)
    k2 = rfc_prf(SHA1, skeyid_d, k1 + seed)
    k3 = rfc_prf(SHA1, skeyid_d, k2 + seed)
    k4 = rfc_prf(SHA1, skeyid_d, k3 + seed)
    got = keys.keymat(prf, skeyid_d, ProtocolId.ESP, spi, ni, nr, 64, pfs)
    assert got == (k1 + k2 + k3 + k4)[:64]
    encr_key, integ_key = keys.split_esp_keys(got, AES256, integrity(IntegId.HMAC_SHA2_256_128))
    assert (encr_key, integ_key) == (got[:32], got[32:64])


def test_appendix_b_is_used_when_skeyid_e_is_short() -> None:
    """AES-256 under SHA-1: 20 octets of SKEYID_e stretched to 32 (K1 = prf(SKEYID_e, 0),
    K2 = prf(SKEYID_e, K1)), the cipher key of derive_phase1_keys."""
    prf = keys.phase1_prf(SHA1)
    derived = keys.derive_phase1_keys(
        prf, AES256, b"k", b"n" * 16, b"m" * 16, b"g" * 128, b"i" * 8, b"r" * 8
    )
    k1 = rfc_prf(SHA1, derived.skeyid_e, b"\x00")
    k2 = rfc_prf(SHA1, derived.skeyid_e, k1)
    assert derived.key == (k1 + k2)[:32]


def test_phase1_keys_never_show_in_repr() -> None:
    derived = keys.derive_phase1_keys(
        keys.phase1_prf(SHA1), AES128, b"AAAA", b"n" * 8, b"m" * 8, b"g" * 128, b"i" * 8, b"r" * 8
    )
    text = repr(derived)
    for value in (derived.skeyid, derived.skeyid_d, derived.skeyid_a, derived.skeyid_e):
        assert value.hex() not in text and repr(value) not in text
