"""Authentication, authorization and address assignment for remote-access peers.

The IKEv1 XAUTH and mode-config exchanges call into here: `method_lists.Authenticator`
checks a user against `aaa authentication login` lists (local users, RADIUS), and
`pools.AddressPools` hands out addresses from `ip local pool` ranges. Modules are
imported by their own names; this package imports nothing itself, so that the
configuration parser can use `ios_hashes` without loading the RADIUS client.
"""
