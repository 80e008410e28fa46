"""Moves store changes onto the Qt side at most once per frame, in chunks sized to a time budget."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from itertools import islice
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.clock import Deadline
from desktop.core.store import Changes, VisitorStore

Applier = Callable[[Changes, Deadline | None], tuple[Collection[str], Collection[str]]]
"""Applies a batch to the visitor list by a deadline; returns the removed and upserted ids it did not apply."""

FRAME_MS: Final = 16
"""One frame at 60 Hz: events arriving within it are applied to the views together."""

BUDGET_MS: Final = 8.0
"""Time one drain's visitor changes may take on the Qt side (the model and every other slot): with the repaint
that follows (~7-8 ms for a screenful of rows on a quiet machine) one turn of the event loop stays near a
16 ms frame. Each drain repaints the list whatever its size, so a smaller budget costs throughput."""

CATCH_UP_BUDGET_MS: Final = 16.0
"""The budget once a backlog has lasted :data:`BEHIND_S`: the list is falling behind the traffic (the machine is
slower or busier than the budget assumes), and longer turns are the lesser evil than rows seconds out of date."""

BEHIND_S: Final = 1.0
"""A backlog larger than a drain clears, lasting this long, switches to :data:`CATCH_UP_BUDGET_MS` until it is
gone (a backlog a drain's deadline left, which the next drain clears, is rows a frame late, not falling behind)."""

CHUNK: Final = 256
"""Visitor changes emitted per drain at most, however cheap they have been: a larger batch would be applied
as one reorder (``VisitorIndex.BULK_MIN``: a sort of every row, ~0.5 s at 100,000 on this machine), whose
cost is not per change."""

MIN_CHUNK: Final = 64
"""Visitor changes emitted per drain at least, however dear they have been: a backlog always moves, and a
frame of ordinary traffic goes out in one drain (at 100,000 rows 64 changes take about the budget)."""

FIRST_COST_MS: Final = 0.2
"""Assumed time per visitor change until one is measured (on the high side: the first chunk is small, and the
chunks grow within a few frames when changes are cheaper)."""

CALM_GAP_MS: Final = 250
"""While traffic is light, drains are at least this far apart: each one that changes the rows repaints the
list's viewport, header and scroll bar, which is most of the app's CPU on an ordinary day."""

BUSY_PER_SECOND: Final = 100
"""From this many deltas a second on, drains go out once per frame (the latency targets)."""


class StoreDispatcher(QObject):
    """Drains the store's coalesced changes one frame after they start, and emits them as Qt signals.

    A drain emits as many visitor changes as fit in ``budget_ms`` at the time per change measured over
    earlier drains (at least ``min_chunk``, at most ``chunk``); the rest wait (still coalescing with newer
    changes) for the next frame. With an applier (:meth:`apply_with`: the visitor model) the chunk is applied
    by a deadline, the budget from the drain's start, whatever its changes cost: what is not applied by then
    waits too, so a drain is the budget plus one change, not the budget times the variance of the changes.
    While a backlog remains, the next drain comes a frame after this one started (at least a quarter frame
    after it ended). A backlog larger than a drain clears that lasts :data:`BEHIND_S` means the list is falling
    behind: drains then get ``catch_up_budget_ms`` until it is gone. A snapshot goes out whole
    (it is one rebuild). Messages, message updates, typing and arrivals go out with the next drain.

    Paced work (:meth:`pace`: the release of a long reorder hold) shares the drains' budget: while it has
    something to do, a drain gives visitor changes at most half its chunk and the work the rest, so a
    release is spread over frames instead of one long turn, and a flood cannot starve it.

    While traffic is calm (under ``busy_per_second`` deltas a second, no backlog), a drain comes
    one frame after the first change but at least ``calm_gap_ms`` after the previous drain, so a trickle of
    updates repaints the list a few times a second rather than at every change.
    """

    visitorsChanged = Signal(object)
    """Changes: connect the visitor model's ``apply_changes``."""
    visitorsArrived = Signal(list)
    """list[Visitor]: visitors new since the last drain (not from a snapshot), for notifications."""
    messageAdded = Signal(object)
    """ChatMessage."""
    messageUpdated = Signal(object)
    """MessageUpdated."""
    typingChanged = Signal(object)
    """Typing."""
    teamEvents = Signal(list)
    """list[TeamEvent]: presence, team status, notes, canned responses, alerts, in arrival order."""

    def __init__(
        self,
        store: VisitorStore,
        parent: QObject | None = None,
        *,
        frame_ms: int = FRAME_MS,
        chunk: int = CHUNK,
        calm_gap_ms: int = CALM_GAP_MS,
        busy_per_second: int = BUSY_PER_SECOND,
        budget_ms: float = BUDGET_MS,
        catch_up_budget_ms: float = CATCH_UP_BUDGET_MS,
        min_chunk: int = MIN_CHUNK,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._chunk = max(1, chunk)
        self._min_chunk = max(1, min(min_chunk, self._chunk))
        self._budget = budget_ms / 1000
        self._catch_up_budget = max(budget_ms, catch_up_budget_ms) / 1000
        self._behind_since: float | None = None  # when the current backlog started (clock seconds)
        self._cost = FIRST_COST_MS / 1000  # seconds per visitor change, as measured over recent drains
        self._over = 0.0  # seconds recent drains ran past their deadline
        self._clock = clock
        self._frame_ms = frame_ms
        self._calm_gap = calm_gap_ms / 1000
        self._busy_per_second = busy_per_second
        self._last_drain = float("-inf")
        self._window_start = time.monotonic()
        self._window_seq = store.seq
        self._rate = 0.0  # deltas per second (by the store's seq, before coalescing) over the last second
        self._pending = Changes()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(frame_ms)
        self._timer.timeout.connect(self.drain_chunk)
        store.on_dirty = self._schedule
        self._paced: Callable[[int], tuple[int, int]] | None = None
        self._apply: Applier | None = None
        self._pacing = False  # the paced work has something to do
        self.drains = 0
        """How many batches were emitted (for tests and benchmarks)."""

    @property
    def chunk(self) -> int:
        """Visitor changes the next drain emits at most: what fits in the budget at the measured time per change."""
        return max(self._min_chunk, min(self._chunk, int(self._budget_now() / self._cost)))

    def _budget_now(self) -> float:
        """The drain's budget in seconds: the catch-up budget once a backlog has lasted :data:`BEHIND_S`."""
        behind = self._behind_since is not None and self._clock() - self._behind_since >= BEHIND_S
        return self._catch_up_budget if behind else self._budget

    @property
    def backlog(self) -> int:
        """Visitor changes taken from the store but not emitted yet."""
        return len(self._pending.upserted) + len(self._pending.removed)

    @property
    def pacing(self) -> bool:
        """Whether paced work (see :meth:`pace`) is under way."""
        return self._pacing

    def pace(self, step: Callable[[int], tuple[int, int]]) -> Callable[[], bool]:
        """Drive ``step`` from the drains; returns the function that says it has work (it starts the drains).

        ``step(limit)`` applies at most ``limit`` changes and returns how many it applied and how many remain;
        it is called once a drain, with what the budget leaves, until nothing remains. The returned function
        answers False once the dispatcher is detached (the caller then does the work itself).
        """
        self._paced = step
        return self._wake

    def apply_with(self, apply: Applier | None) -> None:
        """Let ``apply`` (the visitor model's ``apply_changes``) apply each batch first, by the drain's deadline.

        It is called before any signal with the batch and a :class:`Deadline` (the drain's budget from its
        start; None for a snapshot or a flush); the ids it returns as not applied go back to the pending
        changes for the next drain (newer changes of the same visitors win, as in the store), and
        ``visitorsChanged`` and ``visitorsArrived`` then carry only what it applied: every other listener
        sees a change when the list does. (A signal cannot return what was left; the list is the one
        consumer whose cost the budget is about.)
        """
        self._apply = apply

    def _wake(self) -> bool:
        if self._paced is None:
            return False
        self._pacing = True
        if not self._timer.isActive():
            self._timer.start(self._frame_ms)
        return True

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start(self._delay_ms())

    def _delay_ms(self) -> int:
        """Busy: what is left of a frame since the previous drain started; calm: of the gap, at least a frame."""
        if self._rate >= self._busy_per_second or self.backlog:
            return self._next_frame_ms()
        wait = self._calm_gap - (time.monotonic() - self._last_drain)
        return max(self._frame_ms, round(wait * 1000)) if wait > 0 else self._frame_ms

    def _next_frame_ms(self) -> int:
        """Until a frame after the previous drain started, but at least a quarter frame (the repaint and input)."""
        left = self._frame_ms - (time.monotonic() - self._last_drain) * 1000
        return max(self._frame_ms // 4, min(self._frame_ms, round(left)))

    def _count(self) -> None:
        now = time.monotonic()
        self._last_drain = now
        elapsed = now - self._window_start
        if elapsed >= 1.0:
            seq = self._store.seq
            self._rate = max(0, seq - self._window_seq) / elapsed  # a snapshot may set seq anywhere
            self._window_start, self._window_seq = now, seq

    def flush(self) -> None:
        """Emit everything pending now, in one batch (tests and shutdown may call this)."""
        self._drain(None)

    def drain_chunk(self) -> None:
        """Emit one budgeted chunk now (what the frame timer does)."""
        self._drain(self.chunk)

    def _drain(self, limit: int | None) -> None:
        self._timer.stop()
        self._merge(self._store.take_changes())
        paced = self._paced if self._pacing else None
        # Paced work gets at least half the chunk: a flood of visitor changes must not starve a release.
        changes = self._take(limit - limit // 2 if paced is not None and limit is not None else limit)
        if not changes and paced is None:
            self._timed(0)
            return
        self._count()
        self.drains += 1
        size = len(changes.upserted) + len(changes.removed)
        t0 = self._clock()
        if changes.reset:
            if self._apply is not None:
                self._apply(changes, None)
            self.visitorsChanged.emit(changes)
            size = 0  # one rebuild: not a cost per change
            t0 = self._clock()
        elif size:
            if self._apply is not None:
                # Paced work shares the drain: visitor changes then get half its time, as half its chunk.
                budget = self._budget_now() / (2 if paced is not None else 1)
                # What drains ran past their deadline (the list announcing the rows it changed, after its
                # last change) is kept back from the next deadline, up to half the budget.
                at = t0 + max(budget / 2, budget - self._over)
                deadline = Deadline(self._clock, at) if limit is not None else None
                removed, upserted = self._apply(changes, deadline)
                over = self._clock() - at
                if deadline is not None and (removed or upserted or over > 0):  # (one done early tells nothing)
                    self._over = (self._over + max(0.0, over)) / 2
                if removed or upserted:
                    self._put_back(changes, removed, upserted)
                    size -= len(removed) + len(upserted)
            if changes.upserted or changes.removed:
                self.visitorsChanged.emit(changes)
        self._timed(size)
        if paced is not None:
            applied, remaining = paced(sys.maxsize if limit is None else max(1, limit - size))
            size += applied
            self._pacing = remaining > 0
            if self._pacing and not self._timer.isActive():
                self._timer.start(self._frame_ms)
        if size >= self._min_chunk:  # small batches are mostly fixed costs: they would shrink the next chunk
            cost = (self._clock() - t0) / size
            self._cost = max(1e-7, (self._cost + cost) / 2)  # half the history: adapts within a few frames
        if changes.arrived:
            visitors = self._store.visitors
            arrived = [visitors[vid] for vid in changes.arrived if vid in visitors]
            if arrived:
                self.visitorsArrived.emit(arrived)
        for message in changes.messages:
            self.messageAdded.emit(message)
        for update in changes.message_updates:
            self.messageUpdated.emit(update)
        for typing in changes.typing:
            self.typingChanged.emit(typing)
        if changes.team:
            self.teamEvents.emit(changes.team)

    def _timed(self, applied: int) -> None:
        """After a drain that applied ``applied`` changes: the next one while a backlog remains; is it behind."""
        backlog = self.backlog
        if backlog and not self._timer.isActive():
            self._timer.start(self._next_frame_ms())
        within_reach = backlog <= max(applied, self._min_chunk)  # what the next drain clears
        if not backlog:
            self._behind_since = None
        elif self._behind_since is None:
            if not within_reach:
                self._behind_since = self._clock()
        elif within_reach and self._clock() - self._behind_since < BEHIND_S:
            self._behind_since = None  # back within reach before it counted as behind; once it did, until gone

    def _put_back(self, changes: Changes, removed: Collection[str], upserted: Collection[str]) -> None:
        """Return what the applier left to the pending changes (behind any newer change of the same visitors).

        Their arrivals wait with them, so a notification comes with its row.
        """
        changes.removed.difference_update(removed)
        changes.upserted.difference_update(upserted)
        pending = self._pending
        if pending.reset:  # a snapshot supersedes them
            return
        pending.removed.update(vid for vid in removed if vid not in pending.upserted)
        pending.upserted.update(vid for vid in upserted if vid not in pending.removed)
        if changes.arrived and upserted:
            later = set(upserted)
            pending.arrived[:0] = [vid for vid in changes.arrived if vid in later]
            changes.arrived = [vid for vid in changes.arrived if vid not in later]

    def _merge(self, new: Changes) -> None:
        """Fold changes just taken from the store into those still pending (newer wins, as in the store)."""
        pending = self._pending
        if not pending:
            self._pending = new
            return
        if new.reset:
            # A snapshot supersedes every pending visitor change; messages and typing still go out, in order.
            new.messages[:0] = pending.messages
            new.message_updates[:0] = pending.message_updates
            new.typing[:0] = pending.typing
            new.team[:0] = pending.team
            self._pending = new
            return
        pending.upserted -= new.removed
        pending.removed |= new.removed
        pending.removed -= new.upserted
        pending.upserted |= new.upserted
        pending.arrived += new.arrived
        pending.messages += new.messages
        pending.message_updates += new.message_updates
        pending.typing += new.typing
        pending.team += new.team

    def _take(self, limit: int | None) -> Changes:
        """Everything pending, or at most ``limit`` visitor changes of it (removals first)."""
        pending = self._pending
        if limit is None or pending.reset or len(pending.upserted) + len(pending.removed) <= limit:
            self._pending = Changes()
            return pending
        removed = set(islice(pending.removed, limit))
        upserted = set(islice(pending.upserted, limit - len(removed)))
        pending.removed -= removed
        pending.upserted -= upserted
        batch = Changes(
            upserted=upserted,
            removed=removed,
            arrived=pending.arrived,
            messages=pending.messages,
            message_updates=pending.message_updates,
            typing=pending.typing,
            team=pending.team,
        )
        pending.arrived, pending.messages, pending.message_updates, pending.typing = [], [], [], []
        pending.team = []
        return batch

    def detach(self) -> None:
        """Stop listening to the store (logout, shutdown)."""
        self._timer.stop()
        self._paced, self._pacing, self._apply = None, False, None
        if self._store.on_dirty == self._schedule:
            self._store.on_dirty = None
