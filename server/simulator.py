"""Simulated website traffic: real websocket visitor clients browsing the Bramble & Brew demo shop.

Each simulated visitor speaks the widget's protocol (``protocol.messages`` VisitorToServer) over a real
websocket to ``/ws/visitor?account=KEY``: it arrives (Poisson), browses pages with dwell times, sends
activity, sometimes goes idle, identifies or starts a chat and answers agents with canned replies, leaves,
and sometimes comes back later with the same visitor id. Choices are deterministic for a given seed.

    traffic = Traffic(visitor_ws_url, "demo", site_url="http://127.0.0.1:8765/demo/", seed=1)
    task = traffic.start()          # on the running loop
    ...
    stats = await traffic.stop()    # every visitor says goodbye and closes its socket
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

from protocol.codec import encode, visitor_events
from protocol.messages import (
    Ack,
    Activity,
    ActivityKind,
    Banned,
    ChatMessage,
    CloseCode,
    Error,
    Identify,
    Leave,
    PageView,
    VisitorChat,
    VisitorHello,
    VisitorMessage,
    VisitorTyping,
    Welcome,
)
from protocol.rules import MAX_FRAME_BYTES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the demo shop: its path under the site URL, its title and the mean dwell time."""

    path: str
    title: str
    dwell: float


# Titles match server/static/demo/*.html so the simulated and the real visitors look alike.
PAGES: tuple[Page, ...] = (
    Page("index.html", "Bramble & Brew – loose-leaf tea, blended in small batches", 20.0),
    Page("product.html", "Smoky Lapsang Souchong – Bramble & Brew", 45.0),
    Page("product.html?tea=sencha", "Spring Sencha – Bramble & Brew", 35.0),
    Page("product.html?tea=chai", "Rooibos Chai – Bramble & Brew", 30.0),
    Page("pricing.html", "Tea subscription plans – Bramble & Brew", 50.0),
    Page("about.html", "About us – Bramble & Brew", 25.0),
    Page("contact.html", "Contact us – Bramble & Brew", 40.0),
)
_PAGE_WEIGHTS = (3.0, 3.0, 2.0, 2.0, 2.5, 1.0, 1.0)
_CONTACT = 6

USER_AGENTS: tuple[str, ...] = (
    # Desktop browsers on Windows, macOS and Linux; phones and tablets; one crawler.
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
)
_UA_WEIGHTS = (6.0, 2.0, 2.0, 3.0, 2.0, 1.0, 1.0, 4.0, 3.0, 1.5, 1.0, 0.3)

LOCALES: tuple[tuple[str, str], ...] = (
    ("de-DE", "Europe/Berlin"),
    ("de-AT", "Europe/Vienna"),
    ("de-CH", "Europe/Zurich"),
    ("en-US", "America/New_York"),
    ("en-US", "America/Los_Angeles"),
    ("en-GB", "Europe/London"),
    ("fr-FR", "Europe/Paris"),
    ("nl-NL", "Europe/Amsterdam"),
    ("es-ES", "Europe/Madrid"),
    ("it-IT", "Europe/Rome"),
    ("pl-PL", "Europe/Warsaw"),
    ("sv-SE", "Europe/Stockholm"),
    ("pt-BR", "America/Sao_Paulo"),
    ("ja-JP", "Asia/Tokyo"),
    ("en-AU", "Australia/Sydney"),
    ("en-IN", "Asia/Kolkata"),
    ("en-CA", "America/Toronto"),
)
_LOCALE_WEIGHTS = (8.0, 2.0, 1.5, 4.0, 2.0, 3.0, 2.0, 1.5, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8, 0.8)

REFERRERS: tuple[str, ...] = (
    "",
    "https://www.google.com/",
    "https://www.google.de/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.ecosia.org/",
    "https://newsletter.brambleandbrew.example/november",
    "https://www.instagram.com/",
    "https://www.facebook.com/",
    "https://www.reddit.com/r/tea/",
    "https://t.co/",
)
_REFERRER_WEIGHTS = (6.0, 6.0, 3.0, 1.5, 1.0, 0.5, 2.0, 1.5, 1.0, 1.0, 0.5)

NAMES: tuple[str, ...] = (
    "Anna Schmidt",
    "Lukas Meyer",
    "Sophie Martin",
    "James Walker",
    "Emma Johansson",
    "Mateo García",
    "Giulia Rossi",
    "Yuki Tanaka",
    "Olivia Brown",
    "Noah Fischer",
    "Zofia Nowak",
    "Lucas Silva",
    "Priya Sharma",
    "Liam O'Connor",
    "Chloé Dubois",
    "Jan de Vries",
)

OPENERS: tuple[str, ...] = (
    "Hi! Do you ship to Austria?",
    "Is the Lapsang very smoky? I've never tried it.",
    "Hello, can I pause the Regular subscription over the summer?",
    "Which tea would you recommend for the evening, without caffeine?",
    "Do you offer gift wrapping?",
    "My order hasn't arrived yet, can you check?",
    "Is the Office plan billed monthly or yearly?",
    "Hi, are the tins refillable?",
)

REPLIES: tuple[str, ...] = (
    "Thanks, that helps!",
    "Great, I'll try that.",
    "How long does shipping usually take?",
    "Perfect, thank you 😊",
    "Ok. And is there a discount for the first order?",
    "Sounds good, I'll order the Regular plan then.",
    "Ah, I see. Thanks for the quick answer!",
    "One more question: can I change the blend later?",
)


def new_id() -> str:
    """A fresh tab or message id matching the protocol's id pattern (not seeded: ids must never repeat)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """How the simulated traffic behaves; every duration is in seconds before ``time_scale``."""

    arrivals_per_minute: float = 12.0
    max_visits: int = 200
    """Bound on visits (first and returning) in one run."""
    initial_visitors: int = 0
    """Visitors who arrive at once at the start, so a demo does not open on an empty list."""
    time_scale: float = 1.0
    """Multiplies every dwell, think and idle time (tests use a small value)."""
    max_pages: int = 6
    identify_probability: float = 0.15
    chat_probability: float = 0.12
    return_probability: float = 0.25
    return_after: tuple[float, float] = (45.0, 300.0)
    """Longer than the server's 30 s leave grace, so a return is a new visit (the visit count grows)."""
    idle_probability: float = 0.15
    idle_time: tuple[float, float] = (660.0, 1200.0)
    """Longer than the 10-minute active window, so idle visitors turn inactive in the dashboard."""
    activity_every: tuple[float, float] = (4.0, 15.0)
    reply_probability: float = 0.9
    """Chance that a visitor answers an agent's message (a little less for automatic ones)."""
    max_replies: int = 4
    think_time: tuple[float, float] = (2.0, 8.0)
    chat_linger: float = 90.0
    """How long a chatting visitor stays after the last message before leaving."""
    connect_timeout: float = 10.0


@dataclass(slots=True)
class TrafficStats:
    """What the traffic did so far (counted on the client side)."""

    arrivals: int = 0
    returns: int = 0
    welcomed: int = 0
    page_views: int = 0
    activities: int = 0
    identified: int = 0
    chats_started: int = 0
    messages_sent: int = 0
    acks: int = 0
    agent_messages: int = 0
    auto_messages: int = 0
    replies: int = 0
    banned: int = 0
    refused: int = 0
    errors: int = 0
    online: int = 0
    max_online: int = 0
    visitor_ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Profile:
    """One simulated person: stays the same across their visits."""

    number: int
    rng: random.Random
    user_agent: str
    language: str
    timezone: str
    referrer: str
    name: str
    email: str
    visitor_id: str | None = None
    identified: bool = False
    banned: bool = False


class _StoppingError(Exception):
    """The traffic is stopping: the visitor says goodbye and closes."""


class _GoneError(Exception):
    """The socket closed under the visitor (banned, or the server is going away)."""


class Traffic:
    """Simulated visitors against a real visitor endpoint, on the running asyncio loop."""

    def __init__(
        self,
        visitor_ws_url: str,
        account_key: str,
        *,
        site_url: str,
        config: TrafficConfig | None = None,
        seed: int | None = None,
        origin: str | None = None,
    ) -> None:
        self._url = f"{visitor_ws_url}?{urlencode({'account': account_key})}"
        self._site_url = site_url if site_url.endswith("/") else site_url + "/"
        parts = urlsplit(self._site_url)
        self._origin = origin or f"{parts.scheme}://{parts.netloc}"
        self.config = config or TrafficConfig()
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self.stats = TrafficStats()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[TrafficStats] | None = None
        self._visits_started = 0
        self._people = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> asyncio.Task[TrafficStats]:
        """Start the traffic as a task on the running loop."""
        if self._main is None:
            self._main = asyncio.get_running_loop().create_task(self.run(), name="frontdesk-traffic")
        return self._main

    async def run(self) -> TrafficStats:
        """Let visitors arrive until ``max_visits`` visits are done or :meth:`stop` is called."""
        cfg = self.config
        for _ in range(min(cfg.initial_visitors, cfg.max_visits)):
            self._arrive()
        rate = cfg.arrivals_per_minute / 60.0
        while self._visits_started < cfg.max_visits and not self._stopping.is_set() and rate > 0:
            if await self._wait(self._rng.expovariate(rate)):
                break
            if self._visits_started < cfg.max_visits:
                self._arrive()
        # Returning visitors are scheduled inside visits; wait for all of them.
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        return self.stats

    async def stop(self, grace: float = 5.0) -> TrafficStats:
        """Stop: every connected visitor sends ``leave`` and closes; stragglers are cancelled."""
        self._stopping.set()
        tasks: list[asyncio.Future[Any]] = list(self._tasks)
        if self._main is not None:
            tasks.append(self._main)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        return self.stats

    @property
    def running(self) -> bool:
        """Whether the traffic was started and has not ended."""
        return self._main is not None and not self._main.done()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    # ------------------------------------------------------------------ people and visits

    def _closed(self, person: _Profile, code: int | None) -> None:
        """Account for how the server ended a visit."""
        if code == CloseCode.FORBIDDEN:
            if not person.banned:
                person.banned = True
                self.stats.banned += 1
        elif code in (1001, 1012):
            # The server is shutting down (1001 from Frontdesk, 1012 from uvicorn): end the traffic
            # now, so nothing is left pending on a loop that is about to close.
            self._stopping.set()
        elif code not in (1000, None) or person.banned:
            self.stats.errors += int(not person.banned)

    def _new_profile(self) -> _Profile:
        rng = random.Random(self._rng.getrandbits(64))  # noqa: S311 - simulation
        self._people += 1
        language, timezone = rng.choices(LOCALES, _LOCALE_WEIGHTS)[0]
        name = rng.choice(NAMES)
        first, _, last = name.partition(" ")
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 99)}@example.com"
        return _Profile(
            number=self._people,
            rng=rng,
            user_agent=rng.choices(USER_AGENTS, _UA_WEIGHTS)[0],
            language=language,
            timezone=timezone,
            referrer=rng.choices(REFERRERS, _REFERRER_WEIGHTS)[0],
            name=name,
            email=email,
        )

    def _arrive(self, profile: _Profile | None = None, delay: float = 0.0) -> None:
        if self._visits_started >= self.config.max_visits:
            return
        self._visits_started += 1
        returning = profile is not None
        person = profile or self._new_profile()
        task = asyncio.get_running_loop().create_task(
            self._visit(person, returning, delay), name=f"frontdesk-visitor-{person.number}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when the traffic is stopping."""
        if self._stopping.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        return self._stopping.is_set()

    def _scaled(self, low: float, high: float, rng: random.Random) -> float:
        return rng.uniform(low, high) * self.config.time_scale

    async def _visit(self, person: _Profile, returning: bool, delay: float) -> None:
        if delay and await self._wait(delay):
            return
        stats = self.stats
        stats.arrivals += 1
        stats.returns += int(returning)
        try:
            async with connect(
                self._url,
                origin=Origin(self._origin),
                user_agent_header=person.user_agent,
                open_timeout=self.config.connect_timeout,
                close_timeout=2,
                max_size=MAX_FRAME_BYTES,
                compression=None,
                proxy=None,  # loopback or the server itself, never through an environment proxy
            ) as ws:
                stats.online += 1
                stats.max_online = max(stats.max_online, stats.online)
                try:
                    await _Visit(self, person, ws, returning).run()
                finally:
                    stats.online -= 1
                self._closed(person, ws.close_code)
        except InvalidStatus as exc:
            stats.refused += 1
            log.debug("visitor %d refused at handshake: HTTP %s", person.number, exc.response.status_code)
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            stats.errors += 1
            log.debug("visitor %d could not connect: %s", person.number, type(exc).__name__)
            if isinstance(exc, ConnectionRefusedError):
                self._stopping.set()  # the server is gone: nobody else can arrive either
        except ConnectionClosed as exc:
            self._closed(person, exc.rcvd.code if exc.rcvd is not None else None)
        if person.banned or self.stopping or person.visitor_id is None:
            return
        cfg = self.config
        if person.rng.random() < cfg.return_probability:
            self._arrive(person, self._scaled(*cfg.return_after, person.rng))


class _Visit:
    """One visit of one person over one websocket."""

    def __init__(self, traffic: Traffic, person: _Profile, ws: ClientConnection, returning: bool) -> None:
        self.traffic = traffic
        self.cfg = traffic.config
        self.stats = traffic.stats
        self.person = person
        self.rng = person.rng
        self.ws = ws
        self.returning = returning
        self.replies = 0
        self.in_chat = False
        self.last_chat_at = 0.0
        self.pending_replies: list[ChatMessage] = []
        self.incoming = asyncio.Event()
        self.gone = False
        self.url = ""

    def page_url(self, page: Page) -> str:
        return urljoin(self.traffic._site_url, page.path)

    async def send(self, message: msgspec.Struct) -> None:
        await self.ws.send(encode(message).decode())

    async def run(self) -> None:
        person = self.person
        first = self._entry_page()
        self.url = self.page_url(first)
        await self.send(
            VisitorHello(
                visitor_id=person.visitor_id,
                tab_id=new_id(),
                url=self.url,
                title=first.title,
                referrer="" if self.returning and self.rng.random() < 0.6 else person.referrer,
                language=person.language,
                timezone=person.timezone,
            )
        )
        welcome = await self._welcome()
        if welcome is None:
            return
        person.visitor_id = welcome.visitor_id
        self.stats.welcomed += 1
        self.stats.visitor_ids.add(welcome.visitor_id)
        reader = asyncio.get_running_loop().create_task(self._read())
        try:
            await self._browse(first)
            await self.send(Leave())
        except _StoppingError:
            await self.send(Leave())
        except asyncio.CancelledError:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self.send(Leave())
            raise
        except (_GoneError, ConnectionClosed):
            pass  # the caller reads the close code
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await reader

    def _entry_page(self) -> Page:
        referrer = self.person.referrer
        if "google" in referrer or "bing" in referrer or "duckduckgo" in referrer or "ecosia" in referrer:
            return self.rng.choice(PAGES[1:4])  # search results lead to products
        if "newsletter" in referrer:
            return PAGES[4]
        return PAGES[0]

    async def _welcome(self) -> Welcome | None:
        try:
            async with asyncio.timeout(self.cfg.connect_timeout):
                while True:
                    event = visitor_events.decode(await self.ws.recv())
                    if isinstance(event, Welcome):
                        return event
                    if isinstance(event, Banned):
                        self._banned()
                        return None
                    if isinstance(event, Error):
                        self.stats.refused += 1
                        log.debug("visitor %d refused: %s", self.person.number, event.code)
                        return None
        except TimeoutError:
            self.stats.errors += 1
            return None

    def _banned(self) -> None:
        if not self.person.banned:
            self.person.banned = True
            self.stats.banned += 1

    async def _read(self) -> None:
        """Take what the server sends; agents' messages are answered from the browsing loop."""
        try:
            await self._read_frames()
        except ConnectionClosed:
            pass
        finally:
            self.gone = True
            self.incoming.set()

    async def _read_frames(self) -> None:
        async for frame in self.ws:
            try:
                event = visitor_events.decode(frame)
            except ValueError:
                self.stats.errors += 1
                continue
            if isinstance(event, VisitorMessage):
                message = event.message
                if message.author == "visitor":
                    continue
                if message.author == "auto":
                    self.stats.auto_messages += 1
                else:
                    self.stats.agent_messages += 1
                self.pending_replies.append(message)
                self.incoming.set()
            elif isinstance(event, Banned):
                self._banned()
                self.incoming.set()
            elif isinstance(event, Error):
                log.debug("visitor %d got error %s", self.person.number, event.code)
            elif isinstance(event, Ack):
                self.stats.acks += 1

    async def pause(self, seconds: float, *, active: bool = True) -> None:
        """Stay on the page for ``seconds``, sending activity now and then and answering agents."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        next_activity = loop.time() + self.traffic._scaled(*self.cfg.activity_every, self.rng)
        while True:
            if self.person.banned or self.gone:
                raise _GoneError
            now = loop.time()
            if now >= end and not self.pending_replies:
                return
            wake = min(end, next_activity) if active else end
            self.incoming.clear()
            if not self.pending_replies:
                stop_task = asyncio.ensure_future(self.traffic._stopping.wait())
                incoming_task = asyncio.ensure_future(self.incoming.wait())
                try:
                    await asyncio.wait(
                        {stop_task, incoming_task}, timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    stop_task.cancel()
                    incoming_task.cancel()
            if self.traffic.stopping:
                raise _StoppingError
            if self.pending_replies:
                await self._answer(self.pending_replies.pop(0))
                # A visitor in a conversation stays a while after each message.
                end = max(end, loop.time() + self.cfg.chat_linger * self.cfg.time_scale)
                continue
            if active and loop.time() >= next_activity:
                kind: ActivityKind = self.rng.choices(("scroll", "pointer", "input", "focus"), (5, 4, 1, 1))[0]
                await self.send(Activity(kind=kind))
                self.stats.activities += 1
                next_activity = loop.time() + self.traffic._scaled(*self.cfg.activity_every, self.rng)

    async def _answer(self, message: ChatMessage) -> None:
        limit = self.cfg.reply_probability * (0.6 if message.author == "auto" else 1.0)
        if self.replies >= self.cfg.max_replies or self.rng.random() >= limit:
            return
        self.replies += 1
        await self.send(VisitorTyping(typing=True))
        await self._think()
        text = self.rng.choice(OPENERS) if message.author == "auto" and not self.in_chat else self.rng.choice(REPLIES)
        await self._say(text)
        self.stats.replies += 1

    async def _think(self) -> None:
        if await self.traffic._wait(self.traffic._scaled(*self.cfg.think_time, self.rng)):
            raise _StoppingError

    async def _say(self, text: str) -> None:
        await self.send(VisitorTyping(typing=False))
        await self.send(VisitorChat(id=new_id(), text=text))
        self.stats.messages_sent += 1
        self.in_chat = True

    async def _browse(self, first: Page) -> None:
        cfg, rng = self.cfg, self.rng
        pages = rng.randint(1, cfg.max_pages)
        identify_here = rng.randrange(pages) if rng.random() < cfg.identify_probability else -1
        chat_here = rng.randrange(pages) if rng.random() < cfg.chat_probability else -1
        page = first
        for index in range(pages):
            if index:
                page = self._next_page(page)
                previous, self.url = self.url, self.page_url(page)
                await self.send(PageView(url=self.url, title=page.title, referrer=previous))
                self.stats.page_views += 1
            else:
                self.stats.page_views += 1  # the hello carries the first page view
            dwell = rng.expovariate(1.0 / page.dwell) * cfg.time_scale
            if index == chat_here:
                await self.pause(dwell / 3)
                await self.send(VisitorTyping(typing=True))
                await self._think()
                await self._say(rng.choice(OPENERS))
                self.stats.chats_started += 1
                dwell = max(dwell, cfg.chat_linger * cfg.time_scale)
            if index == identify_here and not self.person.identified:
                await self.pause(dwell / 2)
                await self._identify(page)
            await self.pause(dwell)
        if rng.random() < cfg.idle_probability:
            # Tab left open in the background: no activity until it turns inactive, then gone.
            await self.send(Activity(kind="hidden"))
            await self.pause(self.traffic._scaled(*cfg.idle_time, rng), active=False)

    async def _identify(self, page: Page) -> None:
        person = self.person
        custom = {"source": "contact page" if page is PAGES[_CONTACT] else "chat form"}
        if self.rng.random() < 0.3:
            custom["plan"] = self.rng.choice(("Taster", "Regular", "Office"))
        phone = f"+49 30 {self.rng.randint(1000000, 9999999)}" if self.rng.random() < 0.3 else ""
        await self.send(Identify(name=person.name, email=person.email, phone=phone, custom=custom))
        person.identified = True
        self.stats.identified += 1

    def _next_page(self, current: Page) -> Page:
        choices = [p for p in PAGES if p is not current]
        weights = [w for p, w in zip(PAGES, _PAGE_WEIGHTS, strict=True) if p is not current]
        return self.rng.choices(choices, weights)[0]


async def run_visitors(
    visitor_ws_url: str,
    account_key: str,
    count: int,
    rate: float,
    *,
    site_url: str,
    seed: int = 0,
    config: TrafficConfig | None = None,
) -> TrafficStats:
    """Run ``count`` visits arriving at ``rate`` per second; return the stats once all have ended.

    Cancelling the call stops the visitors cleanly (each sends ``leave`` and closes).
    """
    base = config or TrafficConfig()
    cfg = replace(base, max_visits=count, arrivals_per_minute=rate * 60.0)
    traffic = Traffic(visitor_ws_url, account_key, site_url=site_url, config=cfg, seed=seed)
    task = traffic.start()
    try:
        return await asyncio.shield(task)
    finally:
        if not task.done():
            await traffic.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m server.simulator``: simulated visitors against a running server until done or Ctrl+C."""
    import argparse  # noqa: PLC0415 - only the command line needs it

    parser = argparse.ArgumentParser(
        prog="python -m server.simulator", description="Send simulated website visitors to a Frontdesk server."
    )
    parser.add_argument("--server", default="http://127.0.0.1:8765", help="the server's http(s) address")
    parser.add_argument("--account", default="demo", help="the account key (data-account of the widget)")
    parser.add_argument("--visits", type=int, default=200, help="how many visits in all (returns included)")
    parser.add_argument("--per-minute", type=float, default=12.0, help="arrivals per minute")
    parser.add_argument("--initial", type=int, default=5, help="visitors who arrive at once at the start")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies dwell and idle times")
    parser.add_argument("--seed", type=int, default=None, help="makes the visitors' choices repeatable")
    args = parser.parse_args(argv)
    server = args.server.rstrip("/")
    ws_url = "ws" + server.removeprefix("http") + "/ws/visitor"
    config = TrafficConfig(
        arrivals_per_minute=args.per_minute,
        max_visits=args.visits,
        initial_visitors=args.initial,
        time_scale=args.time_scale,
    )

    async def run() -> TrafficStats:
        traffic = Traffic(ws_url, args.account, site_url=f"{server}/demo/", config=config, seed=args.seed)
        task = traffic.start()
        try:
            return await asyncio.shield(task)
        finally:
            if not task.done():
                await traffic.stop()

    try:
        stats = asyncio.run(run())
    except KeyboardInterrupt:
        return 130
    print(
        f"{stats.arrivals} visits ({stats.returns} returns), {stats.page_views} page views, "
        f"{stats.identified} identified, {stats.chats_started} chats, {stats.errors} errors, {stats.refused} refused"
    )
    return 0 if stats.welcomed else 1


if __name__ == "__main__":
    raise SystemExit(main())
