"""Stream keys: how every replication's key begins is said in one place (``stream_prefix``).

Run, explain, optimise and sweep all build replication r's key from it; a sweep point's scenario
re-run with `sim run` (its stream key spelled out) must draw the same citizens as the point did.
"""

from __future__ import annotations

from sim.run.experiment import replication_key, stream_prefix
from sim.run.optimise import CONFIRM_KEY, confirm_prefix

from .conftest import make_scenario


def test_without_a_stream_key_the_replication_number_is_the_whole_key() -> None:
    sc = make_scenario()
    assert sc.experiment.stream_key is None
    assert stream_prefix(sc) == ()
    assert [replication_key(stream_prefix(sc), r) for r in range(3)] == [(0,), (1,), (2,)]


def test_a_stream_key_comes_first_then_extras_then_the_replication() -> None:
    for key in (0, 7, 2**62):
        sc = make_scenario(stream_key=key)
        assert stream_prefix(sc) == (key,)
        assert stream_prefix(sc, 11, 12) == (key, 11, 12)
        assert replication_key(stream_prefix(sc), 5) == (key, 5)


def test_the_confirmation_mixes_its_key_in_after_the_scenarios() -> None:
    assert confirm_prefix(make_scenario()) == (CONFIRM_KEY,)
    assert confirm_prefix(make_scenario(stream_key=9)) == (9, CONFIRM_KEY)
