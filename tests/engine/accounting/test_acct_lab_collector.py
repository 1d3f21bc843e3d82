"""The lab's embedded RADIUS collector receives the gateway's real accounting."""

from __future__ import annotations

from netutil import until

from engine.lab import Lab


async def test_lab_sessions_are_accounted_on_the_embedded_collector(tmp_path) -> None:
    lab = Lab(ike_port=0, natt_port=0, peers=3, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        assert lab.collectors, "the lab's RADIUS collector did not start"
        collector = lab.collectors[0]

        def status_types() -> list[str]:
            return [
                v for r in collector.received for k, v in r.attributes if k == "Acct-Status-Type"
            ]

        await until(lambda: status_types().count("Start") == 3, timeout=10)
        assert status_types()[0] == "Accounting-On"
        starts = [
            dict(r.attributes)
            for r in collector.received
            if ("Acct-Status-Type", "Start") in r.attributes
        ]
        assert {s["NAS-IP-Address"] for s in starts} == {"127.0.0.1"}
        assert collector.counters["bad authenticator"] == 0
    finally:
        await lab.stop()
    assert "Stop" in status_types() or "Accounting-Off" in status_types()
