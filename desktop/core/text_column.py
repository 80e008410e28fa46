"""Short texts by slot number in one string, so that finding a word is one scan in C, not one object per slot."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate, count, repeat
from operator import add
from typing import Final

_SEPARATOR: Final = "\x00"  # never part of a search word (a text holding one has it replaced)
_COMPACT_MIN: Final = 1024


def _clean(text: str) -> str:
    return text.replace(_SEPARATOR, " ") if _SEPARATOR in text else text


class TextColumn:
    """The text of each slot (0, 1, 2, ...), joined into one string with the end of each text indexed.

    :meth:`containing` splits the joined string at the word (C), sums the pieces' lengths (C) and bisects
    the match positions into slots (C), so a search costs no Python per row and touches one contiguous
    string instead of a string object per slot scattered over the heap. A changed text is kept aside until
    about an eighth of the slots changed, then everything is joined again.
    """

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._blob = ""
        self._ends = array("q")  # the position of the separator after each slot's text
        self._fresh: dict[int, str] = {}  # slots changed since the join (the joined text of these is stale)
        self._build([_clean(t) for t in texts])

    def __len__(self) -> int:
        return max(len(self._ends), max(self._fresh, default=-1) + 1)

    def _build(self, texts: list[str]) -> None:
        self._blob = _SEPARATOR.join(texts)
        self._ends = array("q", map(add, accumulate(map(len, texts)), count(0)))
        self._fresh = {}

    def get(self, slot: int) -> str:
        """The text of a slot ("" for a slot never set)."""
        text = self._fresh.get(slot)
        if text is not None:
            return text
        ends = self._ends
        if slot >= len(ends):
            return ""
        return self._blob[ends[slot - 1] + 1 if slot else 0 : ends[slot]]

    def put(self, slot: int, text: str) -> None:
        """Change a slot's text (a slot past the end grows the column)."""
        text = _clean(text)
        if self.get(slot) == text:
            return
        self._fresh[slot] = text
        if len(self._fresh) > max(_COMPACT_MIN, len(self._ends) // 8):
            self.compact()

    def compact(self) -> None:
        """Join every text again (changed ones included)."""
        texts = self._blob.split(_SEPARATOR) if self._ends else []
        texts.extend([""] * (len(self) - len(texts)))
        for slot, text in self._fresh.items():
            texts[slot] = text
        self._build(texts)

    def containing(self, word: str) -> set[int]:
        """The slots whose text contains ``word`` (a non-empty word)."""
        if not word or _SEPARATOR in word:
            return set()
        pieces = self._blob.split(word)
        hits: set[int] = set()
        if len(pieces) > 1:
            # The k-th match starts after the first k pieces and k earlier matches.
            starts = map(add, accumulate(map(len, pieces[:-1])), count(0, len(word)))
            hits = set(map(bisect_right, repeat(self._ends), starts))
        fresh = self._fresh
        if fresh:
            hits.difference_update(fresh)
            hits.update(slot for slot, text in fresh.items() if word in text)
        return hits
