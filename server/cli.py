"""``frontdesk-server``: serve, and administer accounts, agents, plans, rules, bots, retention and visitors' data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import uvicorn

from protocol.bots.validate import FlowError
from protocol.rules import LEAVE_GRACE_SECONDS, Plan
from server import __version__, admin
from server.app import create_app
from server.bots import manage
from server.bots.store import BotStore
from server.config import DEFAULT_PORT, Settings
from server.embedded import uvicorn_config
from server.rules import RuleConditions, RuleError, RuleSpec
from server.services import Services, close_services, open_services
from server.store import Retention

log = logging.getLogger("server")
PASSWORD_ENV = "FRONTDESK_AGENT_PASSWORD"  # noqa: S105 - the variable's name, not a password


MIN_LEASE_SECONDS = 3.0
ERASED_OFFLINE = (
    "frontdesk-server: note: without --redis this command erased the database only. A server running on "
    "this database still shows the visitor, keeps their messages in its replay history and may store them "
    "again. While a server runs, erase through the desktop app (Erase data…) or DELETE "
    "/api/v1/visitors/VISITOR instead; with several processes, give --redis. Otherwise stop the server, run "
    "this command again, then start the server."
)
"""What an operator must know after ``visitor erase`` without Redis (no way to reach a running server)."""


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


class _Server(uvicorn.Server):
    """uvicorn's server, but a signal ends it with exit status 0 instead of being re-raised."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start; then take everything start-up made out of the cyclic collector's full passes.

        Modules, the app, the database and Redis clients live as long as the process: walking them
        again in every full collection (~40 ms here, more under load) stalled every socket for that
        long, the largest delay in the cross-process latency runs.
        """
        await super().startup(sockets)
        gc.collect()
        gc.freeze()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = [signal.SIGINT, signal.SIGTERM]
        if hasattr(signal, "SIGBREAK"):  # Windows' Ctrl+Break
            signals.append(signal.SIGBREAK)
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def _plan(text: str) -> Plan:
    try:
        return Plan(text.lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown plan {text!r}; use free, standard or pro") from None


def _add_database(parser: argparse.ArgumentParser, *, redis: bool = True) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        default=os.environ.get("FRONTDESK_DATABASE"),
        help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB (default: SQLite in the user data directory; "
        "env FRONTDESK_DATABASE)",
    )
    if redis:
        parser.add_argument(
            "--redis",
            metavar="URL",
            default=os.environ.get("FRONTDESK_REDIS"),
            help="the Redis of running server processes, told about the change at once (env FRONTDESK_REDIS)",
        )


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="frontdesk-server", description="Frontdesk live-chat server.")
    parser.add_argument("--version", action="version", version=f"frontdesk-server {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    _add_database(serve, redis=False)
    serve.add_argument("--geoip", type=Path, metavar="PATH", help="MaxMind GeoLite2/GeoIP2 City or Country .mmdb")
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin (https://shop.example) allowed for every account's widget; repeatable",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="trust X-Forwarded-For/-Proto from these proxy addresses (comma-separated), e.g. 127.0.0.1",
    )
    serve.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("FRONTDESK_REDIS"),
        help="redis://HOST:PORT/DB: run as one of several processes sharing live state (needs the 'redis' extra "
        "and PostgreSQL; env FRONTDESK_REDIS)",
    )
    serve.add_argument(
        "--lease",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with --redis: a process silent this long is taken for dead and its visitors leave (default 10)",
    )
    serve.add_argument(
        "--leave-grace",
        type=float,
        default=LEAVE_GRACE_SECONDS,
        metavar="SECONDS",
        help=f"how long a visitor whose last tab closed stays listed (default {LEAVE_GRACE_SECONDS:g})",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request")

    account = commands.add_parser("account", help="manage accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = account.add_parser(
        "create", help=f"create an account and its first agent (password from stdin or {PASSWORD_ENV})"
    )
    create.add_argument("--name", required=True)
    create.add_argument("--plan", type=_plan, default=Plan.FREE, help="free, standard or pro")
    create.add_argument("--agent-email", required=True)
    create.add_argument("--agent-name", default="")
    create.add_argument("--account-key", help="a fixed public key for the widget (default: random)")
    create.add_argument("--allowed-origin", action="append", default=[], metavar="ORIGIN")
    _add_database(create)
    set_plan = account.add_parser("set-plan", help="change an account's plan")
    set_plan.add_argument("--account-id", type=int, required=True)
    set_plan.add_argument("--plan", type=_plan, required=True)
    _add_database(set_plan)
    origins = account.add_parser("set-origins", help="replace the origins allowed to embed the widget")
    origins.add_argument("--account-id", type=int, required=True)
    origins.add_argument("--origin", action="append", default=[], metavar="ORIGIN")
    _add_database(origins)
    show_retention = account.add_parser("retention", help="show how many days an account keeps visitors' data")
    show_retention.add_argument("--account-id", type=int, required=True)
    _add_database(show_retention)
    set_retention = account.add_parser(
        "set-retention", help="change how many days an account keeps visitors' data (given values only)"
    )
    set_retention.add_argument("--account-id", type=int, required=True)
    set_retention.add_argument("--visitor-days", type=int, metavar="DAYS", help="departed visitors' records")
    set_retention.add_argument("--message-days", type=int, metavar="DAYS", help="chat messages")
    set_retention.add_argument(
        "--offline-days", type=int, metavar="DAYS", help="messages left while no agent was online"
    )
    _add_database(set_retention)
    audit = account.add_parser("audit", help="print an account's audit log as JSON, newest first")
    audit.add_argument("--account-id", type=int, required=True)
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--before-id", type=int, help="only lines older than this id (paging)")
    _add_database(audit)

    agent = commands.add_parser("agent", help="manage agents").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add_agent = agent.add_parser("add", help=f"add an agent (password from stdin or {PASSWORD_ENV})")
    add_agent.add_argument("--account-id", type=int, required=True)
    add_agent.add_argument("--email", required=True)
    add_agent.add_argument("--name", default="")
    add_agent.add_argument(
        "--role",
        choices=["admin", "agent"],
        default="agent",
        help="admin may also change retention, export and erase visitors and edit rules (default agent)",
    )
    _add_database(add_agent)
    role = agent.add_parser("set-role", help="make an agent admin or agent")
    role.add_argument("--account-id", type=int, required=True)
    role.add_argument("--agent-id", type=int, required=True)
    role.add_argument("--role", choices=["admin", "agent"], required=True)
    _add_database(role)
    agent_list = agent.add_parser("list", help="list an account's agents and roles as JSON")
    agent_list.add_argument("--account-id", type=int, required=True)
    _add_database(agent_list)

    visitor = commands.add_parser("visitor", help="a visitor's data: export or erase").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    export = visitor.add_parser("export", help="print everything held about a visitor as JSON (right of access)")
    export.add_argument("--account-id", type=int, required=True)
    export.add_argument("--visitor-id", required=True)
    export.add_argument("--output", type=Path, metavar="FILE", help="write the JSON here instead of stdout")
    _add_database(export)
    erase = visitor.add_parser("erase", help="erase a visitor's data, keeping only what a ban needs")
    erase.add_argument("--account-id", type=int, required=True)
    erase.add_argument("--visitor-id", required=True)
    _add_database(erase)

    rule = commands.add_parser("rule", help="manage automatic messages").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add_rule = rule.add_parser("add", help="add an automatic-message rule (all given conditions must hold)")
    add_rule.add_argument("--account-id", type=int, required=True)
    add_rule.add_argument("--name", required=True)
    add_rule.add_argument("--message", required=True, help="the text the visitor receives")
    add_rule.add_argument("--time-on-page", type=int, metavar="SECONDS")
    add_rule.add_argument("--time-on-site", type=int, metavar="SECONDS")
    add_rule.add_argument("--url-contains")
    add_rule.add_argument("--url-matches", metavar="REGEX")
    add_rule.add_argument("--title-contains")
    add_rule.add_argument("--title-matches", metavar="REGEX")
    add_rule.add_argument("--referrer-contains")
    add_rule.add_argument("--returning", action="store_true", help="only returning visitors")
    add_rule.add_argument("--visit-count-at-least", type=int, metavar="N")
    add_rule.add_argument("--disabled", action="store_true")
    _add_database(add_rule)
    list_rules = rule.add_parser("list", help="list an account's rules as JSON")
    list_rules.add_argument("--account-id", type=int, required=True)
    _add_database(list_rules)
    _add_bot_commands(commands)
    return parser


def _add_bot_commands(commands: Any) -> None:
    """``bot list|export|validate|import|enable|disable``: the same rules as /api/v1/bots."""
    bot = commands.add_parser("bot", help="manage chatbots (docs/bots.md)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    bot_list = bot.add_parser("list", help="list an account's bots as JSON (id, name, on/off, trigger, steps)")
    bot_list.add_argument("--account-id", type=int, required=True)
    _add_database(bot_list, redis=False)
    bot_export = bot.add_parser("export", help="write a bot as an export file (the format import reads)")
    bot_export.add_argument("--account-id", type=int, required=True)
    bot_export.add_argument("--bot-id", type=int, required=True)
    bot_export.add_argument("--output", type=Path, metavar="FILE", help="write the file here instead of stdout")
    _add_database(bot_export, redis=False)
    bot_validate = bot.add_parser(
        "validate", help="check a flow file without storing it; prints every problem, exit status 1 if any"
    )
    bot_validate.add_argument("file", metavar="FILE", help="an export file or a bare flow as JSON; - reads stdin")
    bot_import = bot.add_parser("import", help="add a bot from a file (validated first; nothing is stored if it fails)")
    bot_import.add_argument("--account-id", type=int, required=True)
    bot_import.add_argument("file", metavar="FILE", help="an export file or a bare flow as JSON; - reads stdin")
    _add_database(bot_import, redis=False)
    for action, what in (("enable", "switch a bot on"), ("disable", "switch a bot off (its steps stay)")):
        toggle = bot.add_parser(action, help=what)
        toggle.add_argument("--account-id", type=int, required=True)
        toggle.add_argument("--bot-id", type=int, required=True)
        _add_database(toggle, redis=False)


def read_password() -> str:
    """The agent password from the environment, a terminal prompt or the first line of stdin."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        interactive = sys.stdin.isatty()
        password = getpass.getpass("Agent password: ") if interactive else sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CliError(f"no password given; pipe it on stdin or set {PASSWORD_ENV}")
    return password


def _print_json(value: Any) -> None:
    print(json.dumps(msgspec.to_builtins(value), indent=2))


async def _with_services(
    database: str | None, work: Callable[[Services], Awaitable[Any]], redis_url: str | None = None
) -> Any:
    services = await open_services(Settings(database_url=database, redis_url=redis_url or None), serve=False)
    try:
        return await work(services)
    finally:
        await close_services(services)


def _rule_spec(args: argparse.Namespace) -> RuleSpec:
    conditions = RuleConditions(
        time_on_page_at_least=args.time_on_page,
        time_on_site_at_least=args.time_on_site,
        url_contains=args.url_contains,
        url_matches=args.url_matches,
        title_contains=args.title_contains,
        title_matches=args.title_matches,
        referrer_contains=args.referrer_contains,
        returning_visitor=True if args.returning else None,
        visit_count_at_least=args.visit_count_at_least,
    )
    try:
        return msgspec.convert(
            {
                "name": args.name,
                "message": args.message,
                "conditions": msgspec.to_builtins(conditions),
                "enabled": not args.disabled,
            },
            RuleSpec,
        )
    except msgspec.ValidationError as exc:
        raise CliError(f"invalid rule: {exc}") from None


def read_flow_file(name: str) -> bytes:
    """A flow file's bytes (``-``: stdin), at most one byte over the limit so an oversized file is named as such."""
    limit = manage.MAX_FLOW_BYTES + 1
    if name == "-":
        return sys.stdin.buffer.read(limit)
    try:
        with Path(name).open("rb") as file:
            return file.read(limit)
    except FileNotFoundError:
        raise CliError(f"no file {name}; give the path of a bot's JSON file (or - for stdin)") from None
    except IsADirectoryError:
        raise CliError(f"{name} is a directory; give the path of a bot's JSON file") from None
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None


def _flow_refused(name: str, error: FlowError) -> CliError:
    lines = "\n".join(f"  - step {p.step!r}: {p.message}" if p.step else f"  - {p.message}" for p in error.problems)
    return CliError(f"{name} cannot be imported; nothing was stored. Its problems:\n{lines}")


async def _bot_command(services: Services, args: argparse.Namespace) -> Any:
    """One ``bot`` action on the database (the running processes read flows again within a few seconds)."""
    store = BotStore(services.engine)
    account = await services.store.account(args.account_id)
    if account is None:
        raise CliError(f"there is no account {args.account_id}")
    missing = CliError(
        f"no bot {getattr(args, 'bot_id', None)} in account {args.account_id}; "
        f"list them with: frontdesk-server bot list --account-id {args.account_id}"
    )
    match args.action:
        case "list":
            return [
                {
                    "id": f.id,
                    "name": f.spec.name,
                    "enabled": f.spec.enabled,
                    "trigger": f.spec.trigger.kind,
                    "steps": len(f.spec.steps),
                    "updated_at": f.updated_at,
                }
                for f in await store.flows(args.account_id)
            ]
        case "export":
            exported = await manage.export_flow(store, args.account_id, args.bot_id)
            if exported is None:
                raise missing
            if args.output is None:
                return exported
            args.output.write_bytes(msgspec.json.format(msgspec.json.encode(exported), indent=2) + b"\n")
            return {"bot_id": args.bot_id, "written_to": str(args.output)}
        case "import":
            refusal = manage.plan_refusal(account)
            if refusal is not None:
                raise CliError(refusal)
            try:
                return await manage.import_flow(store, args.account_id, read_flow_file(args.file))
            except FlowError as exc:
                raise _flow_refused(args.file, exc) from None
        case "enable" | "disable":
            enabled = args.action == "enable"
            refusal = manage.plan_refusal(account)
            if enabled and refusal is not None:
                raise CliError(refusal)  # switching a bot off stays possible on any plan, as deleting does
            flow = await manage.set_enabled(store, args.account_id, args.bot_id, enabled)
            if flow is None:
                raise missing
            return {"id": flow.id, "name": flow.spec.name, "enabled": flow.spec.enabled}
    raise CliError(f"unknown command bot {args.action}")  # pragma: no cover


def _bot_validate(args: argparse.Namespace) -> int:
    """``bot validate FILE``: every problem as JSON; exit status 1 when there is one (needs no database)."""
    checked = manage.validate(read_flow_file(args.file))
    _print_json(checked)
    return 0 if checked.ok else 1


def _admin(args: argparse.Namespace) -> int:
    command = (args.command, args.action)

    async def work(services: Services) -> Any:
        match command:
            case ("account", "create"):
                created = await admin.create_account(
                    services,
                    name=args.name,
                    plan=args.plan,
                    agent_email=args.agent_email,
                    agent_password=read_password(),
                    agent_name=args.agent_name,
                    account_key=args.account_key,
                    allowed_origins=args.allowed_origin,
                )
                return {
                    "account_id": created.account_id,
                    "account_key": created.account_key,
                    "api_key": created.api_key,
                    "agent_id": created.agent_id,
                    "plan": args.plan.value,
                }
            case ("account", "set-plan"):
                await admin.set_plan(services, args.account_id, args.plan)
                return {"account_id": args.account_id, "plan": args.plan.value}
            case ("account", "set-origins"):
                await admin.set_allowed_origins(services, args.account_id, args.origin)
                return {"account_id": args.account_id, "allowed_origins": args.origin}
            case ("agent", "add"):
                agent_id = await admin.add_agent(
                    services, args.account_id, args.email, read_password(), args.name, role=args.role
                )
                return {"agent_id": agent_id, "account_id": args.account_id, "email": args.email, "role": args.role}
            case ("agent", "set-role"):
                await admin.set_role(services, args.account_id, args.agent_id, args.role)
                return {"agent_id": args.agent_id, "role": args.role}
            case ("agent", "list"):
                return [
                    {"id": a.id, "email": a.email, "name": a.name, "role": a.role}
                    for a in await services.store.agents(args.account_id)
                ]
            case ("account", "retention"):
                return await admin.retention(services, args.account_id)
            case ("account", "set-retention"):
                kept = await admin.retention(services, args.account_id)
                wanted = Retention(
                    visitor_days=kept.visitor_days if args.visitor_days is None else args.visitor_days,
                    message_days=kept.message_days if args.message_days is None else args.message_days,
                    offline_days=kept.offline_days if args.offline_days is None else args.offline_days,
                )
                return await admin.set_retention(services, args.account_id, wanted)
            case ("account", "audit"):
                return await admin.audit_log(services, args.account_id, limit=args.limit, before_id=args.before_id)
            case ("visitor", "export"):
                exported = await admin.export_visitor(services, args.account_id, args.visitor_id)
                if args.output is None:
                    return exported
                args.output.write_text(json.dumps(exported, indent=2, ensure_ascii=False), encoding="utf-8")
                return {"visitor_id": args.visitor_id, "written_to": str(args.output)}
            case ("visitor", "erase"):
                await admin.erase_visitor(services, args.account_id, args.visitor_id)
                if services.control is None:
                    print(ERASED_OFFLINE.replace("VISITOR", args.visitor_id), file=sys.stderr)
                live = "told every running server process" if services.control is not None else "not reached"
                return {"visitor_id": args.visitor_id, "erased": True, "live": live}
            case ("rule", "add"):
                return await admin.add_rule(services, args.account_id, _rule_spec(args))
            case ("rule", "list"):
                return await admin.list_rules(services, args.account_id)
            case ("bot", _):
                return await _bot_command(services, args)
        raise CliError(f"unknown command {' '.join(command)}")  # pragma: no cover

    _print_json(asyncio.run(_with_services(args.database, work, getattr(args, "redis", None))))
    return 0


def raise_open_files_limit() -> None:
    """Every visitor tab holds a socket: lift the soft open-files limit to the hard one (Unix)."""
    try:
        import resource  # noqa: PLC0415 - Unix only
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            log.warning("could not raise the open-files limit above %d; raise it with ulimit -n", soft)


def _check_cluster_options(redis_url: str, database: str | None, lease: float) -> None:
    """Refuse, with the fix, what cannot work with several processes."""
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise CliError(f"--redis {redis_url!r} is not a Redis URL; use redis://HOST:PORT/0")
    try:
        import redis  # noqa: F401, PLC0415 - optional: only several processes need it
    except ImportError:
        raise CliError("--redis needs the Redis client; install it with: pip install 'frontdesk[redis]'") from None
    if not database or not database.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        raise CliError(
            "--redis needs a database every process shares; give --database postgresql://USER:PASSWORD@HOST/DB"
        )
    if lease < MIN_LEASE_SECONDS:
        # Leases are renewed about once a second: a shorter one would let processes take each other for dead.
        raise CliError(f"--lease must be at least {MIN_LEASE_SECONDS:g} seconds")


def _serve(args: argparse.Namespace) -> int:
    raise_open_files_limit()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.geoip is not None and not args.geoip.is_file():
        raise CliError(f"no MaxMind database at {args.geoip}; give the path of a .mmdb file")
    if args.redis:
        _check_cluster_options(args.redis, args.database, args.lease)
    if args.leave_grace < 0:
        raise CliError("--leave-grace must be zero or more seconds")
    settings = Settings(
        database_url=args.database,
        host=args.host,
        port=args.port,
        geoip_path=args.geoip,
        allowed_origins=tuple(args.allowed_origin),
        access_log=args.access_log,
        forwarded_allow_ips=args.forwarded_allow_ips,
        redis_url=args.redis or None,
        lease_seconds=args.lease,
        leave_grace_seconds=args.leave_grace,
    )
    server = _Server(uvicorn_config(create_app(settings), settings, log_level=args.log_level))
    server.run()
    if not server.started:
        raise CliError("the server could not start (see the log above: port in use? database or Redis unreachable?)")
    log.info("Frontdesk server stopped cleanly")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``frontdesk-server``."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if (args.command, args.action) == ("bot", "validate"):
            return _bot_validate(args)
        return _admin(args)
    except (CliError, admin.AdminError, RuleError) as exc:
        print(f"frontdesk-server: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
