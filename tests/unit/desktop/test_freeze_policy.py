"""The freeze policy of the GUI-thread collector: when to freeze, when to start over, and that it waits for calm."""

from __future__ import annotations

from desktop.core.freeze_policy import Action, FreezePolicy


def started(frozen: int = 60_000, now: float = 0.0, **options: float) -> FreezePolicy:
    """A policy past its first refreeze, with ``frozen`` objects frozen at ``now``."""
    policy = FreezePolicy(**options)  # type: ignore[arg-type]
    assert policy.decide(now, 0, None, calm=False) is Action.REFREEZE  # the first check freezes, calm or not
    policy.refroze(now, frozen)
    return policy


def test_nothing_to_do_while_nothing_changes() -> None:
    policy = started()
    for second in range(1, 3600, 7):
        assert policy.decide(float(second), 60_000, None, calm=True) is Action.NOTHING


def test_few_survivors_of_a_full_collection_stay_unfrozen() -> None:
    policy = started(growth_min=5_000)
    assert policy.decide(1.0, 60_000, 4_999, calm=True) is Action.NOTHING
    assert policy.decide(2.0, 60_000, 5_000, calm=False) is Action.FREEZE


def test_growth_is_frozen_until_it_is_half_the_heap_then_everything_starts_over() -> None:
    policy = started(frozen=60_000, growth_min=5_000)
    frozen = 60_000
    for k in range(5):
        assert policy.decide(float(k + 1), frozen, 6_000, calm=False) is Action.FREEZE
        frozen += 6_000
        policy.froze(6_000)
    assert policy.frozen_since_refreeze == 30_000
    # Half the heap was added by freezes that never checked it for cycles: a full pass is due at the next calm.
    assert policy.decide(10.0, frozen, None, calm=False) is Action.NOTHING
    assert policy.decide(11.0, frozen, None, calm=True) is Action.REFREEZE
    policy.refroze(11.0, 85_000)
    assert policy.frozen_since_refreeze == 0
    assert policy.decide(12.0, 85_000, None, calm=True) is Action.NOTHING


def test_turnover_of_frozen_objects_asks_for_a_refreeze() -> None:
    """A re-snapshot or a logout drops what was frozen: cycles among it would be held until a refreeze."""
    policy = started(frozen=60_000)
    assert policy.decide(1.0, 40_000, None, calm=True) is Action.NOTHING  # a third died
    assert policy.decide(2.0, 30_000, None, calm=True) is Action.REFREEZE  # half


def test_a_due_refreeze_waits_for_calm_but_not_for_ever() -> None:
    policy = started(frozen=60_000, patience_s=30.0)
    assert policy.decide(100.0, 20_000, None, calm=False) is Action.NOTHING
    assert policy.decide(120.0, 20_000, 6_000, calm=False) is Action.FREEZE  # survivors still freeze meanwhile
    assert policy.decide(129.9, 20_000, None, calm=False) is Action.NOTHING
    assert policy.decide(130.0, 20_000, None, calm=False) is Action.REFREEZE


def test_any_change_is_refrozen_after_the_maximum_age() -> None:
    policy = started(frozen=60_000, max_age_s=600.0)
    assert policy.decide(599.0, 59_999, None, calm=True) is Action.NOTHING
    assert policy.decide(600.0, 59_999, None, calm=True) is Action.REFREEZE
    policy.refroze(600.0, 59_999)
    # Unchanged since: no full pass, however long it has been.
    assert policy.decide(100_000.0, 59_999, None, calm=True) is Action.NOTHING


def test_a_small_heap_is_not_refrozen_for_every_death() -> None:
    policy = started(frozen=100, growth_min=5_000)
    assert policy.decide(1.0, 0, None, calm=True) is Action.NOTHING  # 100 died: under half of growth_min


def test_frozen_objects_are_counted_only_every_count_interval_on_a_calm_turn() -> None:
    """Counting walks every frozen object (~5 ms): not at each check, 4 times a second."""
    policy = started(count_every_s=30.0, patience_s=30.0)
    assert not policy.count_due(1.0, calm=True)
    assert not policy.count_due(29.9, calm=True)
    assert policy.count_due(30.0, calm=True)
    assert not policy.count_due(30.0, calm=False)  # traffic: wait for calm...
    assert not policy.count_due(59.9, calm=False)
    assert policy.count_due(60.0, calm=False)  # ...but not for ever
    policy.decide(60.0, 60_000, None, calm=False)
    assert not policy.count_due(61.0, calm=True)  # counted: the interval starts again


def test_deaths_are_seen_at_the_next_count_and_growth_without_one() -> None:
    policy = started(frozen=60_000, growth_min=5_000, count_every_s=30.0)
    # Half the frozen objects died, but nobody counted: nothing is known yet.
    assert policy.decide(1.0, None, None, calm=True) is Action.NOTHING
    assert policy.decide(30.0, 30_000, None, calm=True) is Action.REFREEZE
    policy.refroze(30.0, 30_000)
    # Growth is known from what the collector froze itself: due without a count.
    policy.froze(15_000)
    assert policy.decide(31.0, None, None, calm=True) is Action.REFREEZE


def test_a_count_is_not_due_before_the_first_refreeze() -> None:
    assert not FreezePolicy().count_due(1_000.0, calm=True)
