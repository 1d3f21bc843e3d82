"""An operator acting while an exchange is in flight, and the daemon's signals.

`clear crypto session` while our request is outstanding must not put the DELETE under
that request's Message ID: the peer may have processed the request already, and takes a
second request under the same ID for a retransmission (before the fix charon answered it
with its cached DPD response and never saw the DELETE). SIGTERM must delete every IKE
SA with the peer and exit 0 leaving no control socket; SIGHUP must reload the
configuration without touching the sessions.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time

from faults.fault_lab import FaultLab, assert_no_traceback
from interop.strongswan import NotYet, eventually, our_conf, swanctl_conf


def test_clear_while_our_dpd_is_outstanding(lab: FaultLab) -> None:
    """charon initiates; ours has `dpd 10 2 periodic`. charon is stopped, our DPD goes out
    (request 0 of our window) and stays unanswered; we clear the session, then charon
    wakes: it answers the DPD, and must then get our DELETE as request 1."""
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf(dpd="10 2 periodic"))
    charon.initiate()
    lab.wait_agreed(charon, ours)
    charon.pause()
    sent_before = ours.statistics()["transport"].get("datagrams out", 0)

    def dpd_sent() -> int:
        sent = ours.statistics()["transport"].get("datagrams out", 0)
        if sent <= sent_before:
            raise NotYet("our DPD has not gone out yet")
        return sent

    eventually(dpd_sent, 15, "our DPD request", ours.log, interval=0.1)
    assert len(ours.clear()) == 1
    charon.resume()
    resumed = time.monotonic()

    def charon_has_nothing() -> float:
        if charon.list_sas():
            raise NotYet("charon still has its IKE SA")
        return time.monotonic() - resumed

    took = eventually(charon_has_nothing, 5, "charon to accept our DELETE", lab.state)
    lab.wait_nothing(charon, ours, 5)
    log = charon.log()
    print(f"\ncharon took our DELETE {took:.2f} s after it woke up")
    dpd = re.findall(r"parsed INFORMATIONAL request (\d+) \[ \]", log)
    delete = re.findall(r"parsed INFORMATIONAL request (\d+) \[ D \]", log)
    assert dpd and delete, log[-3000:]
    assert int(delete[0]) == int(dpd[0]) + 1, (dpd, delete)
    assert "received DELETE for IKE_SA" in log
    assert ours.lines("SESSION_CLEARED")
    assert ours.sessions() == []
    assert_no_traceback(ours)


def test_sigterm_deletes_the_sas_and_exits_cleanly(lab: FaultLab) -> None:
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf())
    charon.initiate()
    lab.wait_agreed(charon, ours)
    assert ours.control.exists()
    assert ours.proc is not None
    started = time.monotonic()
    ours.signal(signal.SIGTERM)
    try:
        rc = ours.proc.wait(5)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the daemon did not exit within 5 s\n{ours.log()}") from None
    took = time.monotonic() - started
    print(f"\nSIGTERM: the daemon exited {rc} after {took:.2f} s")
    assert rc == 0, ours.log()
    assert not ours.control.exists(), "the control socket was left behind"
    lab.until(lambda: charon.list_sas() == [], "charon to drop its IKE SA", 3)
    assert "received DELETE for IKE_SA" in charon.log()
    assert ours.lines("Crypto session is DOWN")
    assert_no_traceback(ours)


def test_sighup_reloads_and_keeps_the_session(lab: FaultLab) -> None:
    charon = lab.charon(swanctl_conf())
    ours = lab.ours(our_conf())
    charon.initiate()
    before = lab.wait_agreed(charon, ours)
    assert len(ours.lines("SYS-5-CONFIG_I")) == 1
    ours.signal(signal.SIGHUP)
    lab.until(lambda: len(ours.lines("SYS-5-CONFIG_I")) == 2, "the reload's CONFIG_I line", 5)
    time.sleep(1)  # nothing trails behind the reload
    assert ours.proc is not None and ours.proc.poll() is None, "SIGHUP stopped the daemon"
    after = lab.agreement(charon, ours)
    assert (after.ike_spis, after.child_spis) == (before.ike_spis, before.child_spis)
    assert after.session["session"]["status"] == "UP-ACTIVE"
    assert len(ours.lines("SYS-5-CONFIG_I")) == 2
    assert ours.lines("Crypto session is DOWN") == []
    assert_no_traceback(ours)
