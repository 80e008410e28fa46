"""Filters, search and counts of the Visitors tab."""

from __future__ import annotations

from desktop.core.clock import ManualClock
from desktop.core.filters import (
    MAX_SEARCH_CHARS,
    Search,
    VisitorFilter,
    count_filters,
    matches_filter,
    search_text,
    shared_search_text,
)
from desktop.core.labels import visitor_label
from desktop.core.visitor_index import IndexListener, VisitorIndex
from protocol.bots.flow import BotRun
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.factory import NOW, make_visitor


def test_each_filter() -> None:
    active = make_visitor(1)
    idle = make_visitor(2, last_activity_at=NOW - ACTIVE_WINDOW_SECONDS - 1)
    chatting = make_visitor(3, in_chat=True, chat_status="active")
    customer = make_visitor(4, customer=True)
    auto = make_visitor(5, auto_messaged=True)
    banned_gone = make_visitor(6, banned=True, online=False)
    left = make_visitor(7, online=False, left_at=NOW - 3)
    with_bot = make_visitor(8, bot=BotRun(flow_id=1, flow_name="Sales", status="running"))
    bot_done = make_visitor(9, bot=BotRun(flow_id=1, flow_name="Sales", status="handed_over"))
    everyone = [active, idle, chatting, customer, auto, banned_gone, left, with_bot, bot_done]

    def listed(f: VisitorFilter) -> set[str]:
        return {v.id for v in everyone if matches_filter(f, v, NOW)}

    assert listed(VisitorFilter.ALL) == {v.id for v in everyone} - {banned_gone.id}
    assert listed(VisitorFilter.ACTIVE) == {active.id, chatting.id, customer.id, auto.id, with_bot.id, bot_done.id}
    assert listed(VisitorFilter.IN_CHAT) == {chatting.id}
    assert listed(VisitorFilter.CUSTOMERS) == {customer.id}
    assert listed(VisitorFilter.AUTO_MESSAGED) == {auto.id}
    assert listed(VisitorFilter.BLOCKED) == {banned_gone.id}
    assert listed(VisitorFilter.WITH_BOT) == {with_bot.id}
    counts = count_filters(everyone, NOW)
    assert counts == {f: len(listed(f)) for f in VisitorFilter}


def test_active_ends_ten_minutes_after_the_last_activity() -> None:
    visitor = make_visitor(1, last_activity_at=NOW)
    assert matches_filter(VisitorFilter.ACTIVE, visitor, NOW + ACTIVE_WINDOW_SECONDS - 0.5)
    assert not matches_filter(VisitorFilter.ACTIVE, visitor, NOW + ACTIVE_WINDOW_SECONDS)


def test_search_fields_case_insensitive() -> None:
    visitor = make_visitor(
        42,
        name="Ada Lovelace",
        email="ada@example.org",
        current_title="Winter Boots",
        current_url="https://shop.example/boots?size=38",
        country="Österreich",
        country_code="AT",
        label="Blue Fox",
    )
    for query in [
        "ada",
        "LOVELACE",
        "example.org",
        "winter",
        "size=38",
        "österreich",
        "ÖSTERREICH",
        "visitor-00000042",
        "blue fox",
        "ada boots",
    ]:
        assert Search(query).matches(visitor), query
    for query in ["bob", "ada bob", "https://other"]:
        assert not Search(query).matches(visitor), query


def test_empty_search_matches_everyone() -> None:
    assert Search("   ").matches(make_visitor(1))
    assert not Search("  ")


def test_search_is_capped() -> None:
    search = Search("x" * 5000)
    assert len(search.query) == MAX_SEARCH_CHARS


def test_search_words_do_not_match_across_fields() -> None:
    visitor = make_visitor(1, name="Ada", email="lovelace@example.org")
    assert not Search("ada\nlovelace".replace("\n", "")).matches(visitor)


def test_narrowing() -> None:
    assert Search("ada").narrows(Search("ad"))
    assert Search("ada boots").narrows(Search("ada"))
    assert Search("anything").narrows(Search(""))
    assert not Search("ad").narrows(Search("ada"))
    assert not Search("bob").narrows(Search("ada"))


def test_an_anonymous_visitor_is_found_by_its_label_as_the_ui_shows_it() -> None:
    # Ids without the word "visitor" in them (the factory's have it).
    anonymous = make_visitor(1, id="v-abcSdf9rh", label="Visitor Sdf9rh")
    named = make_visitor(2, id="v-abc000002", name="Ada Lovelace", label="Ada Lovelace")
    by_email = make_visitor(3, id="v-abc000003", email="grace@example.org", label="grace@example.org")
    everyone = [anonymous, named, by_email]

    def found(query: str, locale: str | None) -> list[str]:
        search = Search(query)
        return [v.id for v in everyone if search.matches_text(search_text(v, locale))]

    assert visitor_label(anonymous, "de_DE") == "Besucher Sdf9rh"
    assert found("Besucher Sdf9rh", "de_DE") == [anonymous.id]
    assert found("besucher", "de_DE") == [anonymous.id]  # a named visitor is listed by its name, not the word
    assert found("Besucher", None) == []  # without the UI's language: the server's English label only
    assert found("Besucher", "en_US") == []
    assert found("Visitor Sdf9rh", "de_DE") == [anonymous.id]  # the server's label is still searched
    assert found("Visitor", "en_US") == [anonymous.id]
    # The word is in the text many visitors share, so visitors on the same page share one text still.
    other = make_visitor(4, current_url=anonymous.current_url, current_title=anonymous.current_title)
    assert shared_search_text(other, "de_DE") == shared_search_text(anonymous, "de_DE")
    assert "besucher" not in shared_search_text(named, "de_DE")


def test_the_index_finds_the_label_word_in_the_ui_language_and_follows_a_switch() -> None:
    anonymous = make_visitor(1, id="v-abcSdf9rh", label="Visitor Sdf9rh")
    named = make_visitor(2, id="v-abc000002", name="Ada Lovelace", label="Ada Lovelace")
    store = {v.id: v for v in (anonymous, named)}
    index = VisitorIndex(ManualClock(NOW), IndexListener())
    index.reset(store)
    index.set_search("Besucher sdf9rh")
    assert list(index) == []
    index.set_locale("de_DE")
    assert list(index) == [anonymous.id]
    index.set_search("besucher")
    # Ada forgets her name: now listed as "Besucher 000002".
    store[named.id] = make_visitor(2, id=named.id, label="Visitor 000002")
    index.apply((), {named.id}, store)
    assert sorted(index) == sorted(store)
    index.set_locale("en_US")
    assert list(index) == []
