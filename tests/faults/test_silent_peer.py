"""A peer that goes silent (charon under SIGSTOP: alive, holding its state, reading
nothing) while our daemon has work to do with it: a child SA to rekey before its hard
lifetime, an IKE SA to keep alive with DPD.

What must hold while the peer is silent: the control socket answers every probe within
1 s, the daemon does not spin (its CPU stays low; before the fix a child at its hard
lifetime with a rekey outstanding was served by the timer again and again), the SA goes
when its lifetime or DPD says so, and nothing raises. Once the peer wakes up, the static
crypto map entry brings the tunnel back.
"""

from __future__ import annotations

import time

from faults.fault_lab import (
    ControlProbe,
    CpuWindow,
    FaultLab,
    assert_no_traceback,
    our_children,
    sleep_until,
)
from interop.strongswan import NotYet, eventually, our_conf, swanctl_conf

#: the daemon's CPU while its peer is silent, as a fraction of one core (a spin is ~1.0)
MAX_IDLE_CPU = 0.30


def test_silent_peer_across_the_child_hard_lifetime(lab: FaultLab) -> None:
    """60 s child, ours the initiator: charon is stopped 15 s before the hard lifetime, so
    our rekey (at 51-54 s) goes unanswered and is still outstanding at 60 s. The child
    must go at 60 s regardless (RFC 7296 2.8), with the daemon responsive and idle."""
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf(initiate=True, child_lifetime=60))
    before = lab.wait_agreed(charon, ours)
    expires_at = before.our_child["expires_at"]  # wall clock, as the daemon's records
    assert 55 < expires_at - time.time() <= 60

    sleep_until(expires_at - 15)
    charon.pause()
    cpu = CpuWindow(ours)
    with ControlProbe(ours) as probe:

        def child_gone() -> float:
            children = our_children(ours)
            if children:
                raise NotYet(f"our child SA is still there: {children[0]['spi_in']:08x}")
            return time.time()

        gone_at = eventually(child_gone, 20, "our child SA to expire", lab.state, interval=0.2)
        # stay silent a while past the expiry: the unanswered rekey and DELETE retransmit
        time.sleep(5)
    idle_cpu = cpu.fraction()
    print(
        f"\nchild gone {gone_at - expires_at:+.2f} s from its hard lifetime; "
        f"daemon CPU {idle_cpu:.1%} of a core while charon was silent; "
        f"slowest control answer {probe.worst * 1000:.0f} ms of {len(probe.latencies)}"
    )
    assert gone_at >= expires_at - 0.5, "the child went before its hard lifetime"
    assert gone_at <= expires_at + 3, "the child outlived its hard lifetime"
    probe.check()
    assert idle_cpu < MAX_IDLE_CPU, f"daemon used {idle_cpu:.0%} of a core: a spin?"
    assert_no_traceback(ours)

    charon.resume()
    # charon now reads the queued rekey (and its retransmissions) and our DELETE: the
    # tunnel comes back with a new child, or, failing that, the static entry re-initiates.
    after = lab.wait_agreed(charon, ours, 60, new_child_than=before, what="the tunnel back")
    assert after.session["session"]["status"] == "UP-ACTIVE"
    assert_no_traceback(ours)


def test_silent_peer_until_dpd_declares_it_dead(lab: FaultLab) -> None:
    """`dpd 10 2 periodic` (probe after 10 s without a word, retry every 2 s, dead after 5
    retries: ~22 s): charon is stopped right after the tunnel is up. The IKE SA must go
    at DPD's verdict (with its child), the static entry then keeps trying a silent peer
    with backoff, and all the while the daemon answers and idles. (The IKE lifetime's
    minimum, 120 s, would make the same point in four times the time.)"""
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf(initiate=True, dpd="10 2 periodic"))
    before = lab.wait_agreed(charon, ours)
    charon.pause()
    paused = time.monotonic()
    cpu = CpuWindow(ours)
    with ControlProbe(ours) as probe:

        def dead() -> float:
            if not ours.lines("Crypto session is DOWN"):
                raise NotYet("no DOWN line yet")
            return time.monotonic() - paused

        declared = eventually(dead, 40, "our DPD to declare charon dead", lab.state, 0.2)
        # the static entry now initiates to the silent peer: IKE_SA_INIT retransmissions
        time.sleep(6)
        assert not any(v["session"]["status"].startswith("UP") for v in ours.sessions())
    idle_cpu = cpu.fraction()
    print(
        f"\nDPD declared charon dead after {declared:.1f} s; daemon CPU {idle_cpu:.1%} of a "
        f"core while charon was silent; slowest control answer {probe.worst * 1000:.0f} ms"
    )
    assert 18 <= declared <= 30, declared
    probe.check()
    assert idle_cpu < MAX_IDLE_CPU, f"daemon used {idle_cpu:.0%} of a core: a spin?"
    assert_no_traceback(ours)

    charon.resume()
    # Our new IKE_AUTH carries INITIAL_CONTACT: charon replaces the IKE SA it still holds.
    after = lab.wait_agreed(charon, ours, 60, new_ike_than=before, what="the tunnel back")
    assert after.our_ike["initiator"] is True
    assert_no_traceback(ours)
