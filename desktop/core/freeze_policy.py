"""When to freeze long-lived objects out of the cyclic collector's way, and when to start over (pure logic)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

GROWTH_MIN: Final = 5_000
"""Survivors of a routine full collection worth freezing: each one would otherwise be scanned by every later one."""

TURNOVER: Final = 0.5
"""A refreeze is due when this fraction of the objects frozen at the last one has died since (a re-snapshot, a
logout), or when the frozen population has grown by this fraction (what was frozen since was never checked for
garbage cycles)."""

MAX_AGE_S: Final = 600.0
"""A refreeze is due at least this often while frozen objects die or are added (the bound on cycles held)."""

PATIENCE_S: Final = 30.0
"""A due refreeze waits at most this long for a calm turn of the event loop."""

COUNT_EVERY_S: Final = 30.0
"""How often the frozen objects are counted. ``gc.get_freeze_count()`` walks every one of them (about 5 ms for the
app's ~67,000 on the 2-core machine): counted at every check, 4 times a second, it cost 2 % of a core at rest and
lengthened the longest stall of the list under traffic by as much. Deaths among them are seen this late at most."""


class Action(enum.Enum):
    """What the collector should do now."""

    NOTHING = "nothing"
    FREEZE = "freeze"  # gc.freeze(): move the survivors of this collection out of every later one
    REFREEZE = "refreeze"  # gc.unfreeze(); gc.collect(); gc.freeze(): one full collection over everything


@dataclass
class FreezePolicy:
    """Decides between freezing, refreezing and doing nothing, from counts the collector reads after each check.

    Python's full collection scans every tracked object of the process (the app's ~60,000 module-level
    functions, types and dicts cost 30-60 ms a pass on the 2-core machine). ``gc.freeze()`` moves them to a
    permanent generation that later collections skip. A frozen object still dies the moment its last reference
    goes; only a frozen *cycle* that becomes garbage is held until the objects are unfrozen and collected. So
    the survivors of a full collection are frozen once they are many (:data:`GROWTH_MIN`), and the whole heap
    is unfrozen, collected and frozen again (one full collection) when much of what was frozen has died or
    been added, or :data:`MAX_AGE_S` after the last time while anything changed: what a frozen cycle can hold
    stays proportional to the live heap. A refreeze waits for a calm turn of the loop, but at most
    :data:`PATIENCE_S`.
    """

    growth_min: int = GROWTH_MIN
    turnover: float = TURNOVER
    max_age_s: float = MAX_AGE_S
    patience_s: float = PATIENCE_S
    count_every_s: float = COUNT_EVERY_S
    _base: int = field(default=0, init=False)  # frozen right after the last refreeze
    _added: int = field(default=0, init=False)  # frozen since, by freezes of survivors
    _at: float | None = field(default=None, init=False)  # when the last refreeze ran (None: never)
    _due_since: float | None = field(default=None, init=False)
    _counted_at: float = field(default=0.0, init=False)  # when the frozen objects were last counted

    @property
    def frozen_since_refreeze(self) -> int:
        """Objects frozen by freezes of survivors since the last refreeze."""
        return self._added

    def count_due(self, now: float, *, calm: bool) -> bool:
        """Whether this check should count the frozen objects (a walk over all of them) for :meth:`decide`.

        Every :attr:`count_every_s`, on a calm turn of the loop; under traffic that never calms, after
        :attr:`patience_s` more.
        """
        if self._at is None:
            return False  # the first check refreezes without a count
        age = now - self._counted_at
        return age >= self.count_every_s and (calm or age >= self.count_every_s + self.patience_s)

    def decide(self, now: float, frozen: int | None, survivors: int | None, *, calm: bool) -> Action:
        """The action for this check.

        ``frozen`` is ``gc.get_freeze_count()`` when :meth:`count_due` asked for it, else None;
        ``survivors`` the unfrozen objects of the oldest generation after a full collection this check ran
        (None when it ran none); ``calm`` whether the event loop is keeping time (a refreeze stalls it for
        one full collection).
        """
        if self._at is None:
            return Action.REFREEZE  # the first freeze of the process: at start-up, nobody is waiting yet
        if frozen is not None:
            self._counted_at = now
        if self._due_since is None and self._refreeze_due(now, frozen):
            self._due_since = now
        if self._due_since is not None and (calm or now - self._due_since >= self.patience_s):
            return Action.REFREEZE
        if survivors is not None and survivors >= self.growth_min:
            return Action.FREEZE
        return Action.NOTHING

    def froze(self, survivors: int) -> None:
        """The collector froze ``survivors`` more objects."""
        self._added += survivors

    def refroze(self, now: float, frozen: int) -> None:
        """The collector unfroze, collected and froze everything: ``frozen`` objects are frozen now."""
        self._base, self._added, self._at, self._due_since = frozen, 0, now, None
        self._counted_at = now

    def _refreeze_due(self, now: float, frozen: int | None) -> bool:
        assert self._at is not None
        died = 0 if frozen is None else self._base + self._added - frozen  # deaths are known only when counted
        limit = self.turnover * max(self._base, self.growth_min)
        if died >= limit or self._added >= limit:
            return True
        changed = died > 0 or self._added > 0
        return changed and now - self._at >= self.max_age_s
