"""Diffie-Hellman groups: published vectors, invalid public values, both MODP paths, the
MODP primes checked against their RFC definitions."""

from __future__ import annotations

import os
import sys
import warnings

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.crypto import modp
from engine.crypto.algorithms import DhId
from engine.crypto.dh import STRONG_DH_GROUPS, SUPPORTED_DH_GROUPS, RandomBytes, dh_group
from engine.crypto.ecp import _CURVES, EcpGroup
from engine.crypto.errors import CryptoError, InvalidPublicValue, UnsupportedAlgorithm
from engine.crypto.modp import FFDH_AVAILABLE, PARAMETERS, ModpGroup


def feed(*chunks: bytes) -> RandomBytes:
    """A random source that hands out exactly these chunks, in order."""
    queue = list(chunks)

    def random_bytes(size: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == size
        return chunk

    return random_bytes


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# --- ECP: RFC 5903 section 8 (8.1 P-256, 8.2 P-384, 8.3 P-521) -------------------------

RFC5903 = {
    DhId.ECP_256: {
        "i": "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
        "gix": "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180",
        "giy": "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
        "r": "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
        "grx": "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63",
        "gry": "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
        "girx": "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE",
    },
    DhId.ECP_384: {
        "i": "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F16"
        "0647B67414DCE655E35B538041E649EE3FAEF896783AB194",
        "gix": "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E3"
        "1634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA",
        "giy": "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144AD"
        "A024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
        "r": "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060"
        "855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
        "grx": "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D"
        "83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571",
        "gry": "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416"
        "DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
        "girx": "11187331C279962D93D604243FD592CB9D0A926F422E4718"
        "7521287E7156C5C4D603135569B9E9D09CF5D4A270F59746",
    },
    DhId.ECP_521: {
        "i": "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A0"
        "95AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D4A52",
        "gix": "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBE"
        "E1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7F4601723C4195D176CED3E",
        "giy": "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10A"
        "D8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507438BF01BEB6CA3926F9582",
        "r": "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E"
        "9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB151685EB9",
        "grx": "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A21"
        "9B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D0433CED2B6171640012D9460F",
        "gry": "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87"
        "220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732296579AB44FCD17F0FC56A",
        "girx": "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04"
        "D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3DDEA",
    },
}


@pytest.mark.parametrize("group_id", list(RFC5903))
def test_ecp_rfc5903_vectors(group_id: int) -> None:
    v = {k: h(x) for k, x in RFC5903[group_id].items()}
    group = dh_group(group_id)
    initiator = group.generate(feed(v["i"]))
    responder = group.generate(feed(v["r"]))
    assert initiator.public == v["gix"] + v["giy"]
    assert responder.public == v["grx"] + v["gry"]
    assert initiator.shared_secret(responder.public) == v["girx"]
    assert responder.shared_secret(initiator.public) == v["girx"]
    assert len(v["girx"]) == group.secret_length
    assert len(initiator.public) == group.public_length


@pytest.mark.parametrize("group_id", list(_CURVES))
def test_ecp_orders_are_right(group_id: int) -> None:
    # (n-1)G = -G: same x as G, other y. Catches a mistyped order constant.
    curve, _, order = _CURVES[group_id]
    one = ec.derive_private_key(1, curve).public_key().public_numbers()
    minus_one = ec.derive_private_key(order - 1, curve).public_key().public_numbers()
    assert (minus_one.x, minus_one.y) != (one.x, one.y)
    assert minus_one.x == one.x


def test_ecp_redraws_out_of_range_private_values() -> None:
    v = RFC5903[DhId.ECP_256]
    group = dh_group(DhId.ECP_256)
    pair = group.generate(feed(bytes(32), b"\xff" * 32, h(v["i"])))
    assert pair.public == h(v["gix"] + v["giy"])


def test_ecp_masks_bits_above_the_order() -> None:
    v = RFC5903[DhId.ECP_521]
    private = bytearray(h(v["i"]))
    private[0] |= 0xFE  # bits 521..527 are masked off, so the key is unchanged
    pair = dh_group(DhId.ECP_521).generate(feed(bytes(private)))
    assert pair.public == h(v["gix"] + v["giy"])


@pytest.mark.parametrize("group_id", list(RFC5903))
def test_ecp_rejects_a_point_off_the_curve(group_id: int) -> None:
    v = RFC5903[group_id]
    pair = dh_group(group_id).generate(feed(h(v["i"])))
    y = int(v["gry"], 16) + 1
    bad = h(v["grx"]) + y.to_bytes(len(h(v["gry"])), "big")
    with pytest.raises(InvalidPublicValue):
        pair.shared_secret(bad)
    with pytest.raises(InvalidPublicValue):
        pair.shared_secret(bytes(len(bad)))


@pytest.mark.parametrize("group_id", SUPPORTED_DH_GROUPS)
def test_wrong_length_is_refused(group_id: int) -> None:
    group = dh_group(group_id)
    pair = group.generate(os.urandom)
    peer = group.generate(os.urandom).public
    for bad in (b"", peer[:-1], peer + b"\x00", b"\x04" + peer):
        with pytest.raises(InvalidPublicValue):
            pair.shared_secret(bad)


def test_unknown_ecp_group() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        EcpGroup(DhId.CURVE25519)


# --- Curve25519 ------------------------------------------------------------------------

# RFC 7748 section 6.1: Alice and Bob.
ALICE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
BOB = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
ALICE_BOB_SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


def test_x25519_rfc7748_section_6_1() -> None:
    group = dh_group(DhId.CURVE25519)
    alice = group.generate(feed(h(ALICE)))
    bob = group.generate(feed(h(BOB)))
    assert alice.public == h(ALICE_PUBLIC)
    assert bob.public == h(BOB_PUBLIC)
    assert alice.shared_secret(bob.public) == h(ALICE_BOB_SHARED)
    assert bob.shared_secret(alice.public) == h(ALICE_BOB_SHARED)


# RFC 7748 section 5.2: scalar, input u-coordinate, output u-coordinate.
RFC7748_5_2 = [
    (
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ),
    (
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    ),
]


@pytest.mark.parametrize(("scalar", "u", "expected"), RFC7748_5_2)
def test_x25519_rfc7748_section_5_2(scalar: str, u: str, expected: str) -> None:
    pair = dh_group(DhId.CURVE25519).generate(feed(h(scalar)))
    assert pair.shared_secret(h(u)) == h(expected)


def test_x25519_rfc8031_example() -> None:
    # RFC 8031's numerical example, as carried in strongSwan's
    # src/libstrongswan/plugins/test_vectors/test_vectors/curve25519.c (curve25519_2).
    group = dh_group(DhId.CURVE25519)
    i = group.generate(feed(h("751fb4308655b476b6789b7325f9ea8cddd16a58533ff6d9e60009464a5f9d94")))
    r = group.generate(feed(h("0a54645253290d60ddadd0e030bacd9e5501efdc220755a1e978f1b839a05688")))
    assert i.public == h("48d5ddd4061257ba166fa3f9bbdb74f1a4e81c089384fa77f790709f0dfbc766")
    assert r.public == h("0be7c1f5aad87d7e448662673298a443478b859745179eaf564c79c0ef6eee25")
    shared = h("c74950607a12327f3204d94b6825bfb068b7f8319a9e3708ed3d43ce8130c950")
    assert i.shared_secret(r.public) == shared
    assert r.shared_secret(i.public) == shared


@pytest.mark.parametrize("low_order", [bytes(32), b"\x01" + bytes(31)])
def test_x25519_low_order_point_gives_invalid_public_value(low_order: bytes) -> None:
    pair = dh_group(DhId.CURVE25519).generate(os.urandom)
    with pytest.raises(InvalidPublicValue):
        pair.shared_secret(low_order)


def test_repr_hides_the_private_key() -> None:
    pair = dh_group(DhId.CURVE25519).generate(feed(h(ALICE)))
    text = repr(pair)
    assert "31" in text
    assert ALICE not in text
    assert repr(h(ALICE)) not in text
    assert "_key" not in text


# --- MODP group 14 -------------------------------------------------------------------

BACKENDS = [
    pytest.param(True, id="ffdh", marks=pytest.mark.skipif(not FFDH_AVAILABLE, reason="no FFDH")),
    pytest.param(False, id="pow"),
]


@pytest.mark.parametrize("use_ffdh", BACKENDS)
def test_modp_two_parties_agree(use_ffdh: bool) -> None:
    group = ModpGroup(use_ffdh=use_ffdh)
    assert group.uses_ffdh is use_ffdh
    a = group.generate(os.urandom)
    b = group.generate(os.urandom)
    assert len(a.public) == len(b.public) == 256
    secret = a.shared_secret(b.public)
    assert len(secret) == 256
    assert secret == b.shared_secret(a.public)


@pytest.mark.parametrize("use_ffdh", BACKENDS)
@pytest.mark.parametrize(
    "y",
    [0, 1, modp.P - 1, modp.P, modp.P + 1, (1 << 2048) - 1],
    ids=["0", "1", "p-1", "p", "p+1", "2^2048-1"],
)
def test_modp_rejects_values_outside_the_group(use_ffdh: bool, y: int) -> None:
    pair = ModpGroup(use_ffdh=use_ffdh).generate(os.urandom)
    with pytest.raises(InvalidPublicValue):
        pair.shared_secret(y.to_bytes(256, "big"))


@pytest.mark.skipif(not FFDH_AVAILABLE, reason="cryptography has no finite-field DH")
def test_modp_pow_fallback_matches_openssl() -> None:
    seeds = [os.urandom(32) for _ in range(4)]
    fast = [ModpGroup(use_ffdh=True).generate(feed(s)) for s in seeds[:2]]
    slow = [ModpGroup(use_ffdh=False).generate(feed(s)) for s in seeds[:2]]
    assert [p.public for p in fast] == [p.public for p in slow]
    assert fast[0].shared_secret(slow[1].public) == slow[0].shared_secret(fast[1].public)


@pytest.mark.parametrize("use_ffdh", BACKENDS)
def test_modp_strongswan_vector(use_ffdh: bool) -> None:
    # strongSwan's self-generated MODP-2048 vector (src/libstrongswan/plugins/test_vectors/
    # test_vectors/modp.c, modp2048): two 384-bit exponents, hence exponent_size=48.
    seed = h(
        "af3bfd3862caa11774ce2b74840807c1de5cd6a7619bb3a0c7af39eedaa6eb89"
        "e2e9c144b3625b2731879cb58fa3766d77a48e4772e23e284ce4af81399dcd58"
        "9beb7cefbcc9d196f06dcfdfc3a88e3b4c1c82befec0e64ba495ccde329936ce"
    )
    pub_i = h(
        "1a27c5a7237ae8fe0a71c0af6494faeccdd4a5031d47a1a6b7162dfcdf03bb17"
        "b7bb089bd652a5f31b3661bb114d7c48d83d244f46db64870c9c8327f1a830ab"
        "f531e518dd521a2e94e7061e944209ba5331012b3dff00849eaab58c7c7af152"
        "65210fbcf0f87b9dd932f8ba4e9a9f91b63294530a1200b88b3a03e1a0c7fd34"
        "deec6fad501ede06ce7ec9e291d47b69b3a4b61bb08763b6d46bfbdab97bdece"
        "a0ff09a872221fb4b6ccca6b5c6faad8eb873b9a2f39b63e62cfadd47607e68e"
        "2c290583f7268fb43fc00a7dc8810ecdac1a59bd1b477aaf41cb4b24ada3e5f7"
        "b8cb986f1ae476afc7677aa62570a1b1838dda26be7863ee2f40b5e538a4e181"
    )
    pub_r = h(
        "667282318d65cb05cd323c25091e664cc75a3a20c014b2f6389d3b27f5c1e908"
        "e0d40ff8552bd587752550302285b49f75f8ffaec937fb2e69c8150f88d6508b"
        "f0fb1f16e9676f5ecf718f874f3d8de3c8688749dbcf1affd4d62ff9ea5d9e30"
        "35b2ce4a6eae281c408fc8084ae235d998a037610a8cb48c878cd0635fa1369f"
        "c90b864c532367384597fdeefdb6742b006adedae2015bc4ce2f9c5451c9636a"
        "16ed7d10b4e40d825b50aa7633a0e8fb813bebc049f7ff6a71ecfb14e880f509"
        "d38b571a809808a496b451b5b5567a3608b01a22e4998355f181b879de262304"
        "f29de142ff5e52cc564f3a2d1e84a0c33d8f3da7bf6412b3f018e00d90fa5b94"
    )
    shared = h(
        "26f9e8457cf2d7d56dd819c2a867d7c3a90aa2b944e20b8bded3a5bf91aa1ff8"
        "1a7ea89d524c365f3823510835cd8644c4d5dacf893e610d2c1a140616d1c8c1"
        "d35f46de2c5faad9aecec6b677acd984098142a8aa0c8542e9ac98b3bc7b577c"
        "59b8ec53346e1567a90039ac92b224635ab216731b06353925642c330a201ba4"
        "b31284a9515860f35e9308f5515a779984fbd9f5ce4177db78d1cb0384b63c73"
        "9c6d744ad7a700b95a531b29f3b744ed38e69aee67072c45a91cee6b14215e04"
        "f27c31358c86dce448d60a223bdc554edaa3e4072ef603a0f4619f8db39cec29"
        "1c860174155d8abf9e1082931df58ed9ee9c1215dd2393de02f5c1767f070e28"
    )
    group = ModpGroup(use_ffdh=use_ffdh, exponent_size=48)
    i = group.generate(feed(seed[:48]))
    r = group.generate(feed(seed[48:]))
    assert i.public == pub_i
    assert r.public == pub_r
    assert i.shared_secret(r.public) == shared
    assert r.shared_secret(i.public) == shared


def test_modp_default_uses_openssl_when_available() -> None:
    assert dh_group(DhId.MODP_2048).uses_ffdh is FFDH_AVAILABLE  # type: ignore[attr-defined]


@pytest.mark.skipif(not FFDH_AVAILABLE, reason="cryptography has no finite-field DH")
def test_modp_ffdh_emits_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        group = ModpGroup(use_ffdh=True)
        a, b = group.generate(os.urandom), group.generate(os.urandom)
        assert a.shared_secret(b.public) == b.shared_secret(a.public)


def test_modp_falls_back_when_ffdh_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.dh", None)
    assert modp._load_ffdh() is None


def test_modp_forcing_ffdh_without_it_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modp, "_FFDH", None)
    assert not ModpGroup().uses_ffdh
    with pytest.raises(CryptoError):
        ModpGroup(use_ffdh=True)


def test_modp_exponent_size_bounds() -> None:
    with pytest.raises(CryptoError):
        ModpGroup(exponent_size=16)


def test_modp_redraws_trivial_exponents() -> None:
    seed = os.urandom(32)
    pair = ModpGroup(use_ffdh=False).generate(feed(bytes(32), bytes(31) + b"\x01", seed))
    assert pair.public == pow(2, int.from_bytes(seed, "big"), modp.P).to_bytes(256, "big")


# --- the other MODP groups: 1, 2 (RFC 2409), 5, 15, 16 (RFC 3526), 24 (RFC 5114) -------


def _pi_bits(bits: int) -> int:
    """floor(2^bits * pi), by Machin's formula in integers (64 guard bits)."""

    def arctan_inverse(x: int, scale: int) -> int:
        total = term = (1 << scale) // x
        n, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total

    scale = bits + 64
    return (4 * (4 * arctan_inverse(5, scale) - arctan_inverse(239, scale))) >> 64


# The definitions of RFC 2409 section 6 and RFC 3526 sections 2-5:
# p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k), generator 2.
SAFE_PRIME_GROUPS = {
    1: (768, 149686),
    2: (1024, 129093),
    5: (1536, 741804),
    14: (2048, 124476),
    15: (3072, 1690314),
    16: (4096, 240904),
}


@pytest.mark.parametrize("group_id", list(SAFE_PRIME_GROUPS))
def test_modp_primes_follow_their_rfc_definition(group_id: int) -> None:
    n, k = SAFE_PRIME_GROUPS[group_id]
    params = PARAMETERS[group_id]
    assert params.p == 2**n - 2 ** (n - 64) - 1 + 2**64 * (_pi_bits(n - 130) + k)
    assert (params.g, params.size, params.q) == (2, n // 8, None)
    # a safe prime: p and (p-1)/2 pass Fermat tests (a mistyped digit would not)
    q = (params.p - 1) // 2
    assert all(pow(a, params.p - 1, params.p) == 1 for a in (3, 5, 7))
    assert all(pow(a, q - 1, q) == 1 for a in (3, 5, 7))


def test_modp_group_24_parameters() -> None:
    # RFC 5114 section 2.3: q is a 256-bit prime dividing p-1, and g has order q.
    params = PARAMETERS[24]
    assert params.q is not None
    assert (params.p.bit_length(), params.q.bit_length(), params.size) == (2048, 256, 256)
    assert (params.p - 1) % params.q == 0
    assert pow(params.g, params.q, params.p) == 1 and params.g != 1
    assert all(pow(a, params.q - 1, params.q) == 1 for a in (2, 3, 5))
    assert params.p.to_bytes(256, "big").hex().startswith("87a8e61db4b6663cffbbd19c65195999")
    assert params.q == int("8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3", 16)


# RFC 5114 appendix A.3: test data for the 2048-bit group with a 256-bit subgroup.
RFC5114_A3 = {
    "xA": ("0881382cdb87660c6dc13e614938d5b9c8b2f248581cc5e31b35454397fce50e"),
    "yA": (
        "2e9380c8323af97545bc4941deb0ec3742c62fe0ece824a6abdbe66c59bee024"
        "2911bfb967235ceba35ae13e4ec752be630b92dc4bde2847a9c62cb815274542"
        "1fb7eb60a63c0fe9159fcce726ce7cd8523d7450667ef840e4919121eb5f01c8"
        "c9b0d3d648a93bfb75689e8244ac134af544711ce79a02dcc34226684780dddc"
        "b498594106c37f5bc79856487af5ab022a2e5e42f09897c1a85a11ea0212af04"
        "d9b4cebc937c3c1a3e15a8a0342e337615c84e7fe3b8b9b87fb1e73a15af12a3"
        "0d746e06dfc34f290d797ce51aa13aa785bf6658aff5e4b093003cbeaf665b3c"
        "2e113a3a4e905269341dc0711426685f4ef37e868a8126ff3f2279b57ca67e29"
    ),
    "xB": ("7d62a7e3ef36de617b13d1afb82c780d83a23bd4ee6705645121f371f546a53d"),
    "yB": (
        "575f0351bd2b1b817448bdf87a6c362c1e289d3903a30b9832c5741fa250363e"
        "7acbc7f77f3dacbc1f131add8e03367eff8fbbb3e1c5784424809b25afe4d226"
        "2a1a6fd2fab64105ca30a674e07f7809852088632fc049233791ad4edd083a97"
        "8b883ee618bc5e0dd047415f2d95e683cf14826b5fbe10d3ce41c6c120c78ab2"
        "0008c698bf7f0bcab9d7f407bed0f43afb2970f57f8d12043963e66ddd320d59"
        "9ad9936c8f44137c08b180ec5e985cebe186f3d549677e80607331ee17af3380"
        "a725b0782317d7dd43f59d7af9568a9bb63a84d365f92244ed120988219302f4"
        "2924c7ca90b89d24f71b0ab697823d7deb1aff5b0e8e4a45d49f7f53757e1913"
    ),
    "Z": (
        "86c70bf8d0bb81bb01078a17219cb7d27203db2a19c877f1d1f19fd7d77ef225"
        "46a68f005ad52dc84553b78fc60330be51ea7c0672cac1515e4b35c047b9a551"
        "b88f39dc26da14a09ef74774d47c762dd177f9ed5bc2f11e52c879bd95098504"
        "cd9eecd8a8f9b3efbd1f008ac5853097d9d1837f2b18f77cd7be01af80a7c7b5"
        "ea3ca54cc02d0c116fee3f95bb87399385875d7e86747e676e728938acbff709"
        "8e05be4dcfb24052b83aeffb14783f029adbde7f53fae92084224090e007cee9"
        "4d4bf2bace9ffd4b57d2af7c724d0caa19bf0501f6f17b4aa10f425e3ea76080"
        "b4b9d6b3cefea115b2ceb8789bb8a3b0ea87febe63b6c8f846ec6db0c26c5d7c"
    ),
}


@pytest.mark.parametrize("use_ffdh", BACKENDS)
def test_modp_group_24_rfc5114_vector(use_ffdh: bool) -> None:
    v = {k: h("".join(x)) if isinstance(x, tuple) else h(x) for k, x in RFC5114_A3.items()}
    group = ModpGroup(24, use_ffdh=use_ffdh)
    a = group.generate(feed(v["xA"]))
    b = group.generate(feed(v["xB"]))
    assert a.public == v["yA"]
    assert b.public == v["yB"]
    assert a.shared_secret(b.public) == v["Z"]
    assert b.shared_secret(a.public) == v["Z"]


@pytest.mark.parametrize("use_ffdh", BACKENDS)
def test_modp_group_24_refuses_values_outside_the_subgroup(use_ffdh: bool) -> None:
    pair = ModpGroup(24, use_ffdh=use_ffdh).generate(os.urandom)
    params = PARAMETERS[24]
    assert pow(2, params.q, params.p) != 1  # type: ignore[arg-type]
    with pytest.raises(InvalidPublicValue):
        pair.shared_secret((2).to_bytes(256, "big"))


def test_modp_group_24_redraws_exponents_at_or_above_q() -> None:
    q = PARAMETERS[24].q
    assert q is not None
    x = os.urandom(31)
    pair = ModpGroup(24, use_ffdh=False).generate(
        feed(q.to_bytes(32, "big"), b"\xff" * 32, bytes(32), b"\x00" + x)
    )
    params = PARAMETERS[24]
    assert pair.public == pow(params.g, int.from_bytes(x, "big"), params.p).to_bytes(256, "big")


@pytest.mark.parametrize("use_ffdh", BACKENDS)
@pytest.mark.parametrize("group_id", [1, 2, 5, 15, 16, 24])
def test_modp_groups_two_parties_agree(group_id: int, use_ffdh: bool) -> None:
    group = ModpGroup(group_id, use_ffdh=use_ffdh)
    assert group.uses_ffdh is use_ffdh
    a, b = group.generate(os.urandom), group.generate(os.urandom)
    assert a.group_id == b.group_id == group_id
    assert len(a.public) == group.public_length
    assert a.shared_secret(b.public) == b.shared_secret(a.public)
    p = PARAMETERS[group_id].p
    for bad in (1, p - 1, p):
        with pytest.raises(InvalidPublicValue):
            a.shared_secret(bad.to_bytes(group.public_length, "big"))


@pytest.mark.skipif(not FFDH_AVAILABLE, reason="cryptography has no finite-field DH")
@pytest.mark.parametrize("group_id", [1, 2, 5, 15, 16, 24])
def test_modp_groups_pow_matches_openssl(group_id: int) -> None:
    seed = PARAMETERS[group_id].exponent_size
    seeds = [b"\x01" + os.urandom(seed - 1) for _ in range(2)]
    fast = [ModpGroup(group_id, use_ffdh=True).generate(feed(s)) for s in seeds]
    slow = [ModpGroup(group_id, use_ffdh=False).generate(feed(s)) for s in seeds]
    assert [p.public for p in fast] == [p.public for p in slow]
    assert fast[0].shared_secret(slow[1].public) == slow[0].shared_secret(fast[1].public)


def test_modp_groups_1_and_2_default_to_pow() -> None:
    # OpenSSL re-checks parameters it has no name for on every key: pow() is faster there
    assert not dh_group(1).uses_ffdh  # type: ignore[attr-defined]
    assert not dh_group(2).uses_ffdh  # type: ignore[attr-defined]
    assert dh_group(16).uses_ffdh is FFDH_AVAILABLE  # type: ignore[attr-defined]


def test_not_a_modp_group() -> None:
    with pytest.raises(CryptoError):
        ModpGroup(19)
    with pytest.raises(CryptoError):
        ModpGroup(24, exponent_size=40)


# --- registry and random source ------------------------------------------------------


@pytest.mark.parametrize(
    ("group_id", "public_length", "secret_length"),
    [
        (31, 32, 32),
        (19, 64, 32),
        (20, 96, 48),
        (21, 132, 66),
        (14, 256, 256),
        (1, 96, 96),
        (2, 128, 128),
        (5, 192, 192),
        (15, 384, 384),
        (16, 512, 512),
        (24, 256, 256),
    ],
)
def test_registry(group_id: int, public_length: int, secret_length: int) -> None:
    group = dh_group(group_id)
    assert group is dh_group(group_id)
    assert group.group_id == group_id
    assert (group.public_length, group.secret_length) == (public_length, secret_length)
    pair = group.generate(os.urandom)
    assert pair.group_id == group_id
    assert len(pair.public) == public_length


def test_supported_groups_order() -> None:
    assert SUPPORTED_DH_GROUPS == (31, 19, 20, 21, 14, 15, 16, 24, 5, 2, 1)
    assert STRONG_DH_GROUPS == (31, 19, 20, 21, 14, 15, 16)


@pytest.mark.parametrize("group_id", [0, 3, 4, 22, 23, 25, 32, 1000])
def test_unsupported_group(group_id: int) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        dh_group(group_id)


@pytest.mark.parametrize("group_id", SUPPORTED_DH_GROUPS)
def test_short_random_source_is_a_local_error(group_id: int) -> None:
    with pytest.raises(CryptoError):
        dh_group(group_id).generate(lambda n: bytes(n - 1))


@pytest.mark.parametrize("group_id", SUPPORTED_DH_GROUPS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_arbitrary_peer_values_only_raise_invalid_public_value(
    group_id: int, data: st.DataObject
) -> None:
    group = dh_group(group_id)
    pair = group.generate(lambda n: b"\x01" * n)  # fixed, so that examples replay
    peer = data.draw(
        st.one_of(
            st.binary(min_size=group.public_length, max_size=group.public_length),
            st.binary(max_size=group.public_length + 2),
        )
    )
    try:
        secret = pair.shared_secret(peer)
    except InvalidPublicValue:
        return
    assert len(secret) == group.secret_length
