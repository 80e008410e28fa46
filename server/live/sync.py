"""An agent socket's place in its account's delta log, without I/O (subscribe-and-buffer)."""

from __future__ import annotations


class AgentSync:
    """Buffers an agent's deltas while its snapshot or replay is read, then passes each exactly once, in order.

    The hub subscribes the agent first (entries are buffered), reads the log position and the
    snapshot or the replay, then calls :meth:`synced`: buffered entries the snapshot or replay
    already covers are dropped, the rest follow. From then on :meth:`entry` passes new ones.
    The buffer is bounded: past ``limit`` entries the sync is :attr:`behind` and starts over.
    """

    __slots__ = ("_buffer", "_limit", "behind", "last")

    def __init__(self, limit: int = 0) -> None:
        self._buffer: list[tuple[int, str]] | None = []
        self._limit = limit
        self.last = 0
        """The last seq handed to the socket."""
        self.behind = False
        """More than ``limit`` entries came while syncing: they were dropped, and the sync must start over."""

    @property
    def syncing(self) -> bool:
        """Whether the snapshot or replay is still being read."""
        return self._buffer is not None

    def entry(self, seq: int, frame: str) -> str | None:
        """The frame to send for a new log entry, or None (buffered, or already covered)."""
        if self._buffer is not None:
            if self.behind:
                return None
            if self._limit and len(self._buffer) >= self._limit:
                self.behind = True  # a burst during a long snapshot: a newer snapshot beats queueing it all
                self._buffer.clear()
                return None
            self._buffer.append((seq, frame))
            return None
        if seq <= self.last:
            return None
        self.last = seq
        return frame

    def synced(self, through: int, replay: list[tuple[int, str]]) -> list[str] | None:
        """The snapshot covers up to ``through`` and ``replay`` follows it: the frames to send now.

        None when the sync fell :attr:`behind` (the agent needs a newer snapshot instead).
        """
        if self.behind:
            self._buffer = None
            return None
        frames = [frame for _, frame in replay]
        last = max(through, replay[-1][0]) if replay else through
        for seq, frame in self._buffer or ():
            if seq > last:
                frames.append(frame)
                last = seq
        self._buffer = None
        self.last = last
        return frames
