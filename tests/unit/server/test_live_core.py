"""The live core without sockets: feed an event and the state, assert what should happen."""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec
import pytest

from protocol.codec import agent_events, encode, snapshot_frame
from protocol.messages import (
    AgentsOnline,
    AgentTypingToVisitor,
    Banned,
    ChatClosed,
    ChatMessage,
    ChatStatus,
    CloseCode,
    ErrorCode,
    Identify,
    MessageAdded,
    MessageUpdated,
    PageVisit,
    Snapshot,
    Typing,
    VisitorActivity,
    VisitorChanged,
    VisitorHello,
    VisitorLeft,
    VisitorMessage,
    VisitorPatch,
)
from protocol.rules import Plan
from server.live import core
from server.live.core import AgentFrame, CloseTabs, RefusedError, TabFrame
from server.live.record import StateCache, VisitorState, decode_state, encode_all, encode_groups, listed_json
from server.live.sync import AgentSync
from server.rules import AutoRule, RuleConditions, compile_rule

NOW = 1_000_000.0


@dataclass
class Row:
    """What the database remembers (shaped like server.store.VisitorRow)."""

    id: str = "visitor-0001"
    first_seen_at: float = NOW - 86_400
    last_seen_at: float = NOW - 3600
    visit_count: int = 1
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    customer: bool = False
    auto_messaged: bool = False
    banned: bool = False
    chat_status: ChatStatus = "none"
    chat_agent_id: int | None = None
    session_only: bool = False


HELLO = VisitorHello(
    tab_id="tab-00001", url="https://shop.example/", title="Home", language="de", timezone="Europe/Berlin"
)
AGENT = (7, "Ada")


def arrived(**row: object) -> VisitorState:
    state = core.start_visit(Row(**row), HELLO, core.Place(country_code="DE", browser="Firefox"), known=False, now=NOW)  # type: ignore[arg-type]
    core.tab_attached(state, HELLO, new_visit=True, now=NOW)
    return state


def message(author: str = "visitor", mid: str = "message-001") -> ChatMessage:
    return ChatMessage(id=mid, visitor_id="visitor-0001", author=author, text="hi", sent_at=NOW)  # type: ignore[arg-type]


def test_a_new_visitor_arrives_online_on_its_first_page() -> None:
    state = core.start_visit(Row(), HELLO, core.Place(country_code="DE", browser="Firefox"), known=False, now=NOW)
    effects = core.tab_attached(state, HELLO, new_visit=True, now=NOW)
    record = state.record
    assert (record.online, record.current_url, record.country_code, record.language) == (
        True,
        "https://shop.example/",
        "DE",
        "de",
    )
    assert [p.url for p in record.pages] == ["https://shop.example/"]
    assert record.label == "Visitor r-0001"
    assert state.has_messages is False, "a visitor never seen has no conversation: no query"
    assert effects.deltas == [VisitorChanged(visitor=msgspec.structs.replace(record, pages=()))], "no trail"
    assert effects.store == {"online", "activity"}


def test_another_tab_on_a_new_page_extends_the_trail_once() -> None:
    state = arrived()
    other = VisitorHello(tab_id="tab-00002", url="https://shop.example/cart", title="Cart")
    effects = core.tab_attached(state, other, new_visit=False, now=NOW + 5)
    assert [p.url for p in state.record.pages] == ["https://shop.example/", "https://shop.example/cart"]
    assert "page" in effects.store
    same = core.tab_attached(state, other, new_visit=False, now=NOW + 6)
    assert "page" not in same.store, "a reload on the same page adds nothing"


def test_a_page_view_carries_the_new_page_not_the_trail() -> None:
    state = arrived()
    for n in range(8):
        core.page_view(state, f"https://shop.example/p{n}", f"P{n}", now=NOW + n)
    effects = core.page_view(state, "https://shop.example/cart", "Cart", now=NOW + 10)
    page = PageVisit(url="https://shop.example/cart", title="Cart", at=NOW + 10)
    assert effects.deltas == [
        VisitorPatch(
            visitor_id="visitor-0001",
            page=page,
            current_url=page.url,
            current_title=page.title,
            last_activity_at=NOW + 10,
        )
    ]
    assert len(encode(effects.deltas[0])) < 250
    reload = core.page_view(state, "https://shop.example/cart", "Cart", now=NOW + 11)
    assert reload.deltas == [VisitorPatch(visitor_id="visitor-0001", last_activity_at=NOW + 11)]


def test_the_trail_keeps_the_newest_twenty_pages() -> None:
    state = arrived()
    for n in range(30):
        core.page_view(state, f"https://shop.example/p{n}", "", now=NOW + n)
    pages = state.record.pages
    assert len(pages) == core.MAX_PAGES
    assert pages[-1].url == "https://shop.example/p29"


def test_activity_is_published_when_the_visitor_wakes_up_or_after_the_interval() -> None:
    state = arrived()
    first = core.activity(state, "scroll", now=NOW + 1, publish_every=5)
    assert first.deltas == [VisitorActivity(visitor_id="visitor-0001", at=NOW + 1)]
    quiet = core.activity(state, "scroll", now=NOW + 2, publish_every=5)
    assert quiet.deltas == []
    assert quiet.store == {"activity"}, "the time is kept even when agents are not told"
    later = core.activity(state, "input", now=NOW + 7, publish_every=5)
    assert len(later.deltas) == 1
    assert core.activity(state, "blur", now=NOW + 20, publish_every=5).deltas == [], "blur is not activity"
    asleep = core.activity(state, "pointer", now=NOW + 700, publish_every=5)
    assert len(asleep.deltas) == 1, "back after 10 minutes: agents hear it at once"


def test_a_visitor_message_opens_an_unanswered_chat_and_reaches_the_other_tabs() -> None:
    state = arrived()
    stored = message()
    effects = core.visitor_message(state, stored, from_tab="tab-00001", now=NOW + 1)
    assert effects.tabs == [TabFrame(VisitorMessage(message=stored), except_tab="tab-00001")]
    assert effects.deltas[0] == MessageAdded(message=stored)
    assert effects.deltas[1] == VisitorPatch(
        visitor_id="visitor-0001",
        chat_status="unanswered",
        in_chat=True,
        chat_agent_id=None,
        chat_agent_name=None,
        unread=1,
        auto_messaged=False,
        last_activity_at=NOW + 1,
    )
    assert (state.record.chat_status, state.record.in_chat, state.record.unread) == ("unanswered", True, 1)
    assert effects.writes == {"chat_status": "unanswered", "chat_agent_id": None}
    assert state.has_messages


def test_free_plan_may_answer_but_not_start() -> None:
    state = arrived()
    with pytest.raises(RefusedError) as refused:
        core.open_chat(state, AGENT, Plan.FREE)
    assert refused.value.code == ErrorCode.PLAN_REQUIRED
    core.visitor_message(state, message(), from_tab="tab-00001", now=NOW)
    core.check_agent_message(state, Plan.FREE)  # the visitor wrote first
    effects = core.agent_message(state, message("agent", "message-002"), AGENT)
    assert (state.record.chat_status, state.record.chat_agent_id, state.record.chat_agent_name) == (
        "active",
        7,
        "Ada",
    )
    assert effects.tabs == [TabFrame(VisitorMessage(message=message("agent", "message-002")))]
    assert effects.writes == {"chat_status": "active", "chat_agent_id": 7}


def test_open_twice_changes_nothing_the_second_time() -> None:
    state = arrived()
    assert core.open_chat(state, AGENT, Plan.PRO).deltas
    again = core.open_chat(state, AGENT, Plan.PRO)
    assert (again.deltas, again.writes) == ([], {})


def test_close_needs_an_open_chat_and_tells_the_visitor() -> None:
    state = arrived()
    with pytest.raises(RefusedError) as refused:
        core.close_chat(state)
    assert refused.value.code == ErrorCode.CONVERSATION_CLOSED
    core.open_chat(state, AGENT, Plan.PRO)
    effects = core.close_chat(state)
    assert effects.tabs == [TabFrame(ChatClosed())]
    assert (state.record.chat_status, state.record.chat_agent_id) == ("closed", None)


def test_mark_read_clears_unread_and_marks_each_message() -> None:
    state = arrived()
    core.visitor_message(state, message(), from_tab="tab-00001", now=NOW)
    effects = core.mark_read(state, ["message-001"], now=NOW + 3)
    assert effects.deltas[0] == MessageUpdated(visitor_id="visitor-0001", message_id="message-001", read_at=NOW + 3)
    assert state.record.unread == 0
    assert core.mark_read(state, [], now=NOW + 4).deltas == [], "nothing unread: nothing to say"


def test_ban_is_stored_first_then_closes_every_tab() -> None:
    state = arrived()
    effects = core.ban(state, "spam", now=NOW + 1)
    assert effects.durable
    assert effects.writes == {"banned": True, "ban_reason": "spam"}
    assert effects.tabs == [CloseTabs(Banned(message=core.BANNED_TEXT), CloseCode.FORBIDDEN, "banned")]
    assert (state.record.banned, state.record.online, state.record.left_at) == (True, False, NOW + 1)
    with pytest.raises(RefusedError) as refused:
        core.check_agent_message(state, Plan.PRO)
    assert refused.value.code == ErrorCode.BANNED
    assert core.ban(state, "again", now=NOW + 2).deltas == [], "banning twice changes nothing"
    lifted = core.unban(state, has_tabs=False)
    assert lifted.start_leave, "no tab: the visitor leaves after the grace period"
    assert not state.record.banned


def test_last_tab_closed_then_left() -> None:
    state = arrived()
    effects = core.last_tab_closed(state, now=NOW + 9)
    assert effects.start_leave
    assert (state.record.online, state.record.left_at) == (False, NOW + 9)
    left = core.visitor_left("visitor-0001", now=NOW + 40)
    assert left.deltas == [VisitorLeft(visitor_id="visitor-0001")]
    assert left.writes == {"last_seen_at": NOW + 40}


def test_identify_makes_a_customer_and_names_the_visitor() -> None:
    state = arrived(custom={"plan": "gold"})
    effects = core.identify(
        state, Identify(name=" Grace ", email="g@example.com", custom={"id": "42"}), custom_before={}
    )
    assert state.record.label == "Grace"
    assert effects.writes == {
        "customer": True,
        "name": "Grace",
        "email": "g@example.com",
        "custom": {"plan": "gold", "id": "42"},
    }
    assert effects.durable
    offline = core.identify(None, Identify(phone="123"), custom_before={"a": "1"})
    assert offline.deltas == []
    assert offline.writes == {"customer": True, "phone": "123", "custom": {"a": "1"}}


def test_typing_goes_to_the_other_side_only() -> None:
    assert core.visitor_typing("visitor-0001", True).agents == [
        AgentFrame(Typing(visitor_id="visitor-0001", who="visitor", typing=True))
    ]
    effects = core.agent_typing(arrived(), True, plan=Plan.PRO, agent_name="Ada", conn_id="c1")
    assert effects.tabs == [TabFrame(AgentTypingToVisitor(typing=True, agent_name="Ada"))]
    assert effects.agents[0].except_conn == "c1"
    assert core.agents_online(True) == AgentsOnline(online=True)


def test_a_free_agents_typing_reaches_only_a_visitor_who_wrote() -> None:
    state = arrived()
    assert core.agent_typing(state, True, plan=Plan.FREE, agent_name="Ada", conn_id="c1") == core.Effects()
    core.visitor_message(state, message(), from_tab="tab-00001", now=NOW + 1)
    answered = core.agent_typing(state, True, plan=Plan.FREE, agent_name="Ada", conn_id="c1")
    assert answered.tabs == [TabFrame(AgentTypingToVisitor(typing=True, agent_name="Ada"))]


def test_a_session_only_visitor_is_marked_until_consent_and_forgotten_on_leaving_unless_it_wrote() -> None:
    state = core.start_visit(Row(session_only=True), HELLO, core.Place(), known=False, now=NOW)
    core.tab_attached(state, msgspec.structs.replace(HELLO, session_only=True), new_visit=True, now=NOW)
    assert core.forgotten_on_leaving(state), "session-only, no conversation, no details"
    wrote = core.start_visit(Row(session_only=True), HELLO, core.Place(), known=False, now=NOW)
    core.visitor_message(wrote, message(), from_tab="tab-00001", now=NOW)
    assert not core.forgotten_on_leaving(wrote), "a conversation the visitor started is kept"
    known = core.start_visit(Row(session_only=True), HELLO, core.Place(), known=True, now=NOW)
    assert core.forgotten_on_leaving(known), "an unknown conversation: the hub asks SQL before deleting"
    customer = core.start_visit(Row(session_only=True, customer=True), HELLO, core.Place(), known=True, now=NOW)
    assert not core.forgotten_on_leaving(customer), "details the visitor gave are kept"
    assert core.visitor_left("visitor-0001", now=NOW + 40, forget=True).writes == {}

    consent = core.tab_attached(state, HELLO, new_visit=False, now=NOW + 5)
    assert not state.record.session_only
    assert consent.writes == {"session_only": False}
    assert "consent" in consent.store
    assert any(isinstance(d, VisitorPatch) and d.session_only is False for d in consent.deltas)
    assert not core.forgotten_on_leaving(state)


def test_address_hashes_of_a_visit_are_kept_for_a_ban_without_repeats() -> None:
    state = arrived()
    first = core.tab_attached(state, HELLO, new_visit=False, now=NOW + 1, ip_hash="h1")
    assert "ip_hashes" in first.store
    again = core.tab_attached(state, HELLO, new_visit=False, now=NOW + 2, ip_hash="h1")
    assert "ip_hashes" not in again.store
    for n in range(2, 12):
        core.tab_attached(state, HELLO, new_visit=False, now=NOW + n, ip_hash=f"h{n}")
    assert state.ip_hashes == tuple(f"h{n}" for n in range(4, 12)), "the newest few"
    assert decode_state(encode_all(state)) is not None
    assert decode_state(encode_all(state)).ip_hashes == state.ip_hashes  # type: ignore[union-attr]


def test_an_erased_visitor_still_on_the_site_becomes_anonymous() -> None:
    state = arrived(name="Grace", email="g@example.com", custom={"id": "42"}, customer=True)
    core.page_view(state, "https://shop.example/cart", "Cart", now=NOW + 3)
    core.visitor_message(state, message(), from_tab="tab-00001", now=NOW + 4)
    state.fired.add(3)
    state.ip_hashes = ("h1",)
    fresh, effects = core.erased(state, has_tabs=True, now=NOW + 10)
    record = fresh.record
    assert (record.name, record.email, record.custom, record.customer, record.pages) == (None, None, {}, False, ())
    assert (record.chat_status, record.unread, record.first_seen_at) == ("none", 0, NOW + 10)
    assert record.current_url == "https://shop.example/cart", "the page they are on now"
    assert (fresh.fired, fresh.has_messages, fresh.ip_hashes) == (set(), False, ("h1",))
    assert effects.deltas[0] == VisitorLeft(visitor_id=record.id), "agents drop what they held"
    assert effects.deltas[1] == VisitorChanged(visitor=record)
    assert "Grace" not in encode(effects.deltas[1]).decode()
    assert {"identity", "trail", "chat", "fired", "has_messages"} <= effects.store
    gone, _ = core.erased(state, has_tabs=False, now=NOW + 10)
    assert gone.record.current_url is None


def _rule(rule_id: int, **conditions: object) -> AutoRule:
    return AutoRule(
        id=rule_id,
        account_id=1,
        name=f"r{rule_id}",
        message=f"hello {rule_id}",
        conditions=RuleConditions(**conditions),  # type: ignore[arg-type]
    )


def test_rules_fire_once_each_and_only_when_allowed() -> None:
    rules = [compile_rule(_rule(1, url_contains="cart")), compile_rule(_rule(2, url_contains="shop"))]
    state = arrived()
    allowed = {"plan": Plan.PRO, "agents_online": True, "has_tabs": True, "now": NOW}
    assert core.rule_to_fire(rules, state, **{**allowed, "plan": Plan.FREE}) is None  # type: ignore[arg-type]
    assert core.rule_to_fire(rules, state, **{**allowed, "agents_online": False}) is None  # type: ignore[arg-type]
    assert core.rule_to_fire(rules, state, **{**allowed, "has_tabs": False}) is None  # type: ignore[arg-type]
    fired = core.rule_to_fire(rules, state, **allowed)  # type: ignore[arg-type]
    assert fired is not None
    assert fired.id == 2
    assert core.rule_to_fire(rules, state, **allowed) is None, "rule 2 fired; rule 1 does not match"  # type: ignore[arg-type]
    stored = core.auto_message(1, state, fired, now=NOW)
    assert stored.id == core.auto_message(1, arrived(), fired, now=NOW + 5).id, "the same id on every process"
    assert stored.id != core.auto_message(2, state, fired, now=NOW).id
    effects = core.auto_message_sent(state, stored)
    assert effects.writes == {"auto_messaged": True}
    assert effects.tabs == [TabFrame(VisitorMessage(message=stored))]
    assert {"fired", "chat"} <= effects.store


def test_welcome_delivers_the_agents_messages() -> None:
    state = arrived()
    messages = [message("agent", "message-002"), message("visitor", "message-003")]
    frame, undelivered = core.welcome(state, messages, agents_online=True, now=NOW)
    assert undelivered == ["message-002"]
    assert frame.messages[0].delivered_at == NOW
    assert frame.agents_online
    assert state.has_messages


def test_state_round_trips_through_its_presence_fields() -> None:
    state = arrived(name="Grace")
    core.visitor_message(state, message(), from_tab="tab-00001", now=NOW)
    state.fired = {3, 1}
    back = decode_state(encode_all(state))
    assert back is not None
    assert back.record == state.record
    assert (back.fired, back.has_messages) == ({1, 3}, True)
    assert decode_state(encode_groups(state, {"chat"})) is None, "without its visit group a record is incomplete"


def test_two_writers_of_different_groups_do_not_overwrite_each_other() -> None:
    stored = encode_all(arrived())
    on_a = decode_state(stored)
    on_b = decode_state(stored)
    assert on_a is not None
    assert on_b is not None
    stored.update(encode_groups(on_a, core.page_view(on_a, "https://shop.example/x", "", now=NOW + 1).store))
    stored.update(encode_groups(on_b, core.open_chat(on_b, AGENT, Plan.PRO).store))
    merged = decode_state(stored)
    assert merged is not None
    assert (merged.record.current_url, merged.record.chat_status) == ("https://shop.example/x", "active")


def test_agent_sync_buffers_then_passes_each_delta_once() -> None:
    sync = AgentSync()
    assert sync.entry(11, "f11") is None, "buffered while the snapshot is read"
    assert sync.entry(12, "f12") is None
    assert sync.synced(11, []) == ["f12"], "the snapshot covers 11"
    assert sync.entry(12, "f12") is None
    assert sync.entry(13, "f13") == "f13"
    resumed = AgentSync()
    resumed.entry(21, "f21")
    resumed.entry(22, "f22")
    assert resumed.synced(20, [(21, "f21")]) == ["f21", "f22"], "replay then the buffered rest"
    assert resumed.last == 22


def test_agent_sync_past_its_limit_drops_the_buffer_and_asks_for_a_newer_snapshot() -> None:
    sync = AgentSync(limit=3)
    for seq in range(1, 4):
        assert sync.entry(seq, f"f{seq}") is None
    assert sync.entry(4, "f4") is None
    assert sync.behind, "a fourth entry while syncing: the buffer is dropped"
    assert sync.entry(5, "f5") is None
    assert sync.synced(0, []) is None, "start over with a newer snapshot"
    assert not sync.syncing


def test_the_state_cache_decodes_again_only_when_another_writer_changed_a_field() -> None:
    stored = encode_all(arrived())
    cache = StateCache()
    key = (1, "visitor-0001")
    first = cache.state(key, stored, keep=True)
    assert first is not None
    effects = core.page_view(first, "https://shop.example/a", "A", now=NOW + 1)
    encoded = encode_groups(first, effects.store)
    stored.update(encoded)
    cache.stored(key, first, encoded)
    again = cache.state(key, dict(stored), keep=True)
    assert again is not None
    assert again is not first, "a copy: the core changes what it is given"
    assert again.record == first.record
    again.record.unread = 99  # changed but never stored: the cache must not see it
    kept = cache.state(key, stored, keep=True)
    assert kept is not None
    assert kept.record == first.record
    elsewhere = decode_state(stored)
    assert elsewhere is not None
    stored.update(encode_groups(elsewhere, core.open_chat(elsewhere, AGENT, Plan.PRO).store))  # another process
    fresh = cache.state(key, stored, keep=True)
    assert fresh is not None
    assert fresh.record.chat_status == "active"
    cache.forget(key)
    assert len(cache) == 0
    assert cache.state(key, stored, keep=False) is not None
    assert len(cache) == 0, "kept only for visitors with a tab on this process"


def test_a_snapshot_is_built_from_stored_groups_without_decoding_them() -> None:
    busy = arrived(name="Grace", custom={"plan": "gold"})
    core.page_view(busy, "https://shop.example/cart", "Cart", now=NOW + 1)
    core.visitor_message(busy, message(), from_tab="tab-00001", now=NOW + 2)
    quiet = arrived()
    records = [listed_json(encode_all(busy)), listed_json(encode_all(quiet))]
    assert None not in records
    frame = snapshot_frame(77, "initial", [r for r in records if r is not None], part=2, more=True)
    decoded = agent_events.decode(frame)
    assert decoded == Snapshot(
        seq=77,
        reason="initial",
        visitors=[core.listed(busy.record), core.listed(quiet.record)],
        part=2,
        more=True,
    )
    assert agent_events.decode(snapshot_frame(1, "resume_unavailable", [], part=0, more=False)) == Snapshot(
        seq=1, reason="resume_unavailable", visitors=[]
    )
    assert listed_json(encode_groups(busy, {"chat"})) is None, "incomplete while being removed"
    assert b"pages" not in (records[0] or b""), "no trail in the list"
