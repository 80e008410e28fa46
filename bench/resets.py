"""A snapshot's reset in the UI parts that keep per-visitor state besides the list: counts, open chats, alerts.

The real ``MainWindow`` (online and unread counts), ``ChatsPanel`` (the open chats) and ``ChatAlerts`` (chats
waiting for an answer) over a real ``VisitorStore`` holding the synthetic visitors as protocol 2 sends them
(no trail, the server's labels; 5% with an open chat); each part's ``on_changes`` is timed with a reset, as
the dispatcher calls it after a snapshot, all in one turn of the event loop. The visitor list's own reset is
measured by bench/view.py.

    .venv/bin/python -m bench.resets [--visitors 100000] [--runs 5] [--json PATH]
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

from bench.common import NOW, Figure, add_json_option, base_parser, make_visitors, ms_since, qt_app, report


def run(visitors: int = 100_000, runs: int = 5) -> list[Figure]:
    """Time each part's handling of ``Changes(reset=True)`` over ``visitors`` visitors, ``runs`` times."""
    from msgspec.structs import replace
    from PySide6.QtCore import QSettings

    from desktop.core.clock import ManualClock
    from desktop.core.store import Changes, VisitorStore
    from desktop.integration.resources import state_icon
    from desktop.net.client import AgentClient
    from desktop.session import ClientActions
    from desktop.settings import Settings
    from desktop.ui.alerts import ChatAlerts
    from desktop.ui.chats_panel import ChatsPanel
    from desktop.ui.conversation import ConversationManager
    from desktop.ui.legend import StateIconProvider
    from desktop.ui.main_window import MainWindow
    from desktop.ui.visitor_model import VisitorTableModel
    from protocol.messages import Snapshot
    from server.live.core import label_for

    qt_app()
    store, clock = VisitorStore(), ManualClock(NOW)
    icons = StateIconProvider(state_icon)
    model = VisitorTableModel(store, clock, icons)
    # A client that is never started: the window only keeps it for actions.
    actions = ClientActions(AgentClient("http://127.0.0.1:9", "unused-token", store))
    conversations = ConversationManager(store, actions, clock)
    window = MainWindow(store, model, actions, conversations=conversations, clock=clock, icons=icons)
    panel = ChatsPanel(store, clock, window)
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as directory:
        settings = Settings(QSettings(f"{directory}/settings.ini", QSettings.Format.IniFormat))
        alerts = ChatAlerts(store, settings, None, clock, ring=lambda: None, parent=window)
        alerts.me = 1
        # As protocol 2 sends them (bench.memory): no trail, labels as the server makes them.
        sent = [replace(v, label=label_for(v), pages=()) for v in make_visitors(visitors, now=NOW)]
        store.apply(Snapshot(seq=1, reason="initial", visitors=sent))
        del sent
        store.take_changes()
        model.apply_changes(Changes(reset=True))
        parts: dict[str, Any] = {
            "MainWindow.on_changes (counts)": window.on_changes,
            "ChatsPanel.on_changes (open chats)": panel.on_changes,
            "ChatAlerts.on_changes (waiting chats)": alerts.on_changes,
        }
        samples: dict[str, list[float]] = {name: [] for name in parts}
        total: list[float] = []
        for _ in range(runs):
            begin = time.perf_counter()
            for name, on_changes in parts.items():
                start = time.perf_counter()
                on_changes(Changes(reset=True))
                samples[name].append(ms_since(start))
            total.append(ms_since(begin))
        counts = f"{window.counts()[0]} online, {len(panel._open)} open chats, {len(alerts._candidates)} waiting"
        alerts.stop()
        window.close()
        window.deleteLater()
    figures = [Figure(f"{name}, {visitors:,} visitors", "ms", values) for name, values in samples.items()]
    figures.append(Figure(f"the three together, {visitors:,} visitors", "ms", total, note=counts))
    return figures


def main() -> None:
    """Command line: ``python -m bench.resets [--visitors N] [--runs N] [--json PATH]``."""
    parser = base_parser(__doc__ or "", visitors=100_000)
    add_json_option(parser)
    args = parser.parse_args()
    report(
        "resets: a snapshot's reset in the window's counts, the chats panel and the alerts",
        run(args.visitors, args.runs),
        json_path=args.json,
    )


if __name__ == "__main__":
    main()
