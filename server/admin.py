"""Administration used by the CLI, the demo and tests: accounts, agents, plans, rules.

Every function takes the process's :class:`~server.services.Services` first; when a hub is
running (``EmbeddedServer.services``) the live state follows the change at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import msgspec
from sqlalchemy.exc import IntegrityError

from protocol.codec import strip_controls
from protocol.rules import Plan
from server.rules import AutoRule, RuleSpec, validate
from server.security import digest, hash_password, new_account_key, new_api_key
from server.services import Services


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
        )
    except IntegrityError as exc:
        raise AdminError("the account or agent already exists; use another key or e-mail") from exc
    return CreatedAccount(account_id=account_id, account_key=key, api_key=api_key, agent_id=agent_id)


def _check_agent(email: str, password: str) -> None:
    if "@" not in email or len(email) > 254:
        raise AdminError(f"{email!r} is not an e-mail address; pass the agent's e-mail")
    if len(password) < 8:
        raise AdminError("the agent's password needs at least 8 characters")


async def add_agent(services: Services, account_id: int, email: str, password: str, name: str = "") -> int:
    """Add an agent to an account; returns the agent id."""
    _check_agent(email, password)
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
        )
    except IntegrityError as exc:
        raise AdminError(f"an agent with e-mail {email} already exists; use another e-mail") from exc


async def set_plan(services: Services, account_id: int, plan: Plan) -> None:
    """Change an account's plan (connected agents reconnect to learn it)."""
    if not await services.store.update_account(account_id, plan=plan):
        raise AdminError(f"there is no account {account_id}")
    if services.hub is not None:
        await services.hub.refresh_account(account_id)


async def set_allowed_origins(services: Services, account_id: int, origins: list[str]) -> None:
    """Replace the origins (``https://shop.example``) whose pages may use the account's widget."""
    if not await services.store.update_account(account_id, allowed_origins=origins):
        raise AdminError(f"there is no account {account_id}")
    if services.hub is not None:
        await services.hub.refresh_account(account_id)


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
    return stored


async def list_rules(services: Services, account_id: int) -> list[AutoRule]:
    """Every rule of an account."""
    return await services.store.rules(account_id)
