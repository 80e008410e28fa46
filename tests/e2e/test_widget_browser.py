"""The real widget.js in Debian's headless Chromium against a real server, watched by a real agent socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, Response, async_playwright

from protocol.codec import encode
from protocol.messages import AgentTyping, Ban, GetHistory, History, OpenConversation, SendMessage, Typing, Visitor
from protocol.rules import Plan
from server.embedded import EmbeddedServer
from server.useragent import parse_user_agent
from tests.fixtures.server import LiveServer, Tenant
from tests.integration.widget.agent_socket import AgentSocket, time_factor
from tests.programs import need_program

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

HOSTILE = '<img src=x onerror="window.__pwned = 1">'

# Counts the sockets the page opens, so a test can tell that a refused widget stops reconnecting.
COUNT_SOCKETS = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = 0;
  window.WebSocket = function (url, protocols) { window.__sockets += 1; return new Real(url, protocols); };
  window.WebSocket.prototype = Real.prototype;
  window.WebSocket.OPEN = Real.OPEN;
})();
"""


# Runs before the page's own scripts: handlers queued through the stub before widget.js has loaded.
RECORD_EVENTS = """
window.__events = [];
window.frontdesk = window.frontdesk || function () { (window.frontdesk.q = window.frontdesk.q || []).push(arguments); };
frontdesk('on', 'ready', function (info) { window.__events.push(['ready', info.visitorId]); });
frontdesk('on', 'message', function (m) { window.__events.push(['message', m.text]); });
frontdesk('on', 'open', function () { window.__events.push(['open']); });
"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    chromium = need_program("chromium", "the widget's end-to-end test runs the real widget in Debian's Chromium")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def is_problem(message: ConsoleMessage) -> bool:
    """A console error other than a failed load (checked by URL in :func:`is_bad`), or the widget's warning.

    The widget logs the server's error frames as warnings, so a frame the server's schema refuses (a wire
    format mismatch) or a rate limit shows up here.
    """
    if message.type == "warning":
        return message.text.startswith("Frontdesk:")
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def is_bad(response: Response) -> bool:
    """A failed HTTP answer; the browser's own favicon probe of a page without one does not count."""
    return response.status >= 400 and not response.url.endswith("/favicon.ico")


async def open_shop(browser: Browser) -> tuple[Page, list[str]]:
    """A tab that records the widget's events, the sockets it opens and every error the page reports."""
    page = await browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if is_problem(msg) else None)
    # Failed loads are named by URL here (the console says only "Failed to load resource").
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if is_bad(r) else None)
    await page.add_init_script(COUNT_SOCKETS + RECORD_EVENTS)
    return page, problems


def demo_tenant(live_server: LiveServer, plan: Plan) -> Tenant:
    """An account with the key the demo shop's pages carry, so the real pages served by the server are used."""
    return live_server.create_account(plan, account_key="demo")


async def connect_agent(live_server: LiveServer, tenant: Tenant) -> AgentSocket:
    """The tenant's agent, signed in through the REST API and connected to /ws/agent."""
    return await AgentSocket.connect(
        live_server.agent_ws_url, live_server.login(tenant.agent_email, tenant.agent_password)
    )


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll ``condition`` (bounded) for what has no event to wait on."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the condition is a list filled by Playwright callbacks
            await asyncio.sleep(0.02)
    assert condition(), what


def shadow(page: Page, selector: str) -> Locator:
    """A locator inside the widget's (open) shadow root."""
    return page.locator(f"#frontdesk-widget {selector}")


async def test_visitor_appears_identifies_chats_and_survives_a_reload(
    live_server: LiveServer, browser: Browser
) -> None:
    factor = time_factor()
    tenant = demo_tenant(live_server, Plan.PRO)
    agent = await connect_agent(live_server, tenant)
    try:
        page, problems = await open_shop(browser)
        shop_url = f"{live_server.http_url}/demo/pricing.html"
        # The budget is for the widget, the server and the agent's socket, not for one-time start-up costs:
        # warm the tab's renderer on the same origin, and the user-agent parser (it compiles its regular
        # expressions on first use, ~0.4 s; the server shares this process).
        await page.goto(f"{live_server.http_url}/api/v1/health")
        await asyncio.to_thread(parse_user_agent, await page.evaluate("navigator.userAgent") + " warm-up")
        await page.goto(shop_url, wait_until="commit")
        visitor = await agent.wait_visitor(
            lambda v: v.current_url == shop_url and v.online, 1.0 * factor, "the browser's visitor to appear"
        )
        assert visitor.current_title == "Tea subscription plans – Bramble & Brew"
        assert visitor.language
        assert visitor.timezone
        assert "Chrom" in (visitor.browser or "")

        # The id is kept in localStorage and a first-party cookie; the page's 'ready' handler queued early ran.
        await page.wait_for_function("window.__events.some(e => e[0] === 'ready')", timeout=5000 * factor)
        stored = await page.evaluate(
            "[Object.keys(localStorage).filter(k => k.startsWith('frontdesk_vid_')).map(k => localStorage[k])[0],"
            " document.cookie, window.__events.find(e => e[0] === 'ready')[1]]"
        )
        assert stored[0] == visitor.id
        assert f"={visitor.id}" in stored[1]
        assert stored[2] == visitor.id

        # Single-page-app navigation is a page view.
        await page.evaluate("document.title = 'Checkout'; history.pushState({}, '', 'pricing.html?step=checkout')")
        await agent.wait_visitor(
            lambda v: v.id == visitor.id and (v.current_url or "").endswith("/demo/pricing.html?step=checkout"),
            5 * factor,
            "the pushState page view",
        )

        # An agent is online, so the contact form sits behind "Leave your details".
        await shadow(page, "button.launcher").click()
        await shadow(page, "button:has-text('Leave your details')").click()
        await shadow(page, "form.contact input[name=name]").fill("Ada Lovelace")
        await shadow(page, "form.contact input[name=email]").fill("ada@example.com")
        await shadow(page, "form.contact button[type=submit]").click()
        identified = await agent.wait_visitor(
            lambda v: v.id == visitor.id and v.customer, 5 * factor, "the contact form to identify the visitor"
        )
        assert (identified.name, identified.email) == ("Ada Lovelace", "ada@example.com")
        await shadow(page, "p.thanks").wait_for(state="visible", timeout=5000 * factor)

        # The visitor writes (Enter sends); the agent receives it.
        await shadow(page, "textarea").fill("Do you ship to Vienna?")
        await agent.wait_for(
            lambda: any(isinstance(e, Typing) and e.who == "visitor" and e.typing for e in agent.events) or None,
            5 * factor,
            "the visitor's typing",
        )
        await shadow(page, "textarea").press("Enter")
        await agent.wait_for(
            lambda: any(m.message.text == "Do you ship to Vienna?" for m in agent.messages()),
            5 * factor,
            "the visitor's message",
        )

        # An agent message made of markup is shown as plain text: no element created, no script run.
        await shadow(page, "button[aria-label='Close chat']").first.click()
        await agent.request(OpenConversation(ref=agent.next_ref(), visitor_id=visitor.id))
        await agent.request(SendMessage(ref=agent.next_ref(), id="agentmsg0001", visitor_id=visitor.id, text=HOSTILE))
        text = shadow(page, ".msg.agent .text")
        await text.first.wait_for(state="attached", timeout=5000 * factor)
        assert await text.first.text_content() == HOSTILE
        await shadow(page, ".badge").wait_for(state="visible", timeout=5000 * factor)
        assert await shadow(page, ".badge").text_content() == "1"
        assert (
            await page.evaluate("document.querySelector('#frontdesk-widget').shadowRoot.querySelectorAll('img').length")
            == 0
        )
        assert await page.evaluate("window.__pwned") is None
        assert ["message", HOSTILE] in await page.evaluate("window.__events")

        # Opening the panel sends Read: the agent sees the message read.
        await shadow(page, "button.launcher").click()
        await agent.wait_for(
            lambda: any(u.message_id == "agentmsg0001" and u.read_at for u in agent.message_updates()),
            5 * factor,
            "the agent's message to be marked read",
        )
        assert ["open"] in await page.evaluate("window.__events")

        # The agent's typing shows in the open panel.
        await agent.ws.send(encode(AgentTyping(visitor_id=visitor.id, typing=True)).decode())
        await shadow(page, ".typing").wait_for(state="visible", timeout=5000 * factor)
        assert "is typing" in (await shadow(page, ".typing").text_content() or "")

        # A reload is the same visitor and shows the conversation again.
        await page.reload()
        await agent.wait_visitor(
            lambda v: v.id == visitor.id and v.online and (v.current_url or "").endswith("?step=checkout"),
            5 * factor,
            "the reloaded page",
        )
        await shadow(page, ".msg.agent .text").first.wait_for(state="attached", timeout=5000 * factor)
        assert await shadow(page, ".msg.agent .text").first.text_content() == HOSTILE
        again = await page.evaluate("window.__events.find(e => e[0] === 'ready')[1]")
        assert again == visitor.id
        assert len([v for v in agent.visitors.values() if v.online]) == 1
        assert problems == []
    finally:
        await agent.close()


async def test_banned_visitor_loses_the_chat_and_stops_reconnecting(live_server: LiveServer, browser: Browser) -> None:
    factor = time_factor()
    tenant = demo_tenant(live_server, Plan.FREE)  # banning works on every plan
    agent = await connect_agent(live_server, tenant)
    try:
        page, problems = await open_shop(browser)
        await page.goto(f"{live_server.http_url}/demo/index.html")
        visitor: Visitor = await agent.wait_visitor(lambda v: v.online, 5 * factor, "the visitor")
        await shadow(page, "button.launcher").wait_for(state="visible", timeout=5000 * factor)

        await agent.request(Ban(ref=agent.next_ref(), visitor_id=visitor.id, reason="spam"))
        await page.locator("#frontdesk-widget").wait_for(state="detached", timeout=5000 * factor)
        sockets = await page.evaluate("window.__sockets")
        # Nothing to poll for: the claim is that no new socket is opened. Wait longer than the first backoff.
        await asyncio.sleep(3 * factor)
        assert await page.evaluate("window.__sockets") == sockets
        assert await page.evaluate("typeof window.frontdesk") == "function"  # the page's calls still do no harm
        await page.evaluate("frontdesk('open'); frontdesk('identify', {name: 'x'})")

        # A reload of a banned visitor never shows the chat (the server refuses before any welcome).
        await page.reload()
        await page.wait_for_function("window.__sockets >= 1", timeout=5000 * factor)
        await page.locator("#frontdesk-widget").wait_for(state="detached", timeout=5000 * factor)
        assert await page.evaluate("window.__sockets") == 1
        stored = json.dumps(await page.evaluate("Object.keys(localStorage)"))
        assert "frontdesk_vid_" in stored
        assert [p for p in problems if "page error" in p] == []
    finally:
        await agent.close()


async def test_offline_messages_are_queued_and_sent_once_after_a_restart(tmp_path: Path, browser: Browser) -> None:
    factor = time_factor()
    database = f"sqlite+aiosqlite:///{tmp_path / 'frontdesk.sqlite3'}"
    first = EmbeddedServer(database, port=0)
    first.start()
    port = first.port
    live = LiveServer(first)
    tenant = demo_tenant(live, Plan.PRO)
    second: EmbeddedServer | None = None
    try:
        page, problems = await open_shop(browser)
        await page.goto(f"{live.http_url}/demo/contact.html")
        await page.wait_for_function("window.__events.some(e => e[0] === 'ready')", timeout=5000 * factor)

        # No agent is online: the panel offers the contact form at once.
        await shadow(page, "button.launcher").click()
        await shadow(page, "form.contact").wait_for(state="visible", timeout=5000 * factor)
        # The shop's own form identifies the visitor through frontdesk('identify', ...).
        await page.fill("#contact-form input[name=name]", "Grace Hopper")
        await page.fill("#contact-form input[name=email]", "grace@example.com")
        await page.fill("#contact-form input[name=phone]", "+1 555 0100")
        await page.click("#contact-form button[type=submit]")
        await shadow(page, "p.thanks").wait_for(state="visible", timeout=5000 * factor)

        # The server goes away; a message written meanwhile waits in the queue.
        first.stop()
        await shadow(page, ".status:has-text('Reconnecting')").wait_for(timeout=5000 * factor)
        await shadow(page, "textarea").fill("Are you there?")
        await shadow(page, "textarea").press("Enter")
        await shadow(page, ".msg.visitor.pending").wait_for(state="attached", timeout=5000 * factor)

        # The same server comes back on the same port and database; the widget reconnects and resends.
        second = EmbeddedServer(database, port=port)
        second.start()
        live = LiveServer(second)
        agent = await connect_agent(live, tenant)
        try:
            # Acknowledged: the pending mark goes (the widget may have resent before the agent connected).
            await shadow(page, ".msg.visitor.pending").wait_for(state="detached", timeout=15000 * factor)
            visitor = await agent.wait_visitor(lambda v: v.online, 5 * factor, "the reconnected visitor")
            assert (visitor.name, visitor.email, visitor.phone) == ("Grace Hopper", "grace@example.com", "+1 555 0100")
            assert visitor.customer
            assert visitor.custom == {"source": "contact page"}
            history = await agent.request(GetHistory(ref=agent.next_ref(), visitor_id=visitor.id))
            assert isinstance(history, History)
            assert [m.text for m in history.messages if m.author == "visitor"] == ["Are you there?"]
        finally:
            await agent.close()
        assert [p for p in problems if "page error" in p] == []
    finally:
        if second is not None:
            second.stop()
        first.stop()


async def test_unknown_account_key_shows_nothing_and_does_not_retry(live_server: LiveServer, browser: Browser) -> None:
    factor = time_factor()
    page, _ = await open_shop(browser)
    warnings: list[str] = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    await page.goto(f"{live_server.http_url}/demo/index.html")  # no account has the key "demo" here
    await page.wait_for_function("window.__sockets >= 1", timeout=5000 * factor)
    await page.locator("#frontdesk-widget").wait_for(state="detached", timeout=5000 * factor)
    assert any(w.startswith("Frontdesk: unknown account key") for w in warnings)
    # Nothing to poll for: the claim is that no second socket is opened. Wait longer than the first backoff.
    await asyncio.sleep(2 * factor)
    assert await page.evaluate("window.__sockets") == 1


async def test_activity_is_throttled_and_leaving_is_reported(live_server: LiveServer, browser: Browser) -> None:
    factor = time_factor()
    tenant = demo_tenant(live_server, Plan.FREE)
    agent = await connect_agent(live_server, tenant)
    try:
        page, problems = await open_shop(browser)
        sent: list[dict[str, Any]] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
        await page.goto(f"{live_server.http_url}/demo/product.html")
        await page.wait_for_function("window.__events.some(e => e[0] === 'ready')", timeout=5000 * factor)
        visitor = await agent.wait_visitor(lambda v: v.online, 5 * factor, "the visitor")

        # A burst of pointer moves, scrolls and key presses within a second or so is one activity frame.
        for i in range(20):
            await page.mouse.move(100 + i * 10, 100 + i * 5)
            await page.mouse.wheel(0, 40)
        await page.keyboard.press("Tab")
        await page.wait_for_function("true")  # let the page's event handlers run
        activities = [f for f in sent if f["type"] == "activity"]
        assert len(activities) == 1
        assert activities[0]["kind"] in ("pointer", "scroll", "input", "focus")

        # The product page switches teas with history.pushState: a page view with the new title.
        await page.click("button[data-tea=sencha]")
        await agent.wait_visitor(
            lambda v: (
                v.current_title == "Spring Sencha – Bramble & Brew" and (v.current_url or "").endswith("?tea=sencha")
            ),
            5 * factor,
            "the single-page-app page view",
        )
        # Playwright reports frames through its own pipe, possibly after the agent heard of them.
        await until(lambda: any(f["type"] == "page_view" for f in sent), 5 * factor, "the page_view frame")
        views = [f for f in sent if f["type"] == "page_view"]
        assert views[-1]["referrer"].endswith("/demo/product.html")

        # The site's own CSS cannot hide or restyle the chat (Shadow DOM and a custom element host).
        await page.add_style_tag(content="div, button, span { display: none !important; color: red !important }")
        await shadow(page, "button.launcher").wait_for(state="visible", timeout=5000 * factor)

        # Leaving: the tab says so on pagehide (dispatched here, as Playwright stops reporting frames of a
        # page being unloaded), and the agent sees the visitor go offline.
        await page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
        await agent.wait_visitor(lambda v: v.id == visitor.id and not v.online, 5 * factor, "the visitor to leave")
        await until(lambda: {"type": "leave"} in sent, 5 * factor, "the leave frame")
        assert [p for p in problems if "page error" in p] == []
    finally:
        await agent.close()
