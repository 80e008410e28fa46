"""Administration used by the CLI, the REST API, the demo and tests: accounts, agents, roles, plans, rules,
retention, export and erasure of visitors, and the audit log.

Every function takes the process's :class:`~server.services.Services` first; when a hub is
running (``EmbeddedServer.services``) the live state follows the change at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError

from protocol.codec import strip_controls
from protocol.rules import Plan
from server.bots.store import BotStore
from server.live.seams import AccountChanged, AgentChanged, EraseVisitorLive
from server.rules import AutoRule, RuleSpec, validate
from server.security import digest, hash_password, new_account_key, new_api_key
from server.services import Services
from server.store import ROLES, AuditEntry, Retention, Role
from server.team_store import TeamStore

CLI_ACTOR = "command line"
"""Who the audit log names for changes made with ``frontdesk-server``."""
MAX_RETENTION_DAYS = 3650


class AdminError(ValueError):
    """An admin request that cannot be done; the text says why and what to do."""


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    """What account creation hands out (the API key is shown only here)."""

    account_id: int
    account_key: str
    api_key: str
    agent_id: int


async def create_account(
    services: Services,
    *,
    name: str,
    plan: Plan,
    agent_email: str,
    agent_password: str,
    agent_name: str = "",
    account_key: str | None = None,
    allowed_origins: list[str] | None = None,
) -> CreatedAccount:
    """Create an account with its first agent; ``account_key`` may be fixed (the demo's)."""
    if not name.strip():
        raise AdminError("the account needs a name; pass --name")
    if account_key is not None and not (4 <= len(account_key) <= 64):
        raise AdminError("an account key has 4 to 64 characters")
    _check_agent(agent_email, agent_password)
    key = account_key or new_account_key()
    api_key = new_api_key()
    password_hash = await asyncio.to_thread(hash_password, agent_password)
    store = services.store
    if await store.agent_by_email(agent_email) is not None:
        raise AdminError(f"an agent with e-mail {agent_email} already exists; use another e-mail")
    if await store.account_by_key(key) is not None:
        raise AdminError(f"the account key {key} is taken; choose another")
    try:
        account_id = await store.create_account(
            name=name.strip(),
            plan=plan,
            account_key=key,
            api_key_hash=digest(api_key),
            allowed_origins=list(allowed_origins or []),
        )
        agent_id = await store.add_agent(
            account_id=account_id,
            email=agent_email,
            name=agent_name or agent_email.split("@", maxsplit=1)[0],
            password_hash=password_hash,
            role="admin",  # the account's first agent administers it
        )
    except IntegrityError as exc:
        raise AdminError("the account or agent already exists; use another key or e-mail") from exc
    return CreatedAccount(account_id=account_id, account_key=key, api_key=api_key, agent_id=agent_id)


def _check_agent(email: str, password: str) -> None:
    if "@" not in email or len(email) > 254:
        raise AdminError(f"{email!r} is not an e-mail address; pass the agent's e-mail")
    if len(password) < 8:
        raise AdminError("the agent's password needs at least 8 characters")


async def add_agent(
    services: Services, account_id: int, email: str, password: str, name: str = "", *, role: Role = "agent"
) -> int:
    """Add an agent to an account; returns the agent id."""
    _check_agent(email, password)
    _check_role(role)
    if await services.store.account(account_id) is None:
        raise AdminError(f"there is no account {account_id}; list the id printed by 'account create'")
    if await services.store.agent_by_email(email) is not None:
        raise AdminError(f"an agent with e-mail {email} already exists; use another e-mail")
    password_hash = await asyncio.to_thread(hash_password, password)
    try:
        return await services.store.add_agent(
            account_id=account_id,
            email=email,
            name=name or email.split("@", maxsplit=1)[0],
            password_hash=password_hash,
            role=role,
        )
    except IntegrityError as exc:
        raise AdminError(f"an agent with e-mail {email} already exists; use another e-mail") from exc


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AdminError(f"unknown role {role!r}; use admin or agent")


async def set_role(
    services: Services,
    account_id: int,
    agent_id: int,
    role: Role,
    *,
    actor: str = CLI_ACTOR,
    actor_id: int | None = None,
) -> None:
    """Make an agent of the account an admin or a plain agent (their open sockets reconnect to learn it)."""
    _check_role(role)
    agent = await services.store.agent(agent_id)
    if agent is None or agent.account_id != account_id:
        raise AdminError(f"there is no agent {agent_id} in account {account_id}")
    if agent.role == role:
        return
    if role != "admin" and agent.role == "admin":
        admins = [a for a in await services.store.agents(account_id) if a.role == "admin"]
        if len(admins) <= 1:
            raise AdminError("this is the account's last admin; make another agent admin first")
    await services.store.set_role(agent_id, role)
    await services.store.add_audit(
        account_id, actor=actor, agent_id=actor_id, action="role", target=f"agent {agent_id}", details={"role": role}
    )
    if services.hub is not None:
        await services.hub.agent_changed(agent_id)
    elif services.control is not None:  # an admin command with --redis: every running process
        await services.control.publish(AgentChanged(agent_id=agent_id))


async def set_plan(services: Services, account_id: int, plan: Plan, *, actor: str = CLI_ACTOR) -> None:
    """Change an account's plan (connected agents reconnect to learn it)."""
    if not await services.store.update_account(account_id, plan=plan):
        raise AdminError(f"there is no account {account_id}")
    await services.store.add_audit(
        account_id, actor=actor, action="plan", target=f"account {account_id}", details={"plan": plan.value}
    )
    await _account_changed(services, account_id)


async def set_allowed_origins(services: Services, account_id: int, origins: list[str]) -> None:
    """Replace the origins (``https://shop.example``) whose pages may use the account's widget."""
    if not await services.store.update_account(account_id, allowed_origins=origins):
        raise AdminError(f"there is no account {account_id}")
    await _account_changed(services, account_id)


def clean_rule(rule: RuleSpec) -> RuleSpec:
    """The rule with the protocol's text rule applied to its name and message (no control characters)."""
    return msgspec.structs.replace(rule, name=strip_controls(rule.name), message=strip_controls(rule.message))


async def add_rule(services: Services, account_id: int, rule: RuleSpec) -> AutoRule:
    """Add an automatic-message rule (raises RuleError naming a bad condition)."""
    rule = clean_rule(rule)
    validate(rule)
    if await services.store.account(account_id) is None:
        raise AdminError(f"there is no account {account_id}")
    stored = await services.store.add_rule(account_id, rule)
    if services.hub is not None:
        services.hub.rules_changed(account_id, await services.store.rules(account_id))
    elif services.control is not None:
        await services.control.publish(AccountChanged(account_id=account_id))
    return stored


async def _account_changed(services: Services, account_id: int) -> None:
    """Tell the live side: this process's hub, or (an admin command with --redis) every running process."""
    if services.hub is not None:
        await services.hub.refresh_account(account_id)
    elif services.control is not None:
        await services.control.publish(AccountChanged(account_id=account_id))


async def list_rules(services: Services, account_id: int) -> list[AutoRule]:
    """Every rule of an account."""
    return await services.store.rules(account_id)


async def retention(services: Services, account_id: int) -> Retention:
    """An account's retention settings."""
    account = await services.store.account(account_id)
    if account is None:
        raise AdminError(f"there is no account {account_id}")
    return account.retention


async def set_retention(
    services: Services,
    account_id: int,
    retention: Retention,
    *,
    actor: str = CLI_ACTOR,
    actor_id: int | None = None,
) -> Retention:
    """Change how many days an account keeps departed visitors, messages and offline messages."""
    for name, days in (
        ("visitor_days", retention.visitor_days),
        ("message_days", retention.message_days),
        ("offline_days", retention.offline_days),
    ):
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise AdminError(f"{name} must be between 1 and {MAX_RETENTION_DAYS} days, not {days}")
    if not await services.store.update_account(account_id, retention=retention):
        raise AdminError(f"there is no account {account_id}")
    await services.store.add_audit(
        account_id,
        actor=actor,
        agent_id=actor_id,
        action="retention",
        target=f"account {account_id}",
        details={
            "visitor_days": retention.visitor_days,
            "message_days": retention.message_days,
            "offline_days": retention.offline_days,
        },
    )
    await _account_changed(services, account_id)
    return retention


async def export_visitor(
    services: Services, account_id: int, visitor_id: str, *, actor: str = CLI_ACTOR, actor_id: int | None = None
) -> dict[str, Any]:
    """Everything held about one visitor (right of access), as JSON-ready data."""
    stored = await services.store.export_visitor(account_id, visitor_id)
    bots = BotStore(services.engine)
    run = await bots.run(account_id, visitor_id)
    bot = None if run is None else msgspec.to_builtins(run.state)
    flows_run = sorted(await bots.fired(account_id, visitor_id))
    live: dict[str, Any] | None = None
    if services.hub is not None:
        present = await services.hub.visitor_record(account_id, visitor_id)
        if present is not None:
            live = msgspec.to_builtins(present)
    notes = await TeamStore(services.engine).notes(account_id, visitor_id)
    if stored is None and live is None and bot is None and not flows_run and not notes:
        raise AdminError(f"nothing is held about visitor {visitor_id} in account {account_id}")
    await services.store.add_audit(account_id, actor=actor, agent_id=actor_id, action="export", target=visitor_id)
    stored = stored or {"visitor": None, "messages": [], "rules_fired": [], "ip_ban_expires_at": []}
    # The bot's run: its state and the answers it collected, and which flows ran (once per visitor).
    stored["bot_run"] = bot
    stored["bot_flows_run"] = flows_run
    # What agents wrote about them (internal notes) is data about them too.
    stored["notes"] = msgspec.to_builtins(notes)
    return {
        "account_id": account_id,
        "visitor_id": visitor_id,
        "exported_at": time.time(),
        "stored": stored,
        "on_site_now": live,
    }


async def erase_visitor(
    services: Services, account_id: int, visitor_id: str, *, actor: str = CLI_ACTOR, actor_id: int | None = None
) -> None:
    """Erase one visitor everywhere (right to erasure), keeping only what a ban needs."""
    if services.hub is not None:
        erased = await services.hub.erase_visitor(account_id, visitor_id)
    else:
        erased = await services.store.erase_visitor(account_id, visitor_id)
        await BotStore(services.engine).forget_visitor(account_id, visitor_id)
        if services.control is not None:
            # An admin command with --redis: the running processes erase presence and the replay history;
            # whether they held the visitor is not known here, so the request counts as done.
            live = EraseVisitorLive(account_id=account_id, visitor_id=visitor_id, request=uuid.uuid4().hex)
            await services.control.publish(live)
            erased = True
    if not erased:
        raise AdminError(f"nothing is held about visitor {visitor_id} in account {account_id}")
    await services.store.add_audit(account_id, actor=actor, agent_id=actor_id, action="erase", target=visitor_id)


async def audit_log(
    services: Services, account_id: int, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEntry]:
    """The newest lines of an account's audit log, newest first."""
    if await services.store.account(account_id) is None:
        raise AdminError(f"there is no account {account_id}")
    return await services.store.audit(account_id, limit=max(1, min(limit, 1000)), before_id=before_id)
