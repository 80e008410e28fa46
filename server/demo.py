"""The demo: an account with a fixed widget key, an agent, automatic-message rules and simulated traffic.

``frontdesk --demo`` starts an :class:`~server.embedded.EmbeddedServer`, then calls :func:`start_demo`;
the demo shop at ``/demo/`` carries the real widget with the account key ``demo``.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field

from protocol.rules import Plan
from server import admin
from server.embedded import EmbeddedServer
from server.rules import RuleConditions, RuleSpec
from server.simulator import Traffic, TrafficConfig

DEMO_ACCOUNT_KEY = "demo"
"""The key the demo shop's pages carry in ``data-account`` (server/static/demo/*.html)."""
DEMO_AGENT_EMAIL = "jonas@bramble-brew.example"
DEMO_AGENT_NAME = "Jonas"

DEMO_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        name="Pricing help",
        message="Questions about our plans? I'm happy to help you pick the right subscription.",
        conditions=RuleConditions(url_contains="pricing", time_on_page_at_least=30),
    ),
    RuleSpec(
        name="Welcome back",
        message="Welcome back! Anything I can help you find today?",
        conditions=RuleConditions(returning_visitor=True, time_on_site_at_least=20),
    ),
    RuleSpec(
        name="Newsletter readers",
        message="Hi, newsletter reader! Code LEAF10 takes 10% off your first order.",
        conditions=RuleConditions(referrer_contains="newsletter", time_on_site_at_least=10),
    ),
    RuleSpec(
        name="Contact page",
        message="Prefer a quick answer? Ask right here in the chat.",
        conditions=RuleConditions(url_contains="contact", time_on_page_at_least=15),
    ),
)

DEMO_TRAFFIC = TrafficConfig(
    arrivals_per_minute=8.0,
    max_visits=600,
    initial_visitors=8,
    chat_probability=0.1,
    identify_probability=0.15,
    return_probability=0.3,
    idle_probability=0.15,
)
"""A lively but readable shop: a newcomer every ~8 s, a chat every minute or two."""


@dataclass(frozen=True)
class DemoInfo:
    """What the desktop needs to log in to the demo and where the demo shop is."""

    agent_email: str
    agent_password: str
    account_key: str
    demo_site_url: str
    http_url: str
    account_id: int = 0
    api_key: str = field(default="", repr=False)
    traffic: Traffic | None = field(default=None, repr=False, compare=False)
    server: EmbeddedServer | None = field(default=None, repr=False, compare=False)


def start_demo(
    server: EmbeddedServer, plan: Plan, *, seed: int | None = None, traffic: TrafficConfig | None = None
) -> DemoInfo:
    """Create the demo account, agent and rules on a running server and start simulated traffic on its loop.

    Call from any thread but the server's. ``traffic`` overrides the default behaviour (tests make it short).
    """
    services = server.services
    password = secrets.token_urlsafe(12)
    created = server.call(
        admin.create_account,
        services,
        name="Bramble & Brew",
        plan=plan,
        agent_email=DEMO_AGENT_EMAIL,
        agent_password=password,
        agent_name=DEMO_AGENT_NAME,
        account_key=DEMO_ACCOUNT_KEY,
    )
    for rule in DEMO_RULES:
        server.call(admin.add_rule, services, created.account_id, rule)
    site_url = f"{server.http_url}/demo/"

    async def begin() -> Traffic:
        simulation = Traffic(
            f"{server.ws_url}/ws/visitor",
            created.account_key,
            site_url=site_url,
            config=traffic or DEMO_TRAFFIC,
            seed=seed,
        )
        simulation.start()
        return simulation

    return DemoInfo(
        agent_email=DEMO_AGENT_EMAIL,
        agent_password=password,
        account_key=created.account_key,
        demo_site_url=site_url,
        http_url=server.http_url,
        account_id=created.account_id,
        api_key=created.api_key,
        traffic=server.call(begin),
        server=server,
    )


def stop_demo(info: DemoInfo) -> None:
    """Stop the simulated traffic (every simulated visitor leaves); the server keeps running."""
    if info.traffic is None or info.server is None or not info.traffic.running:
        return  # never started, already stopped, or ended with the server
    with contextlib.suppress(RuntimeError):  # the server stopped meanwhile, and its loop with it
        info.server.call(info.traffic.stop)
