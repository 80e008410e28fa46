"""The agent's copy of the account's visitors: a snapshot plus ordered deltas, with coalesced changes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from desktop.core.columns import VisitorColumns
from desktop.core.team import TeamState
from protocol.messages import (
    CannedResponses,
    ChatMessage,
    Hello,
    History,
    MessageAdded,
    MessageUpdated,
    NoteAdded,
    Notes,
    Resumed,
    ServerToAgent,
    Snapshot,
    TakenOver,
    TeamEvent,
    TeamStatus,
    Trail,
    Transferred,
    Typing,
    UnansweredAlert,
    Visitor,
    VisitorActivity,
    VisitorChanged,
    VisitorLeft,
    VisitorPatch,
    VisitorPresence,
)


class SeqGap(Exception):  # noqa: N818 (the name is part of the agreed interface)
    """A delta skipped some seq: deltas were lost, so the client must resume or take a new snapshot."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected delta seq {expected}, got {got}: events were lost; resume from {expected - 1}")
        self.expected = expected
        self.got = got


class SnapshotGap(SeqGap):
    """A snapshot page came out of order: the snapshot is incomplete, so the client must ask for a new one."""

    def __init__(self, expected: tuple[int, int] | None, got: tuple[int, int]) -> None:
        Exception.__init__(self, f"expected snapshot page {expected}, got (seq, part) {got}; asking for a new one")
        self.expected = 0
        self.got = got[0]


@dataclass
class Changes:
    """What changed in the store since the last :meth:`VisitorStore.take_changes`, coalesced."""

    reset: bool = False
    """A snapshot replaced everything: rebuild from ``store.visitors`` (the sets below may be partial)."""
    upserted: set[str] = field(default_factory=set)
    """Visitors added or changed (never also in ``removed``)."""
    removed: set[str] = field(default_factory=set)
    """Visitors that left the list (some may never have been seen, if they came and went in one batch)."""
    arrived: list[str] = field(default_factory=list)
    """Visitors new since the last take that came as deltas, not in a snapshot (for notifications)."""
    messages: list[ChatMessage] = field(default_factory=list)
    message_updates: list[MessageUpdated] = field(default_factory=list)
    typing: list[Typing] = field(default_factory=list)
    team: list[TeamEvent] = field(default_factory=list)
    """Team-layer events (presence, status, notes, alerts ...) for the session's team views."""

    def __bool__(self) -> bool:
        return bool(
            self.reset
            or self.upserted
            or self.removed
            or self.arrived
            or self.messages
            or self.message_updates
            or self.typing
            or self.team
        )


class VisitorStore:
    """Visitors and conversations as the server last described them, with the seq they are current to."""

    def __init__(self) -> None:
        self.seq = 0
        """The last applied seq (0: nothing yet or a snapshot still arriving, so a connection asks for one)."""
        self.epoch: str | None = None
        """The epoch of the delta log ``seq`` belongs to (sent back with it on resume)."""
        self.on_dirty: Callable[[], None] | None = None
        """Called once when changes start piling up after a :meth:`take_changes` (schedule a drain)."""
        self.on_trail_wanted: Callable[[str], None] | None = None
        """Called with a watched visitor whose trail is not loaded (the client then asks the server)."""
        self._hello_epoch: str | None = None
        self._paging: tuple[int, int] | None = None
        """(seq, next part) while a paged snapshot is arriving."""
        self._watched: str | None = None
        self._trail_loaded = False
        self._visitors = VisitorColumns()
        self._messages: dict[str, dict[str, ChatMessage]] = {}
        self._versions: dict[str, int] = {}  # by visitor: the count of conversation changes at its last change
        self._version = 0
        self._typing: set[str] = set()
        self._changes = Changes()
        self._dirty = False
        self.team = TeamState()
        """Who is on which visitor, colleagues, notes, canned responses (the team layer)."""

    @property
    def visitors(self) -> Mapping[str, Visitor]:
        """Every listed visitor by id (read-only; a record is made from the columns when read, see VisitorColumns)."""
        return self._visitors

    def count_online(self) -> int:
        """How many listed visitors are online (no pass over the visitors: the columns keep the count)."""
        return self._visitors.count_online()

    def count_unread(self) -> int:
        """How many listed visitors have unread messages (kept as the columns change)."""
        return self._visitors.count_unread()

    def ids_with_chat_status(self, statuses: Collection[str]) -> list[str]:
        """The visitors whose chat status is one of ``statuses`` (a scan of codes, no records made)."""
        return self._visitors.ids_with_chat_status(statuses)

    def is_typing(self, visitor_id: str) -> bool:
        """Whether the visitor is typing a chat message right now."""
        return visitor_id in self._typing

    def chat_status(self, visitor_id: str) -> str | None:
        """A listed visitor's chat status (read from its chat code, no record made), or None."""
        return self._visitors.chat_status(visitor_id)

    def conversation_version(self, visitor_id: str) -> int:
        """A number that changes whenever the stored conversation with a visitor does (a message, a history).

        Never the same for two different states, so a view can tell whether to read the conversation again
        (0: nothing stored).
        """
        return self._versions.get(visitor_id, 0)

    def messages_for(self, visitor_id: str) -> list[ChatMessage]:
        """The conversation with a visitor as far as known, oldest first."""
        return list(self._messages.get(visitor_id, {}).values())

    def set_history(self, visitor_id: str, messages: Sequence[ChatMessage]) -> None:
        """Merge a stored history from the server with whatever arrived live (no duplicates by id)."""
        merged = {m.id: m for m in messages}
        for known in self._messages.get(visitor_id, {}).values():
            merged.setdefault(known.id, known)
        self._messages[visitor_id] = {m.id: m for m in sorted(merged.values(), key=lambda m: m.sent_at)}
        self._conversation_changed(visitor_id)

    def _conversation_changed(self, visitor_id: str) -> None:
        self._version += 1
        self._versions[visitor_id] = self._version

    @property
    def trail_missing(self) -> str | None:
        """The watched visitor when it is listed but its trail is not loaded yet."""
        vid = self._watched
        return vid if vid is not None and not self._trail_loaded and vid in self._visitors else None

    def watch(self, visitor_id: str | None) -> None:
        """Keep the trail of this visitor (the selected one) and no other; asks for it when missing."""
        if visitor_id == self._watched:
            return
        old = self._watched
        if old is not None and self._trail_loaded:
            self._visitors.set_pages(old, ())
        self._watched = visitor_id
        self._trail_loaded = False
        self._want_trail()

    def _want_trail(self) -> None:
        missing = self.trail_missing
        if missing is not None and self.on_trail_wanted is not None:
            self.on_trail_wanted(missing)

    def take_changes(self) -> Changes:
        """Everything changed since the last call; the store is clean afterwards."""
        changes = self._changes
        self._changes = Changes()
        self._dirty = False
        return changes

    def apply(self, event: ServerToAgent) -> None:
        """Apply one event from the server.

        A snapshot's first page replaces everything and the next pages add to it (out of order:
        :class:`SnapshotGap`); a delta at or below :attr:`seq` is a duplicate (a replay overlapping
        what we have) and is ignored; a delta beyond ``seq + 1`` raises :class:`SeqGap` and changes nothing.
        Events without state (result, error) are ignored.
        """
        match event:
            case Hello():
                self._hello_epoch = event.epoch
            case Snapshot():
                self._apply_snapshot(event)
            case Resumed():
                if event.from_seq != self.seq:
                    raise SeqGap(self.seq + 1, event.from_seq + 1)
                self.team.reset_presence()  # sent anew after every sync: it is never replayed
            case (
                VisitorChanged()
                | VisitorPatch()
                | VisitorLeft()
                | VisitorActivity()
                | MessageAdded()
                | MessageUpdated()
            ):
                if event.seq <= self.seq:
                    return
                if event.seq != self.seq + 1:
                    raise SeqGap(self.seq + 1, event.seq)
                self.seq = event.seq
                self._apply_delta(event)
            case NoteAdded():
                if event.seq <= self.seq:
                    return
                if event.seq != self.seq + 1:
                    raise SeqGap(self.seq + 1, event.seq)
                self.seq = event.seq
                self._apply_team(event)
            case (
                VisitorPresence()
                | TeamStatus()
                | TakenOver()
                | Transferred()
                | Notes()
                | CannedResponses()
                | UnansweredAlert()
            ):
                self._apply_team(event)
            case Typing():
                self._apply_typing(event)
            case History():
                self.set_history(event.visitor_id, event.messages)
            case Trail():
                self._apply_trail(event)
            case _:
                pass

    def _mark(self) -> Changes:
        if not self._dirty:
            self._dirty = True
            if self.on_dirty is not None:
                self.on_dirty()
        return self._changes

    def _apply_snapshot(self, snapshot: Snapshot) -> None:
        visitors = self._visitors
        if snapshot.part == 0:
            self.seq = 0  # not resumable until the last page is in
            visitors.clear()
            for v in snapshot.visitors:
                visitors.put(v)
            self._trail_loaded = False
            self._typing.clear()
            self.team.reset_presence()
            changes = self._mark()
            changes.reset = True
            changes.upserted.clear()
            changes.removed.clear()
            changes.arrived.clear()
        else:
            if self._paging != (snapshot.seq, snapshot.part):
                expected, self._paging = self._paging, None
                raise SnapshotGap(expected, (snapshot.seq, snapshot.part))
            upserted = self._mark().upserted
            for v in snapshot.visitors:
                # The id kept in the columns, not the decoded one: the page's objects are then all freed.
                upserted.add(visitors.put(v))
        if snapshot.more:
            self._paging = (snapshot.seq, snapshot.part + 1)
            return
        self._paging = None
        self.seq = snapshot.seq
        self.epoch = self._hello_epoch
        # Conversations of visitors still listed are kept: a later History merges by message id.
        self._messages = {vid: msgs for vid, msgs in self._messages.items() if vid in self._visitors}
        self._versions = {vid: version for vid, version in self._versions.items() if vid in self._messages}
        self._want_trail()

    def _apply_trail(self, trail: Trail) -> None:
        if trail.visitor_id != self._watched or trail.visitor_id not in self._visitors:
            return  # the selection moved on, or the visitor left
        self._visitors.set_pages(trail.visitor_id, tuple(trail.pages))
        self._trail_loaded = True
        self._mark().upserted.add(trail.visitor_id)

    def _keeps_trail(self, visitor_id: str) -> bool:
        return visitor_id == self._watched and self._trail_loaded

    def _apply_delta(
        self, delta: VisitorChanged | VisitorPatch | VisitorLeft | VisitorActivity | MessageAdded | MessageUpdated
    ) -> None:
        match delta:
            case VisitorPatch(visitor_id=visitor_id):
                if not self._visitors.patch(delta, keep_trail=self._keeps_trail(visitor_id)):
                    return  # not listed (cannot happen after a complete snapshot)
                self._mark().upserted.add(visitor_id)
            case VisitorChanged(visitor=visitor):
                is_new = visitor.id not in self._visitors
                # The trail of the watched visitor stays; any other record keeps the trail it came with.
                visitor_id = self._visitors.put(visitor, keep_pages=is_new or not self._keeps_trail(visitor.id))
                if visitor_id == self._watched and is_new:
                    self._want_trail()
                changes = self._mark()
                changes.removed.discard(visitor_id)
                changes.upserted.add(visitor_id)
                if is_new:
                    changes.arrived.append(visitor_id)
            case VisitorLeft(visitor_id=visitor_id):
                if self._visitors.pop(visitor_id) is None:
                    return
                self._messages.pop(visitor_id, None)
                self._versions.pop(visitor_id, None)
                self._typing.discard(visitor_id)
                self.team.forget(visitor_id)
                changes = self._mark()
                changes.upserted.discard(visitor_id)
                changes.removed.add(visitor_id)
                if visitor_id in changes.arrived:
                    changes.arrived.remove(visitor_id)
            case VisitorActivity(visitor_id=visitor_id, at=at):
                if not self._visitors.set_last_activity(visitor_id, at):
                    return
                self._mark().upserted.add(visitor_id)
            case MessageAdded(message=message):
                self._messages.setdefault(message.visitor_id, {})[message.id] = message
                self._conversation_changed(message.visitor_id)
                self._mark().messages.append(message)
            case MessageUpdated():
                self._apply_message_update(delta)

    def _apply_message_update(self, update: MessageUpdated) -> None:
        conversation = self._messages.get(update.visitor_id)
        message = conversation.get(update.message_id) if conversation is not None else None
        if conversation is not None and message is not None:
            self._conversation_changed(update.visitor_id)
            conversation[message.id] = msgspec.structs.replace(
                message,
                delivered_at=update.delivered_at if update.delivered_at is not None else message.delivered_at,
                read_at=update.read_at if update.read_at is not None else message.read_at,
            )
        self._mark().message_updates.append(update)

    def _apply_team(self, event: TeamEvent) -> None:
        rows = {v for v in self.team.apply(event) if v in self._visitors}
        changes = self._mark()
        # A row shows who is on the visitor, so a presence change repaints it.
        changes.upserted.update(rows)
        changes.team.append(event)

    def _apply_typing(self, typing: Typing) -> None:
        if typing.who == "visitor" and typing.visitor_id in self._visitors:
            was = typing.visitor_id in self._typing
            if typing.typing:
                self._typing.add(typing.visitor_id)
            else:
                self._typing.discard(typing.visitor_id)
            if was != typing.typing:
                # The state icon shows typing, so the row changes.
                self._mark().upserted.add(typing.visitor_id)
        self._mark().typing.append(typing)
