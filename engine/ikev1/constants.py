"""ISAKMP / IKEv1 numbers (RFC 2407, 2408, 2409, 3706, 3947; the XAUTH and mode-config
drafts; Cisco Unity's attributes as strongSwan and IOS use them)."""

from __future__ import annotations

import hashlib
from enum import IntEnum, IntFlag

ISAKMP_VERSION = 0x10
#: the DOI of every SA payload here: IPsec (RFC 2407 section 4.2)
DOI_IPSEC = 1
SIT_IDENTITY_ONLY = 1


class PayloadType(IntEnum):
    NONE = 0
    SA = 1
    PROPOSAL = 2
    TRANSFORM = 3
    KE = 4
    ID = 5
    CERT = 6
    CERTREQ = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    NOTIFY = 11
    DELETE = 12
    VENDOR = 13
    ATTRIBUTE = 14
    NAT_D = 20
    NAT_OA = 21
    #: the pre-RFC 3947 numbers some peers still send
    NAT_D_DRAFT = 130
    NAT_OA_DRAFT = 131


class ExchangeType(IntEnum):
    MAIN = 2
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6
    QUICK = 32


class HeaderFlag(IntFlag):
    ENCRYPTION = 1
    COMMIT = 2
    AUTHENTICATION_ONLY = 4


class ProtocolId(IntEnum):
    ISAKMP = 1
    AH = 2
    ESP = 3


class Phase1Attr(IntEnum):
    """RFC 2409 appendix A: attribute classes of a phase 1 transform."""

    ENCRYPTION = 1
    HASH = 2
    AUTH_METHOD = 3
    GROUP = 4
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    KEY_LENGTH = 14


class Phase1Encryption(IntEnum):
    DES = 1
    TRIPLE_DES = 5
    AES_CBC = 7


class Phase1Hash(IntEnum):
    MD5 = 1
    SHA1 = 2
    SHA2_256 = 4
    SHA2_384 = 5
    SHA2_512 = 6


class AuthMethod(IntEnum):
    PRE_SHARED_KEY = 1
    RSA_SIG = 3
    #: draft-beaulieu-ike-xauth-02 section 7.2: PSK with XAUTH, client is the initiator
    XAUTH_INIT_PSK = 65001
    XAUTH_RESP_PSK = 65002


class LifeType(IntEnum):
    SECONDS = 1
    KILOBYTES = 2


class IpsecAttr(IntEnum):
    """RFC 2407 section 4.5: attributes of an ESP transform."""

    LIFE_TYPE = 1
    LIFE_DURATION = 2
    GROUP = 3
    ENCAPSULATION_MODE = 4
    AUTH_ALGORITHM = 5
    KEY_LENGTH = 6


class EspTransformId(IntEnum):
    DES = 2
    TRIPLE_DES = 3
    NULL = 11
    AES_CBC = 12
    AES_GCM_16 = 20


class EspAuth(IntEnum):
    HMAC_MD5 = 1
    HMAC_SHA1 = 2
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7


class EncapsulationMode(IntEnum):
    TUNNEL = 1
    TRANSPORT = 2
    UDP_TUNNEL = 3
    UDP_TRANSPORT = 4
    UDP_TUNNEL_DRAFT = 61443
    UDP_TRANSPORT_DRAFT = 61444


class IdType(IntEnum):
    IPV4_ADDR = 1
    FQDN = 2
    USER_FQDN = 3
    IPV4_ADDR_SUBNET = 4
    IPV6_ADDR = 5
    IPV6_ADDR_SUBNET = 6
    IPV4_ADDR_RANGE = 7
    IPV6_ADDR_RANGE = 8
    KEY_ID = 11


class NotifyType(IntEnum):
    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    RESPONDER_LIFETIME = 24576
    REPLAY_STATUS = 24577
    INITIAL_CONTACT = 24578
    R_U_THERE = 36136
    R_U_THERE_ACK = 36137


class CfgType(IntEnum):
    """draft-dukes-ike-mode-cfg-02 section 3.2: the ATTR payload's message types."""

    REQUEST = 1
    REPLY = 2
    SET = 3
    ACK = 4


class CfgAttr(IntEnum):
    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_ADDRESS_EXPIRY = 5
    APPLICATION_VERSION = 7
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    #: draft-beaulieu-ike-xauth-02 section 6
    XAUTH_TYPE = 16520
    XAUTH_USER_NAME = 16521
    XAUTH_USER_PASSWORD = 16522
    XAUTH_PASSCODE = 16523
    XAUTH_MESSAGE = 16524
    XAUTH_CHALLENGE = 16525
    XAUTH_DOMAIN = 16526
    XAUTH_STATUS = 16527
    XAUTH_NEXT_PIN = 16528
    XAUTH_ANSWER = 16529
    #: Cisco Unity
    UNITY_BANNER = 28672
    UNITY_SAVE_PASSWD = 28673
    UNITY_DEF_DOMAIN = 28674
    UNITY_SPLITDNS_NAME = 28675
    UNITY_SPLIT_INCLUDE = 28676
    UNITY_NATT_PORT = 28677
    UNITY_LOCAL_LAN = 28678
    UNITY_PFS = 28679
    UNITY_FW_TYPE = 28680
    UNITY_BACKUP_SERVERS = 28681
    UNITY_DDNS_HOSTNAME = 28682


def _md5(text: bytes) -> bytes:
    return hashlib.md5(text).digest()


class VendorId:
    """Vendor ID payloads we send and recognise (their published values)."""

    XAUTH = bytes.fromhex("09002689dfd6b712")
    DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")
    NATT_RFC3947 = _md5(b"RFC 3947")
    NATT_DRAFT_02 = _md5(b"draft-ietf-ipsec-nat-t-ike-02\n")
    NATT_DRAFT_02_ALT = _md5(b"draft-ietf-ipsec-nat-t-ike-02")
    NATT_DRAFT_03 = _md5(b"draft-ietf-ipsec-nat-t-ike-03")
    UNITY = bytes.fromhex("12f5f28c457168a9702d9fe274cc0100")
    FRAGMENTATION = bytes.fromhex("4048b7d56ebce88525e7de7f00d6c2d3")


#: the port RFC 3947 moves IKE to once NAT-T is agreed
NATT_PORT = 4500
NON_ESP_MARKER = b"\x00\x00\x00\x00"
