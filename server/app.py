"""The ASGI application: REST API, websocket endpoints, widget and demo files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from server import __version__, metrics
from server.api import (
    AccountController,
    ApiRefusedError,
    AuthController,
    HealthController,
    RuleController,
    VisitorController,
    api_failure_handler,
    http_exception_handler,
    internal_error_handler,
)
from server.bots.api import BotController
from server.config import Settings
from server.logs import protect_logs
from server.services import Services, close_services, open_services, services_ready
from server.sockets import agent_socket, visitor_socket
from server.team_api import CannedController, TeamSettingsController
from server.useragent import warm_up

STATIC = Path(__file__).with_name("static")
NO_CACHE = CacheControlHeader(no_cache=True)
"""Revalidate every time: a new widget.js reaches sites at once."""


@get("/widget.js", include_in_schema=False, cache_control=NO_CACHE)
async def widget_js() -> Response[bytes]:
    """The script websites embed."""
    path = STATIC / "widget.js"
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise HTTPException(status_code=404, detail="widget.js is not installed with this server") from None
    return Response(body, media_type="application/javascript; charset=utf-8")


@get("/", include_in_schema=False)
async def index() -> Response[str]:
    """A pointer for people who open the server in a browser."""
    return Response(
        "Frontdesk server. API: /schema  Health: /api/v1/health  Demo site: /demo/\n", media_type=MediaType.TEXT
    )


@get("/health", include_in_schema=False, cache_control=NO_CACHE)
async def health() -> Response[str]:
    """Liveness for a load balancer: the process serves HTTP."""
    return Response("ok\n", media_type=MediaType.TEXT)


@get("/ready", include_in_schema=False, cache_control=NO_CACHE)
async def ready(state: State) -> Response[str]:
    """Readiness: the database and (with ``--redis``) Redis answer; 503 names what does not."""
    services: Services | None = state.get("services")
    problems = ["starting"] if services is None else await services_ready(services)
    if problems:
        return Response("not ready: " + ", ".join(problems) + "\n", media_type=MediaType.TEXT, status_code=503)
    return Response("ready\n", media_type=MediaType.TEXT)


@get("/metrics", include_in_schema=False, cache_control=NO_CACHE)
async def metrics_text() -> Response[bytes]:
    """Prometheus metrics of this process."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def create_app(settings: Settings, *, services: Services | None = None) -> Litestar:
    """The application; it opens its services (database, hub) on start-up unless given them."""
    protect_logs()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        own = services is None
        opened = await open_services(settings, serve=True) if own else services
        assert opened is not None
        app.state["services"] = opened
        if opened.hub is not None:
            hub = opened.hub
            metrics.watch_sockets(lambda: hub.sockets()[0], lambda: hub.sockets()[1])
        warming = asyncio.get_running_loop().run_in_executor(None, warm_up)
        try:
            yield
        finally:
            await warming
            if own:
                await close_services(opened)

    demo = create_static_files_router(
        path="/demo",
        directories=[STATIC / "demo"],
        html_mode=True,
        cache_control=NO_CACHE,
        include_in_schema=False,
        name="demo",
    )
    return Litestar(
        route_handlers=[
            index,
            health,
            ready,
            metrics_text,
            widget_js,
            demo,
            HealthController,
            AuthController,
            VisitorController,
            RuleController,
            CannedController,
            TeamSettingsController,
            AccountController,
            BotController,
            agent_socket,
            visitor_socket,
        ],
        lifespan=[lifespan],
        exception_handlers={
            ApiRefusedError: api_failure_handler,
            HTTPException: http_exception_handler,
            Exception: internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="Frontdesk",
            version=__version__,
            description="REST API of the Frontdesk live-chat server. Websocket protocol: docs/protocol.md.",
            path="/schema",
        ),
        logging_config=None,
    )
