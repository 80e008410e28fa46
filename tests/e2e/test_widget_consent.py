"""The widget's consent mode (``data-consent="required"``) in headless Chromium on the demo shop's privacy page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from protocol.rules import Plan
from tests.e2e.test_widget_browser import (
    COUNT_SOCKETS,
    RECORD_EVENTS,
    browser,
    connect_agent,
    demo_tenant,
    is_problem,
    shadow,
)
from tests.fixtures.server import LiveServer
from tests.integration.widget.agent_socket import time_factor

__all__ = ["browser"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STORED = """(() => ({
  local: Object.keys(localStorage).filter(k => k.startsWith('frontdesk_')),
  session: Object.keys(sessionStorage).filter(k => k.startsWith('frontdesk_')),
  vid: Object.keys(localStorage).filter(k => k.startsWith('frontdesk_vid_')).map(k => localStorage[k])[0] || null,
}))()"""


async def _tab(context: BrowserContext, problems: list[str], *, consent: bool = False) -> Page:
    """A tab of the shared browser profile that records the widget's events and every problem."""
    page = await context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if is_problem(msg) else None)
    # A consent given earlier: the site's banner calls frontdesk('consent', true) before widget.js loads.
    await page.add_init_script(COUNT_SOCKETS + RECORD_EVENTS + ("frontdesk('consent', true);" if consent else ""))
    return page


async def _stored(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = await page.evaluate(STORED)
    found["cookies"] = [c["name"] for c in await page.context.cookies() if c["name"].startswith("frontdesk_")]
    return found


async def test_nothing_is_stored_before_consent_and_consent_makes_the_visitor_recognisable(
    live_server: LiveServer, browser: Browser
) -> None:
    factor = time_factor()
    tenant = demo_tenant(live_server, Plan.PRO)
    agent = await connect_agent(live_server, tenant)
    try:
        profile = await browser.new_context()
        problems: list[str] = []
        page = await _tab(profile, problems)
        url = f"{live_server.http_url}/demo/privacy.html"
        await page.goto(url)
        first = await agent.wait_visitor(
            lambda v: v.current_url == url and v.online, 5 * factor, "the session-only visitor to appear"
        )
        assert first.session_only
        await page.wait_for_function("window.__events.some(e => e[0] === 'ready')", timeout=5000 * factor)
        assert await _stored(page) == {"local": [], "session": [], "vid": None, "cookies": []}

        # Writing needs no consent; it keeps the conversation in this tab only.
        await shadow(page, "button.launcher").click()
        await shadow(page, "textarea").fill("Is the Earl Grey organic?")
        await shadow(page, "textarea").press("Enter")
        await agent.wait_for(
            lambda: any(m.message.text == "Is the Earl Grey organic?" for m in agent.messages()) or None,
            5 * factor,
            "the session-only visitor's message",
        )
        stored = await _stored(page)
        assert (stored["local"], stored["cookies"]) == ([], [])

        # Consent: the same visitor is remembered from now on, and the mark goes.
        await page.click("#consent-yes")
        consented = await agent.wait_visitor(
            lambda v: v.id == first.id and not v.session_only, 5 * factor, "the visitor to lose the session-only mark"
        )
        assert consented.online
        stored = await _stored(page)
        assert stored["vid"] == first.id
        assert stored["cookies"] == [f"frontdesk_vid_{tenant.account_key}"]

        # The next visit, in a new tab of the same browser profile: the site's banner (here queued before
        # widget.js loads) says consent was given.
        await page.close()
        again = await _tab(profile, problems, consent=True)
        await again.goto(url)
        back = await agent.wait_visitor(
            lambda v: v.id == first.id and v.online and not v.session_only,
            5 * factor,
            "the consenting visitor to be recognised",
        )
        assert back.id == first.id

        # Withdrawal clears what the widget stored; the visitor goes on as a new, session-only one.
        await again.click("#consent-no")
        await agent.wait_visitor(
            lambda v: v.id != first.id and v.online and v.session_only, 5 * factor, "a new session-only visitor"
        )
        assert await _stored(again) == {"local": [], "session": [], "vid": None, "cookies": []}
        assert problems == []
        await profile.close()
    finally:
        await agent.close()
