"""PRFs and prf+: RFC 4868, RFC 2202 (HMAC-MD5, HMAC-SHA1) and NIST CAVP (SP 800-135)
IKEv2 vectors."""

from __future__ import annotations

import hmac

import pytest

from engine.crypto.algorithms import PrfId
from engine.crypto.errors import CryptoError, UnsupportedAlgorithm
from engine.crypto.prf import MAX_PRF_PLUS_BLOCKS, prf

HI_THERE = b"Hi There"
JEFE_DATA = b"what do ya want for nothing?"
LARGER_KEY_DATA = b"Test Using Larger Than Block-Size Key - Hash Key First"
LARGER_BOTH_DATA = (
    b"This is a test using a larger than block-size key and a larger than block-size data."
    b" The key needs to be hashed before being used by the HMAC algorithm."
)
RFC2202_LARGER_BOTH = b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"

# RFC 4868 section 2.7.1, test cases PRF-1 to PRF-6 (the same data as RFC 4231).
# (key, data, {prf: expected output})
RFC4868_PRF = [
    (
        b"\x0b" * 20,
        HI_THERE,
        {
            PrfId.HMAC_SHA2_256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            PrfId.HMAC_SHA2_384: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
            "faea9ea9076ede7f4af152e8b2fa9cb6",
            PrfId.HMAC_SHA2_512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        },
    ),
    (
        b"Jefe",
        JEFE_DATA,
        {
            PrfId.HMAC_SHA2_256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            PrfId.HMAC_SHA2_384: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649",
            PrfId.HMAC_SHA2_512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        },
    ),
    (
        b"\xaa" * 20,
        b"\xdd" * 50,
        {
            PrfId.HMAC_SHA2_256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            PrfId.HMAC_SHA2_384: "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
            "2a5ab39dc13814b94e3ab6e101a34f27",
            PrfId.HMAC_SHA2_512: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
            "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
        },
    ),
    (
        bytes(range(1, 26)),
        b"\xcd" * 50,
        {
            PrfId.HMAC_SHA2_256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            PrfId.HMAC_SHA2_384: "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
            "6801dd23c4a7d679ccf8a386c674cffb",
            PrfId.HMAC_SHA2_512: "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
            "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
        },
    ),
    (
        b"\xaa" * 131,
        LARGER_KEY_DATA,
        {
            PrfId.HMAC_SHA2_256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            PrfId.HMAC_SHA2_384: "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
            "0c2ef6ab4030fe8296248df163f44952",
            PrfId.HMAC_SHA2_512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
            "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        },
    ),
    (
        b"\xaa" * 131,
        LARGER_BOTH_DATA,
        {
            PrfId.HMAC_SHA2_256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            PrfId.HMAC_SHA2_384: "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
            "a678cc31e799176d3860e6110c46523e",
            PrfId.HMAC_SHA2_512: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
            "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
        },
    ),
]


SHA2_PRFS = [PrfId.HMAC_SHA2_256, PrfId.HMAC_SHA2_384, PrfId.HMAC_SHA2_512]


@pytest.mark.parametrize(("key", "data", "expected"), RFC4868_PRF)
@pytest.mark.parametrize("prf_id", SHA2_PRFS)
def test_rfc4868_prf_vectors(
    key: bytes, data: bytes, expected: dict[int, str], prf_id: int
) -> None:
    assert prf(prf_id)(key, data) == bytes.fromhex(expected[prf_id])


# RFC 2202 sections 2 (HMAC-MD5) and 3 (HMAC-SHA1), test cases 1-7: (key, data, digest).
RFC2202_MD5 = [
    (b"\x0b" * 16, HI_THERE, "9294727a3638bb1c13f48ef8158bfc9d"),
    (b"Jefe", JEFE_DATA, "750c783e6ab0b503eaa86e310a5db738"),
    (b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6"),
    (bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a75164746ffaa79"),
    (b"\x0c" * 16, b"Test With Truncation", "56461ef2342edc00f9bab995690efd4c"),
    (b"\xaa" * 80, LARGER_KEY_DATA, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
    (b"\xaa" * 80, RFC2202_LARGER_BOTH, "6f630fad67cda0ee1fb1f562db3aa53e"),
]
RFC2202_SHA1 = [
    (b"\x0b" * 20, HI_THERE, "b617318655057264e28bc0b6fb378c8ef146be00"),
    (b"Jefe", JEFE_DATA, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    (b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (bytes(range(1, 26)), b"\xcd" * 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    (b"\x0c" * 20, b"Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    (b"\xaa" * 80, LARGER_KEY_DATA, "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    (b"\xaa" * 80, RFC2202_LARGER_BOTH, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
]


@pytest.mark.parametrize(
    ("prf_id", "key", "data", "expected"),
    [(PrfId.HMAC_MD5, *v) for v in RFC2202_MD5] + [(PrfId.HMAC_SHA1, *v) for v in RFC2202_SHA1],
)
def test_rfc2202_prf_vectors(prf_id: int, key: bytes, data: bytes, expected: str) -> None:
    assert prf(prf_id)(key, data) == bytes.fromhex(expected)


# NIST CAVP SP 800-135 IKEv2 KDF vectors, as carried by strongSwan
# (src/libstrongswan/plugins/test_vectors/test_vectors/kdf_prf.c and kdf_prf_plus.c,
# the "_1" cases): SKEYSEED = prf(Ni | Nr, g^ir), DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
CAVP_IKEV2 = {
    PrfId.HMAC_SHA2_256: {
        "gir": "42968e5d0ccc3cfc5a3e4bc1bba370cea1fae0d54c49ccba34b2bee804beeb2e"
        "9e8c57a4e01bd45102cf2433aacc6cfec06792f363e5170e6aa6650274e90664"
        "8e449d27a8f00b5b44261982c9835c748a751ec5138eaacc5e025661339538a6"
        "1bf418e454699e19c32db8d9ce5dd86b220f1e89afc5872e68be36cb1a0c8866",
        "ni_nr": "ed80dc79912c32a935fb6d1a3feac078",
        "spis": "47c1858efc932ea4606fd05609624002",
        "skeyseed": "37fde90b81d63692620f67367b62092e3efdc6a03509137d731004767ff35010",
        "dkm": "63d018a08f7a29daa7d1f92cb63f45fa39bbaf5e5f1a78139613bb891e3e6bf9"
        "d0448f7c74e05b4c1a25c0b61e62c875e852f287e192d4ae536112db51972164"
        "00bd5e123470efc15f53161865fe8b19a1416518a157d651ecd2caddab6a9eae"
        "6a27a55af088218d5156edaa9789f934d9836ed43edffda553822202ff9f7d48"
        "60ca72e0",
    },
    PrfId.HMAC_SHA2_384: {
        "gir": "4df040b70978629c49437cff41a0d46cbea68c8d75b370ffc11d7b387144ea83"
        "bb5903fbb92e473df50a9b19ea43e9c2f3da9a849c03864276c6f264ecf02a60"
        "d40ba65c06656b633f02a87427e928eb66a2dabd9dc05744717bcaf7ae78c296"
        "872f5c48d1a8120c2155b70c565ce271998e3e44af263d487ea3ba7f56132d7d",
        "ni_nr": "d672b0bc852829b93509f3b724706364",
        "spis": "0f9a016d7b22223c85f710daf8b982d8",
        "skeyseed": "54436a9ea95d6ff79b967f4b07f6de976a376e8ea26aa9574709afc60243c9c1"
        "41da4ca0e158e627a75ea87f6feb07ef",
        "dkm": "10b00a654643b3b985764f86e23ef62431122fcc96de16e338a372bee49391db"
        "1f83a7358c080380abbf4af47cdb83b9530343168f7dbc9221260e1546c6b383"
        "e2235d2705a727f0b41aebf6a1b4c61cb460660152a17ba74c20d5191ba68417"
        "94945270d829587b7f3294639ea7b77149e1d07230ac16e0cd5ab236fa3212bd"
        "569ee70f",
    },
    PrfId.HMAC_SHA2_512: {
        "gir": "1e3b007d2da913ca60ecc98c25a22db08073d5c35c11b2524b298a922b6abfe6"
        "acf7359db66ae5f85d67aacff686419cd8666d05ae7977cefad7f54dd8e312a8"
        "e8e5e0370f88142fbdd659dd6fde22bdd531f5402881a8de85c1024e595ec93c"
        "575618af7fd3dbac7982919078d71cc13eff1910a032750e1ff428675de189ee",
        "ni_nr": "df7931db9b429e10b8aa8e4d46042393",
        "spis": "9ba40af9157f47925383c7cd3d1046e6",
        "skeyseed": "daf9bd6f2f912da553867966af386e67909a8df0ca7e84b83b355cb7d7f1026f"
        "17d8ea34b5d57fd0d1ba389528fca1e81d1c8ce511b28a2458241143fee30ccc",
        "dkm": "919a75deaeccbd393bebc89615f8a215edb7073b2319d86740221eee7a2deb92"
        "509044d7e61fcb1bf9676b3881c7ced49e6bba1549da3113601677a2445d91ac"
        "13a597335782dd3a9cf496d9e19b932f27dd35e36f8070d232d0a3b3f4c4a0b4"
        "ba4470778dc090f31f52ab1b6d81e4c7dfb35063ad96c327adcdbde714cc9a6b"
        "5ef049b8",
    },
}


@pytest.mark.parametrize("prf_id", list(CAVP_IKEV2))
def test_cavp_skeyseed_and_prf_plus(prf_id: int) -> None:
    v = {k: bytes.fromhex(x) for k, x in CAVP_IKEV2[prf_id].items()}
    p = prf(prf_id)
    skeyseed = p(v["ni_nr"], v["gir"])
    assert skeyseed == v["skeyseed"]
    assert p.plus(skeyseed, v["ni_nr"] + v["spis"], len(v["dkm"])) == v["dkm"]


def test_prf_plus_rfc4868_derived_vector() -> None:
    # strongSwan kdf_prf_plus.c "prf_plus_sha256_old", derived from RFC 4868 test case PRF-1.
    expected = bytes.fromhex(
        "b9bdc08988b4c2b75aa93e596ac84205fa2ddde1bf7a2572067b00e14b237732"
        "830509981ad2f94a8c32a47daa2255b660c436347ae756a6edc023477d809590"
        "e682f61d9c04b06b4ad971a34c8147fa66792ff1434b93c722b32e12f48832eb"
        "c15ce2369ce71fe9b7b81e5704c14d0f5280a6ec626e992d7a9f"
    )
    assert prf(PrfId.HMAC_SHA2_256).plus(b"\x0b" * 20, HI_THERE, len(expected)) == expected


@pytest.mark.parametrize("prf_id", list(PrfId))
def test_prf_plus_definition(prf_id: int) -> None:
    # RFC 7296 section 2.13, spelled out with the standard library.
    p = prf(prf_id)
    key, seed = b"k" * 7, b"seed"
    digest = p.algorithm.name
    t1 = hmac.digest(key, seed + b"\x01", digest)
    t2 = hmac.digest(key, t1 + seed + b"\x02", digest)
    t3 = hmac.digest(key, t2 + seed + b"\x03", digest)
    assert p.plus(key, seed, 3 * p.output_size) == t1 + t2 + t3
    assert p.plus(key, seed, 10) == t1[:10]
    assert p.plus(key, seed, 0) == b""


@pytest.mark.parametrize("prf_id", list(PrfId))
def test_prf_plus_block_limit(prf_id: int) -> None:
    p = prf(prf_id)
    limit = MAX_PRF_PLUS_BLOCKS * p.output_size
    assert len(p.plus(b"key", b"seed", limit)) == limit
    with pytest.raises(CryptoError):
        p.plus(b"key", b"seed", limit + 1)
    with pytest.raises(CryptoError):
        p.plus(b"key", b"seed", -1)


@pytest.mark.parametrize(
    ("prf_id", "name", "size"),
    [
        (PrfId.HMAC_MD5, "hmac-md5", 16),
        (PrfId.HMAC_SHA1, "hmac-sha1", 20),
        (PrfId.HMAC_SHA2_256, "hmac-sha2-256", 32),
        (PrfId.HMAC_SHA2_384, "hmac-sha2-384", 48),
        (PrfId.HMAC_SHA2_512, "hmac-sha2-512", 64),
    ],
)
def test_prf_attributes(prf_id: int, name: str, size: int) -> None:
    p = prf(int(prf_id))
    assert (p.transform_id, p.name, p.output_size, p.key_size) == (prf_id, name, size, size)
    assert p is prf(prf_id)


@pytest.mark.parametrize("prf_id", [0, 3, 4, 8, 9])
def test_unsupported_prf(prf_id: int) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        prf(prf_id)
