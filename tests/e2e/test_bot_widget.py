"""A bot in the real widget: Debian's Chromium walks a flow with quick replies, is handed over, an agent takes it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser

from protocol.bots.flow import FlowSpec
from protocol.messages import GetHistory, History, OpenConversation, SendMessage
from protocol.rules import Plan
from server.bots.store import BotStore
from tests.e2e.test_widget_browser import HOSTILE, browser, connect_agent, demo_tenant, open_shop, shadow
from tests.fixtures.server import LiveServer
from tests.integration.widget.agent_socket import time_factor

__all__ = ["browser"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FLOW: dict[str, Any] = {
    "name": "Night desk",
    "trigger": {"kind": "chat_opened_offline"},
    "start": "hello",
    "steps": [
        {"id": "hello", "kind": "question", "text": "Hi! Nobody is in right now. What is it about?", "store": "topic",
         "replies": [{"label": "An order", "next": "name"}, {"label": HOSTILE, "next": "name"}]},
        {"id": "name", "kind": "ask", "text": "Your name, please?", "store": "name", "next": "email"},
        {"id": "email", "kind": "ask", "text": "Thanks {name}! Your e-mail?", "store": "email", "expect": "email",
         "next": "team"},
        {"id": "team", "kind": "hand_over"},
    ],
}  # fmt: skip


async def test_a_visitor_walks_a_bot_flow_is_handed_over_and_an_agent_takes_the_chat(
    live_server: LiveServer, browser: Browser
) -> None:
    factor = time_factor()
    tenant = demo_tenant(live_server, Plan.STANDARD)

    async def add() -> None:
        await BotStore(live_server.server.services.engine).add(tenant.account_id, msgspec.convert(FLOW, FlowSpec))

    live_server.call(add)
    page, problems = await open_shop(browser)
    await page.goto(f"{live_server.http_url}/demo/pricing.html")
    launcher = shadow(page, "button.launcher")
    await launcher.wait_for(state="visible", timeout=10000 * factor)

    # Nobody is online: opening the chat starts the bot, whose question comes with quick-reply buttons.
    await launcher.click()
    question = shadow(page, ".msg.bot .text")
    await question.first.wait_for(state="attached", timeout=5000 * factor)
    assert await question.first.text_content() == "Hi! Nobody is in right now. What is it about?"
    assert "Night desk" in (await shadow(page, ".msg.bot .who").first.text_content() or "")
    buttons = shadow(page, ".replies button.reply")
    assert await buttons.all_text_contents() == ["An order", HOSTILE], "labels are plain text"
    assert await page.evaluate("window.__pwned") is None

    # Keyboard only: focus the first quick reply and press Enter.
    await buttons.first.focus()
    await page.keyboard.press("Enter")
    await shadow(page, ".msg.bot .text >> text=Your name, please?").wait_for(timeout=5000 * factor)
    assert await shadow(page, ".replies").count() == 0, "the buttons go once answered"

    await shadow(page, "textarea").fill("Ada Lovelace")
    await shadow(page, "textarea").press("Enter")
    await shadow(page, ".msg.bot .text >> text=Thanks Ada Lovelace! Your e-mail?").wait_for(timeout=5000 * factor)
    await shadow(page, "textarea").fill("ada@example.com")
    await shadow(page, "textarea").press("Enter")
    handover = shadow(page, ".msg.system .text")
    await handover.first.wait_for(state="attached", timeout=5000 * factor)
    assert await handover.first.text_content() == "Connecting you to our team"

    # An agent signs in: the visitor waits unanswered, with the bot's answers in the details.
    agent = await connect_agent(live_server, tenant)
    try:
        visitor = await agent.wait_visitor(
            lambda v: v.bot is not None and v.bot.status == "handed_over", 5 * factor, "the handed-over visitor"
        )
        assert visitor.chat_status == "unanswered"
        assert (visitor.name, visitor.email) == ("Ada Lovelace", "ada@example.com")
        assert visitor.custom == {"topic": "An order"}
        assert visitor.bot is not None
        assert visitor.bot.answers == {"topic": "An order", "name": "Ada Lovelace", "email": "ada@example.com"}
        history = await agent.request(GetHistory(ref=agent.next_ref(), visitor_id=visitor.id))
        assert isinstance(history, History)
        assert [m.author for m in history.messages] == ["bot", "visitor", "bot", "visitor", "bot", "visitor", "system"]

        # The agent takes the chat and writes; the visitor sees a person now.
        await agent.request(OpenConversation(ref=agent.next_ref(), visitor_id=visitor.id))
        await agent.wait_visitor(lambda v: v.id == visitor.id and v.chat_status == "active", 5 * factor, "active")
        await agent.request(
            SendMessage(ref=agent.next_ref(), id="agentbot0001", visitor_id=visitor.id, text="Hi Ada, Sam here.")
        )
        await shadow(page, ".msg.agent .text >> text=Hi Ada, Sam here.").wait_for(timeout=5000 * factor)
        assert problems == []
    finally:
        await agent.close()
