"""Composition root of the desktop app: CLI, QApplication on the qasync loop, wiring, demo launcher."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop.core.clock import Clock, system_clock
from desktop.credentials import CredentialStore, MemoryStore, open_credential_store
from desktop.integration.appid import APP_ID, APP_NAME, ORGANIZATION, ORGANIZATION_DOMAIN
from desktop.integration.autostart import Autostart
from desktop.integration.i18n import install_translators
from desktop.integration.idle import IdleProbe, open_idle_source
from desktop.integration.resources import app_icon, resource_path, state_icon
from desktop.integration.single_instance import SingleInstance
from desktop.integration.windows import set_app_user_model_id
from desktop.net import account as account_api
from desktop.net.auth import AuthError, login, logout
from desktop.net.bots import BotClient
from desktop.net.client import ConnectionState
from desktop.session import AgentSession
from desktop.settings import Settings
from desktop.ui.bot_editor import BotEditor
from desktop.ui.gc_guard import GuiThreadCollector
from desktop.ui.legend import StateIconProvider
from desktop.ui.login import LoginDialog, normalize_server_url
from desktop.ui.main_window import MainWindow
from desktop.ui.notify import DesktopNotifierAdapter
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.style import install_theme
from desktop.ui.tray import NotificationAdapter, SystrayNotificationAdapter, Tray
from protocol.bots.flow import bots_allowed
from protocol.rules import Plan

if TYPE_CHECKING:
    from server.demo import DemoInfo
    from server.embedded import EmbeddedServer

log = logging.getLogger(__name__)


def app_version() -> str:
    """The installed version of Frontdesk."""
    try:
        return version("frontdesk")
    except PackageNotFoundError:
        return "0+unknown"


class Frontdesk(QObject):
    """The running app: login, one session at a time, the tray; ``run()`` returns when the user quits."""

    def __init__(
        self,
        settings: Settings,
        credentials: CredentialStore,
        *,
        clock: Clock = system_clock,
        demo: DemoInfo | None = None,
        start_minimized: bool = False,
        notifications: NotificationAdapter | None = None,
        use_tray: bool = True,
        autostart: Autostart | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self.demo = demo
        self.autostart = autostart
        self.icons = StateIconProvider(state_icon)
        self.quit_requested = asyncio.Event()
        self.session: AgentSession | None = None
        self.login_dialog: LoginDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.bot_editor: BotEditor | None = None
        self._start_minimized = start_minimized or settings.start_minimized
        self._tasks: set[asyncio.Task[Any]] = set()
        self.tray: Tray | None = None
        # Tests pass their own adapter; the app shows notifications from the tray icon.
        self.adapter: NotificationAdapter | None = notifications
        self._own_adapter: DesktopNotifierAdapter | None = None
        self.idle: IdleProbe | None = None
        """The system's idle time for auto-away, or why there is none (found once per run)."""
        if use_tray and Tray.available():
            self.tray = Tray(app_icon(), self)
            self.tray.showRequested.connect(self.show_window)
            self.tray.quitRequested.connect(self.quit)
            self.tray.show()
        elif use_tray:
            log.info("no system tray available: closing the window quits")

    # ------------------------------------------------------------ lifecycle

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    def start(self) -> None:
        """Log in (demo credentials, a stored token, or the login dialog)."""
        if self.demo is not None:
            self._spawn(self._login(self.demo.http_url, self.demo.agent_email, self.demo.agent_password))
            return
        url, email = self.settings.server_url, self.settings.last_email
        token = self.credentials.get_token(url, email) if email else None
        if token:
            self.start_session(url, email, token)
        else:
            self.show_login()

    async def setup_notifications(self) -> None:
        """Pick how notifications are shown: the system's notification center, else the tray icon."""
        if self.adapter is not None or self.tray is None:
            return
        self._own_adapter = await DesktopNotifierAdapter.open(
            app_name=APP_NAME, icon=resource_path("icons", "frontdesk.svg"), parent=self
        )
        self.adapter = self._own_adapter
        if self.adapter is None:
            self.adapter = SystrayNotificationAdapter(self.tray.icon, self)

    async def setup_idle(self) -> None:
        """Find the system's idle time for auto-away (once; the settings say when there is none)."""
        if self.idle is None:
            self.idle = await open_idle_source()
            if self.idle.source is None:
                log.info("automatic away is off: %s", self.idle.problem)

    async def run(self) -> int:
        """Start, wait for Quit, then close sockets and windows."""
        await self.setup_notifications()
        await self.setup_idle()
        self.start()
        await self.quit_requested.wait()
        await self.shutdown()
        return 0

    def quit(self) -> None:
        """Tray or menu Quit."""
        self.quit_requested.set()

    async def shutdown(self) -> None:
        """Close the session's socket and every window."""
        await self.end_session()
        if self.login_dialog is not None:
            self.login_dialog.hide()
            self.login_dialog.deleteLater()
            self.login_dialog = None
        if self.tray is not None:
            self.tray.hide()
        if self._own_adapter is not None:
            await self._own_adapter.close()
        if self.idle is not None and self.idle.source is not None:
            await self.idle.source.close()
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------ login

    def show_login(self, error: str | None = None) -> LoginDialog:
        """Show the login dialog (non-modal), optionally with why it is shown again."""
        if self.login_dialog is None:
            dialog = LoginDialog(self.settings.server_url, self.settings.last_email)
            dialog.setWindowIcon(app_icon())
            dialog.submitted.connect(lambda url, email, password: self._spawn(self._login(url, email, password)))
            dialog.cancelled.connect(self._login_cancelled)
            self.login_dialog = dialog
        dialog = self.login_dialog
        dialog.show_notice(self.credentials.problem or "")
        if error:
            dialog.show_error(error)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _login_cancelled(self) -> None:
        if self.session is None:
            self.quit()

    async def _login(self, url: str, email: str, password: str) -> None:
        try:
            response = await login(url, email, password)
        except AuthError as exc:
            if self.login_dialog is None:  # demo login failed: nothing to retry with
                self.show_login(exc.message)
            else:
                self.login_dialog.show_error(exc.message)
            return
        if self.login_dialog is not None:
            self.login_dialog.clear_password()
            self.login_dialog.hide()
        self.credentials.set_token(url, email, response.token)
        if self.demo is None:
            self.settings.server_url = url
            self.settings.last_email = email
            self.settings.sync()
        self.start_session(url, email, response.token)

    async def logout(self) -> None:
        """Revoke the token on the server, forget it, and show the login dialog."""
        session = self.session
        if session is None:
            return
        self.credentials.delete_token(session.server_url, session.email)
        await self.end_session()
        try:
            await logout(session.server_url, session.token)
        except AuthError as exc:
            # The token is forgotten here anyway; the server drops it when it expires.
            log.warning("logout could not reach the server: %s", exc.message)
        if self.demo is not None:
            self.quit()
            return
        self.show_login()

    # ------------------------------------------------------------ session

    def start_session(self, url: str, email: str, token: str) -> AgentSession:
        """Connect with a token and open the main window."""
        session = AgentSession(
            url,
            email,
            token,
            settings=self.settings,
            clock=self.clock,
            icons=self.icons,
            adapter=self.adapter,
            tray=self.tray,
            idle=self.idle,
        )
        self.session = session
        window = session.window
        session.wire(window.logoutRequested, self._logout_requested)
        session.wire(window.quitRequested, self.quit)
        session.wire(window.settingsRequested, self.show_settings)
        session.wire(window.botsRequested, self.show_bots)
        session.wire(window.closedToTray, self._window_closed)
        session.wire(session.stateChanged, self._on_state)
        session.wire(window.accountRequested, lambda: self._spawn(self.show_account()))
        if self.demo is not None:
            window.set_demo_url(self.demo.demo_site_url)
            window.statusBar().showMessage(
                window.tr("Demo website: %1 - open it in a browser and chat with yourself.").replace(
                    "%1", self.demo.demo_site_url
                )
            )
        show = not (self._start_minimized and self.tray is not None)
        self._start_minimized = False  # only the first window of the run starts in the tray
        session.start(show=show)
        return session

    async def end_session(self) -> None:
        """Close the socket, the conversations and the main window of the current session."""
        session = self.session
        if session is None:
            return
        self.session = None
        self.save_window(session.window)
        await session.close()

    def _logout_requested(self) -> None:
        self._spawn(self.logout())

    def _on_state(self, state: ConnectionState) -> None:
        session = self.session
        if session is None:
            return
        session.window.set_connection_text(self.state_text(state))
        if state is ConnectionState.UNAUTHORIZED:
            # A stored token that the server no longer accepts: forget it and ask again.
            self.credentials.delete_token(session.server_url, session.email)
            self._spawn(self._relogin(self.tr("Your login expired or was revoked. Please log in again.")))
        elif state is ConnectionState.INCOMPATIBLE:
            self._spawn(self._relogin(self.state_text(state)))

    def state_text(self, state: ConnectionState) -> str:
        """The connection state for the status bar, translated."""
        texts = {
            ConnectionState.CONNECTING: self.tr("Connecting…"),
            ConnectionState.ONLINE: self.tr("Online"),
            ConnectionState.RECONNECTING: self.tr("Connection lost - reconnecting…"),
            ConnectionState.UNAUTHORIZED: self.tr("Signed out: the login was revoked or expired."),
            ConnectionState.INCOMPATIBLE: self.tr(
                "The server speaks another protocol version; install a matching version of Frontdesk."
            ),
            ConnectionState.CLOSED: self.tr("Disconnected"),
        }
        return texts.get(state, state.text)

    async def _relogin(self, reason: str) -> None:
        await self.end_session()
        self.show_login(reason)

    async def show_account(self) -> None:
        """Help > About this account: the account's facts and retention, fetched when asked for."""
        session = self.session
        if session is None:
            return
        try:
            kept = await account_api.retention(session.server_url, session.token)
        except account_api.AccountRequestError as exc:
            log.info("retention settings unavailable: %s", exc.message)
            kept = None
        if self.session is session:
            session.window.show_account(kept)

    # ------------------------------------------------------------ windows

    def show_window(self) -> None:
        """Bring the main window (or the login dialog) forward."""
        if self.session is not None:
            self.session.window.bring_forward()
        elif self.login_dialog is not None:
            self.show_login()

    def save_window(self, window: MainWindow) -> None:
        """Remember where the window was and how the list and detail pane were split."""
        self.settings.window_geometry = bytes(window.saveGeometry().data())
        self.settings.splitter_state = bytes(window.visitors.splitter.saveState().data())
        self.settings.sync()

    def _window_closed(self) -> None:
        if self.session is not None:
            self.save_window(self.session.window)
        if self.tray is None:
            self.quit()  # without a tray the app would be unreachable

    def show_settings(self) -> None:
        """File > Settings."""
        parent = self.session.window if self.session is not None else None
        problem = self.idle.problem if self.idle is not None else None
        dialog = SettingsDialog(self.settings, self.autostart, parent, idle_problem=problem)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.applied.connect(self._settings_applied)
        self.settings_dialog = dialog
        dialog.open()

    def _settings_applied(self) -> None:
        if self.session is not None:
            self.session.settings_changed()

    def show_bots(self) -> None:
        """File > Bots: the bot editor (the server lets admins of STANDARD and PRO accounts change bots)."""
        session = self.session
        if session is None:
            return
        hello = session.hello
        plan = hello.account.plan if hello is not None else None
        # Only admins change bots (the server checks too).
        admin = hello is not None and hello.agent.role == "admin"
        allowed = plan is not None and bots_allowed(plan) and admin
        window = session.window
        if allowed:
            reason = ""
        elif not admin:
            reason = window.tr("Only an admin of the account changes bots; you can look, not change.")
        else:
            reason = window.tr("Bots need the STANDARD or PRO plan; you can look, not change.")
        backend = BotClient(session.server_url, session.token)
        editor = BotEditor(backend, can_edit=allowed, reason=reason, parent=window)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.bot_editor = editor
        editor.refresh()
        editor.open()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())


# ---------------------------------------------------------------- demo


@dataclass
class Demo:
    """The embedded server and its demo account, for ``frontdesk --demo``."""

    server: EmbeddedServer
    info: DemoInfo
    directory: tempfile.TemporaryDirectory[str]

    def stop(self) -> None:
        """Stop the traffic and the server, delete the temporary database."""
        from server.demo import stop_demo  # noqa: PLC0415 (see start_demo_server)

        try:
            stop_demo(self.info)
            self.server.stop()
        finally:
            self.directory.cleanup()


def start_demo_server(plan: Plan, seed: int | None = None) -> Demo:
    """Start an embedded server on a temporary SQLite database with the demo account and traffic."""
    # Imported here: the server stack (litestar, SQLAlchemy) costs start-up time the normal app never needs.
    from server.demo import start_demo  # noqa: PLC0415
    from server.embedded import EmbeddedServer  # noqa: PLC0415

    directory = tempfile.TemporaryDirectory(prefix="frontdesk-demo-")
    database = Path(directory.name) / "demo.sqlite3"
    server = EmbeddedServer(f"sqlite+aiosqlite:///{database}")
    try:
        server.start()
        info = start_demo(server, plan, seed=seed)
    except BaseException:
        with contextlib.suppress(Exception):
            server.stop()
        directory.cleanup()
        raise
    return Demo(server, info, directory)


# ---------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of ``frontdesk``."""
    parser = argparse.ArgumentParser(
        prog="frontdesk", description="See everyone on your website right now and chat with them."
    )
    parser.add_argument("--version", action="version", version=f"frontdesk {app_version()}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start an embedded server with a demo account and simulated visitors, and log in to it",
    )
    parser.add_argument(
        "--plan",
        choices=[p.value for p in Plan],
        default=Plan.PRO.value,
        help="plan of the demo account (default: pro; free shows how Open conversation is gated)",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="seed of the demo traffic (same visitors every run)")
    parser.add_argument("--server", metavar="URL", help="server address to log in to (remembered)")
    parser.add_argument("--minimized", action="store_true", help="start in the tray without showing the window")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (never tokens or messages)")
    return parser.parse_args(argv)


def make_settings() -> Settings:
    """The user's settings in the platform's usual place."""
    return Settings(QSettings(ORGANIZATION, APP_NAME))


async def main_async(
    app: QApplication, args: argparse.Namespace, settings: Settings, instance: SingleInstance | None = None
) -> int:
    """Everything that runs on the qasync loop: demo server, login, windows, until Quit."""
    if args.server:
        url = normalize_server_url(args.server)
        if url is None:
            print(
                f"frontdesk: --server {args.server!r} is not an http(s) URL; use e.g. https://chat.example.com",
                file=sys.stderr,
            )
            return 2
        settings.server_url = url
    demo: Demo | None = None
    credentials: CredentialStore
    if args.demo:
        print("Starting the demo server…", flush=True)
        demo = await asyncio.to_thread(start_demo_server, Plan(args.plan), args.seed)
        print(f"Demo website: {demo.info.demo_site_url}  (open it in a browser to play a visitor)", flush=True)
        print(f"Demo server:  {demo.info.http_url}  agent {demo.info.agent_email}", flush=True)
        credentials = MemoryStore()  # the demo never touches the real keyring
    else:
        credentials = open_credential_store(APP_ID)
    frontdesk = Frontdesk(
        settings,
        credentials,
        demo=demo.info if demo is not None else None,
        start_minimized=args.minimized,
        autostart=None if demo is not None else Autostart(),
    )
    app.aboutToQuit.connect(frontdesk.quit)
    if instance is not None:
        # A second launch asks this one to come forward instead of starting another app.
        instance.activated.connect(lambda _args: frontdesk.show_window())
    loop = asyncio.get_running_loop()
    # Ctrl+C in the terminal (or SIGTERM) quits cleanly, removing the demo's temporary database too.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _n, _f: loop.call_soon_threadsafe(frontdesk.quit))
    # Python runs signal handlers only between bytecodes; wake it now and then while Qt waits in C++.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(300)
    collector = GuiThreadCollector()
    try:
        return await frontdesk.run()
    finally:
        if demo is not None:
            await asyncio.to_thread(demo.stop)
        collector.stop()


def configure_qt_environment() -> None:
    """Qt settings that must be in place before the QApplication exists."""
    # Qt hands large raster fills to a thread pool and waits for it; for the visitor list's repaints the
    # hand-off costs more than it saves: 8.8 -> 5.9 % of a core on an ordinary day (docs/performance.md).
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``frontdesk``."""
    args = parse_args(argv)
    configure_qt_environment()
    set_app_user_model_id(APP_ID)  # Windows: before the first window, so toasts and the taskbar say Frontdesk
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    app.setOrganizationDomain(ORGANIZATION_DOMAIN)
    app.setApplicationVersion(app_version())
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    install_theme(app)  # palette for the system's scheme and contrast; follows them while running
    # A tray app: the last window closing must not end the loop; Quit sets an asyncio.Event instead.
    app.setQuitOnLastWindowClosed(False)
    settings = make_settings()
    try:
        install_translators(app, str(settings.language))
    except ValueError as exc:
        log.warning("%s; using the system language", exc)
        install_translators(app, None)
    instance: SingleInstance | None = None
    if not args.demo:  # a demo is self-contained (own server, temporary database) and may run beside the app
        instance = SingleInstance(parent=app)
        if not instance.claim(sys.argv[1:]):
            print("Frontdesk is already running; brought its window forward.", flush=True)
            return 0
    try:
        # qasync's README: asyncio.run(main(), loop_factory=QEventLoop). Python 3.11's asyncio.run has no
        # loop_factory yet; asyncio.Runner (3.11+) has, and unlike qasync.run it sets no global loop policy.
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(main_async(app, args, settings, instance))
    finally:
        if instance is not None:
            instance.release()


if __name__ == "__main__":
    sys.exit(main())
