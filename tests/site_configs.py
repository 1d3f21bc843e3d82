"""Two small site-to-site configurations: A (127.0.0.1, static entry) and B
(127.0.0.2, dynamic entry), for tests that run real gateways on loopback."""

SITE_A = """\
hostname site-a
crypto isakmp peer address 127.0.0.2
 description {description}
crypto ikev2 keyring KEYS
 peer B
  address 127.0.0.2
  pre-shared-key {key}
crypto ikev2 profile TO-B
 match identity remote address 127.0.0.2 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
crypto ipsec transform-set TS esp-gcm 256
ip access-list extended A-TO-B
 permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255
crypto map WAN 10 ipsec-isakmp
 set peer 127.0.0.2
 set transform-set TS
 set ikev2-profile TO-B
 match address A-TO-B
interface lo
 ip address 127.0.0.1 255.0.0.0
 crypto map WAN
end
"""

SITE_B = """\
hostname site-b
crypto ikev2 keyring KEYS
 peer A
  address 127.0.0.1
  pre-shared-key {key}
crypto ikev2 profile FROM-A
 match identity remote address 127.0.0.1 255.255.255.255
 authentication local pre-share
 authentication remote pre-share
 keyring local KEYS
crypto ipsec transform-set TS esp-gcm 256
crypto dynamic-map DYN 10
 set transform-set TS
 set ikev2-profile FROM-A
crypto map WAN 10 ipsec-isakmp dynamic DYN
interface lo
 ip address 127.0.0.2 255.0.0.0
 crypto map WAN
end
"""
