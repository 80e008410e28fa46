"""TextColumn: texts by slot in one string, searched in C; checked against a plain list."""

from __future__ import annotations

import random

from desktop.core.text_column import TextColumn


def test_get_set_and_search_match_a_plain_list() -> None:
    rng = random.Random(11)
    words = ["ada", "bob", "zoë", "lapsang", "x", "", "a\x00b", "ab"]
    plain = [rng.choice(words) for _ in range(50)]
    column = TextColumn(plain)
    plain = [t.replace("\x00", " ") for t in plain]
    for step in range(3000):
        slot = rng.randrange(70)
        text = rng.choice(words) + rng.choice(words)
        column.put(slot, text)
        if slot >= len(plain):
            plain.extend([""] * (slot + 1 - len(plain)))
        plain[slot] = text.replace("\x00", " ")
        if step % 97 == 0:
            column.compact()
        if step % 13 == 0:
            assert len(column) == len(plain)
            assert [column.get(i) for i in range(len(plain))] == plain
            for word in ("a", "ab", "bob", "lapsang", "ë", "sangb", "a b", "q"):
                assert column.containing(word) == {i for i, t in enumerate(plain) if word in t}, (step, word)


def test_a_word_never_matches_across_two_slots_or_the_separator() -> None:
    column = TextColumn(["ab", "cd", ""])
    assert column.containing("bc") == set()
    assert column.containing("\x00") == set()
    assert column.containing("") == set()
    assert column.containing("d") == {1}
    assert column.get(2) == ""
    assert column.get(9) == ""
