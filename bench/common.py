"""Shared helpers of the benchmarks: figures, machine description, synthetic visitors, the offscreen view."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from protocol.messages import PageVisit, Visitor

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QTableView

    from desktop.core.store import VisitorStore
    from desktop.ui.visitor_model import VisitorTableModel

NOW = 1_800_000_000.0
"""The synthetic visitors' 'now' (a ManualClock starts here)."""


# ------------------------------------------------------------------ figures


@dataclass
class Figure:
    """One measured quantity: raw samples plus how to print them."""

    name: str
    unit: str
    samples: list[float]
    target: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def min(self) -> float:
        return min(self.samples) if self.samples else float("nan")

    @property
    def max(self) -> float:
        return max(self.samples) if self.samples else float("nan")

    def line(self) -> str:
        target = f"  [target {self.target}]" if self.target else ""
        note = f"  ({self.note})" if self.note else ""
        return (
            f"{self.name:<66} median {self.median:10.2f} {self.unit:<6} "
            f"min {self.min:10.2f}  max {self.max:10.2f}  n={len(self.samples)}{target}{note}"
        )


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def ms_since(start: float) -> float:
    """Milliseconds elapsed since a ``time.perf_counter()`` value."""
    return (time.perf_counter() - start) * 1000.0


def report(title: str, figures: Iterable[Figure], *, extra: str = "", json_path: str | None = None) -> None:
    """Print a benchmark's figures under a header describing the machine; also as JSON to ``json_path``."""
    figures = list(figures)
    machine = machine_info()
    print(f"== {title}")
    print(machine_line(machine))
    for f in figures:
        print(f.line())
    if extra:
        print(extra)
    sys.stdout.flush()
    if json_path:
        document = {
            "title": title,
            "machine": machine,
            "figures": [
                {
                    "name": f.name.strip(),
                    "unit": f.unit,
                    "median": f.median,
                    "min": f.min,
                    "max": f.max,
                    "n": len(f.samples),
                    "samples": f.samples,
                    "target": f.target,
                    "note": f.note,
                    **({"extra": f.extra} if f.extra else {}),
                }
                for f in figures
            ],
        }
        text = json.dumps(document, indent=1, allow_nan=True)
        if json_path == "-":
            print(text)
        else:
            with open(json_path, "w", encoding="utf-8") as out:
                out.write(text + "\n")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json PATH`` (or ``-`` for standard output): the figures and the machine as JSON, for comparing commits."""
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH ('-': stdout)")


# ------------------------------------------------------------------ machine


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (or platform's guess)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Physical memory in GiB."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


def calibrate() -> float:
    """Milliseconds this process takes for a fixed pure-Python loop now (shows CPU contention; lower is faster)."""

    def loop() -> int:
        total = 0
        for i in range(1_000_000):
            total += i
        return total

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        loop()
        best = min(best, ms_since(t0))
    return best


def git_commit() -> str:
    """The short commit of the code measured ("-" outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
    except OSError:
        return "-"
    return done.stdout.strip() or "-"


def machine_info() -> dict[str, Any]:
    """Cores, CPU, RAM, Python, PySide6, load average, date, calibration loop and commit."""
    try:
        import PySide6

        pyside = PySide6.__version__
    except ImportError:  # the server benchmarks do not need Qt
        pyside = "-"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "ram_gib": round(ram_gib(), 1),
        "python": platform.python_version(),
        "pyside6": pyside,
        "load_avg": [round(x, 2) for x in load],
        "utc": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        "calibration_ms": round(calibrate(), 1),
        "commit": git_commit(),
    }


def machine_line(info: dict[str, Any] | None = None) -> str:
    """One line: cores, CPU, RAM, Python, PySide6, load average, date, calibration loop, commit."""
    m = info if info is not None else machine_info()
    load = m["load_avg"]
    return (
        f"   machine: {m['cores']} cores, {m['cpu']}, {m['ram_gib']:.1f} GiB RAM, "
        f"Python {m['python']}, PySide6 {m['pyside6']}, load avg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{m['utc']} UTC, calibration loop {m['calibration_ms']:.0f} ms, commit {m['commit']}"
    )


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def rss_of(pid: int) -> int:
    """Resident set size of another process (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def base_parser(description: str, **sizes: int) -> argparse.ArgumentParser:
    """An argument parser with ``--runs`` and the benchmark's size options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=5, help="repetitions (the median is reported)")
    for name, default in sizes.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser


# ------------------------------------------------------------------ synthetic visitors

_PAGES = (
    ("https://shop.example/", "Bramble & Brew – loose-leaf tea"),
    ("https://shop.example/product.html", "Smoky Lapsang Souchong – Bramble & Brew"),
    ("https://shop.example/product.html?tea=sencha", "Spring Sencha – Bramble & Brew"),
    ("https://shop.example/product.html?tea=chai", "Rooibos Chai – Bramble & Brew"),
    ("https://shop.example/pricing.html", "Tea subscription plans – Bramble & Brew"),
    ("https://shop.example/about.html", "About us – Bramble & Brew"),
    ("https://shop.example/contact.html", "Contact us – Bramble & Brew"),
)
_COUNTRIES = (
    ("DE", "Germany", "Berlin"),
    ("AT", "Austria", "Vienna"),
    ("CH", "Switzerland", "Zurich"),
    ("US", "United States", "New York"),
    ("GB", "United Kingdom", "London"),
    ("FR", "France", "Paris"),
    ("NL", "Netherlands", "Amsterdam"),
    ("JP", "Japan", "Tokyo"),
)
_BROWSERS = (("Chrome", "Windows", "desktop"), ("Safari", "iOS", "mobile"), ("Firefox", "Linux", "desktop"))
_FIRST = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas")
_LAST = ("Maier", "Huber", "Schmidt", "Novak", "Berger", "Wagner", "Fischer", "Klein")
_REFERRERS = ("https://www.google.com/", "https://duckduckgo.com/", "", "https://news.ycombinator.com/", "")


def visitor_id(i: int) -> str:
    """The id of synthetic visitor ``i`` (matches the protocol's id pattern)."""
    return f"vis{i:09d}"


def make_visitor(i: int, rng: random.Random, now: float = NOW) -> Visitor:
    """A realistic synthetic visitor: a mix of active, idle, chatting, identified, returning, banned."""
    url, title = _PAGES[rng.randrange(len(_PAGES))]
    cc, country, city = _COUNTRIES[rng.randrange(len(_COUNTRIES))]
    browser, os_name, device = _BROWSERS[rng.randrange(len(_BROWSERS))]
    started = now - rng.uniform(5, 3600)
    identified = rng.random() < 0.1
    chat = rng.random()
    status = "none" if chat < 0.95 else ("unanswered" if chat < 0.97 else "active")
    banned = rng.random() < 0.002
    pages = [PageVisit(url=u, title=t, at=started + k * 30) for k, (u, t) in enumerate(rng.sample(_PAGES, 3))]
    return Visitor(
        id=visitor_id(i),
        label=f"#{i:05d}",
        first_seen_at=started - (rng.uniform(0, 86400 * 30) if rng.random() < 0.2 else 0),
        visit_started_at=started,
        last_activity_at=now - rng.uniform(0, 1200),
        visit_count=1 if rng.random() < 0.8 else rng.randint(2, 9),
        online=not banned or rng.random() < 0.5,
        name=f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // 10) % len(_LAST)]}" if identified else None,
        email=f"user{i}@mail.example" if identified else None,
        country_code=cc,
        country=country,
        city=city,
        timezone="Europe/Berlin",
        language="de-DE",
        browser=browser,
        os=os_name,
        device=device,  # type: ignore[arg-type]
        referrer=_REFERRERS[rng.randrange(len(_REFERRERS))] or None,
        current_url=url,
        current_title=title,
        pages=tuple(pages),
        in_chat=status in ("unanswered", "active"),
        customer=identified,
        auto_messaged=rng.random() < 0.05,
        banned=banned,
        chat_status=status,  # type: ignore[arg-type]
        chat_agent_id=1 if status == "active" else None,
        chat_agent_name="Alex" if status == "active" else None,
    )


def make_visitors(n: int, seed: int = 1, now: float = NOW) -> list[Visitor]:
    """``n`` synthetic visitors, deterministic for a seed."""
    rng = random.Random(seed)
    return [make_visitor(i, rng, now) for i in range(n)]


# ------------------------------------------------------------------ Qt


def qt_app() -> QApplication:
    """The process's QApplication (offscreen unless a platform was chosen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        from desktop.app import configure_qt_environment

        configure_qt_environment()  # as the app's main() does
        app = QApplication(["bench"])
        from desktop.ui.style import install_theme

        install_theme(app)  # Fusion and the light palette (FRONTDESK_THEME chooses another), as the app paints
        pointer_away()
    assert isinstance(app, QApplication)
    return app


def pointer_away() -> None:
    """Move the (offscreen) pointer off every window: over the visitor list it would hold the rows' order.

    The offscreen platform starts the pointer at (10, 10), inside a window shown at the origin; the list
    would then defer every move until a calm (desktop/ui/reorder_hold.py), which is not what is measured.
    """
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QCursor

    QCursor.setPos(QPoint(-10_000, -10_000))


def configure_view(view: QTableView, model: VisitorTableModel | None = None) -> None:
    """Set up a table view exactly as the Visitors tab does (``desktop.ui.visitor_table``), 1280x800.

    With ``model`` it is shown with the tab's delegate; without one (the baselines) only the view's own
    settings apply: rows, header, column widths, icon size, frame.
    """
    from desktop.ui.visitor_table import configure_visitor_table, style_table

    if model is None:
        style_table(view)
    else:
        configure_visitor_table(view, model)
    view.resize(1280, 800)


@dataclass
class ModelSetup:
    """The real store, model and an offscreen view of it, shown."""

    store: VisitorStore
    model: VisitorTableModel
    view: QTableView
    clock: Callable[[], float]


def real_model(visitors: list[Visitor], *, show: bool = True, seq: int = 1) -> ModelSetup:
    """Store + VisitorTableModel (real icons) + configured QTableView holding ``visitors``."""
    from PySide6.QtWidgets import QTableView

    from desktop.core.clock import ManualClock
    from desktop.core.store import VisitorStore
    from desktop.integration.resources import state_icon
    from desktop.ui.legend import StateIconProvider
    from desktop.ui.visitor_model import VisitorTableModel
    from protocol.messages import Snapshot

    qt_app()
    store = VisitorStore()
    store.apply(Snapshot(seq=seq, reason="initial", visitors=visitors))
    store.take_changes()
    clock = ManualClock(NOW)
    model = VisitorTableModel(store, clock, StateIconProvider(state_icon))
    view = QTableView()
    configure_view(view, model)
    if show:
        view.show()
        paint(view)
    return ModelSetup(store, model, view, clock)


_paint_counters: dict[int, Any] = {}


def _paint_counter(view: QTableView) -> Any:
    """An event filter on the view's viewport counting paint events (installed once per viewport)."""
    from PySide6.QtCore import QEvent, QObject

    viewport = view.viewport()
    counter = _paint_counters.get(id(viewport))
    if counter is None:

        class PaintCounter(QObject):
            paints = 0

            def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint:
                    self.paints += 1
                return False

        counter = PaintCounter(viewport)  # owned by the viewport: deleted with it
        viewport.installEventFilter(counter)
        _paint_counters[id(viewport)] = counter
        viewport.destroyed.connect(lambda *_: _paint_counters.pop(id(viewport), None))
    return counter


def paint(view: QTableView) -> None:
    """Let Qt do what a change scheduled (layout, then the paint it requested), painting exactly once.

    Processing events paints the viewport when the change asked for an update; only when it did not
    (nothing visible changed) is the viewport repainted explicitly, so one interaction is one paint.
    """
    from PySide6.QtCore import QCoreApplication

    counter = _paint_counter(view)
    before = counter.paints
    QCoreApplication.processEvents()
    if counter.paints == before:
        view.viewport().repaint()


def close_view(view: QTableView) -> None:
    """Hide and delete a view (so several setups can run in one process)."""
    view.hide()
    view.setModel(None)
    view.deleteLater()
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.processEvents()
