"""The IKE SA's transition table: every move the engine makes is in it, and a move that
is not raises instead of leaving an SA in a state nothing expects."""

from __future__ import annotations

import pytest
from ike_pair import EnginePair, site_to_site_config

from engine.ike.sa_state import TRANSITIONS, IkeState, IllegalTransition, check_transition


def test_every_state_has_its_moves_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(IkeState)
    assert TRANSITIONS[IkeState.CLOSED] == frozenset()
    for state, targets in TRANSITIONS.items():
        if state is not IkeState.REKEY_NEW:
            assert IkeState.CLOSED in targets or state is IkeState.CLOSED


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (IkeState.CLOSED, IkeState.ESTABLISHED),
        (IkeState.INIT_SENT, IkeState.ESTABLISHED),
        (IkeState.DELETING, IkeState.ESTABLISHED),
        (IkeState.REKEYED, IkeState.ESTABLISHED),
    ],
)
def test_moves_the_table_forbids_raise(old: IkeState, new: IkeState) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(old, new)


def test_a_whole_life_goes_through_the_table() -> None:
    """Setup, an IKE rekey by each side, a delete: the engine never makes a move the table
    forbids (it would surface as an internal error closing the SA)."""
    pair = EnginePair(*site_to_site_config())
    pair.established()
    (sa,) = pair.live_ike("a")
    pair.a.rekey_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(2)
    (sa_b,) = pair.live_ike("b")
    pair.b.rekey_ike_sa(sa_b.ike_sa_id, pair.now)
    pair.run(2)
    (sa,) = pair.live_ike("a")
    pair.a.delete_ike_sa(sa.ike_sa_id, pair.now)
    pair.run(2)
    assert pair.a.stats["internal errors"] == pair.b.stats["internal errors"] == 0
    assert not pair.a.ike_sas() and not pair.b.ike_sas()
