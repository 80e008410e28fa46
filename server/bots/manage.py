"""Managing an account's bots: the rules the REST API and the command line share (no HTTP, no argparse)."""

from __future__ import annotations

from typing import Final

import msgspec

from protocol.bots.flow import Flow, FlowExport, FlowSpec, Problem, Validation, bots_allowed
from protocol.bots.validate import FlowError, problems
from server.bots.store import BotStore
from server.store import AccountRow

MAX_FLOW_BYTES: Final = 256 * 1024
"""Largest flow accepted by validate and import (a body or a file)."""


def plan_refusal(account: AccountRow | None) -> str | None:
    """Why the account may not add or switch on bots (its plan), or None when it may."""
    if account is not None and bots_allowed(account.plan):
        return None
    plan = account.plan.value.upper() if account is not None else "unknown"
    return f"bots need the STANDARD or PRO plan; this account is on {plan}, upgrade it to use bots"


def decode_flow(body: bytes) -> FlowSpec:
    """A flow from JSON, bare or in an export file; schema errors become one problem naming the field."""
    if len(body) > MAX_FLOW_BYTES:
        raise FlowError([Problem(step=None, message=f"the flow is larger than {MAX_FLOW_BYTES // 1024} KiB")])
    try:
        raw = msgspec.json.decode(body)
        if isinstance(raw, dict) and raw.get("format") == "frontdesk-bot":
            return msgspec.convert(raw, FlowExport).flow
        return msgspec.convert(raw, FlowSpec)
    except RecursionError:
        raise FlowError([Problem(step=None, message="the JSON is nested too deeply to be a flow")]) from None
    except msgspec.ValidationError as exc:
        raise FlowError([Problem(step=None, message=f"the flow does not fit the schema: {exc}")]) from None
    except msgspec.DecodeError as exc:
        raise FlowError([Problem(step=None, message=f"this is not JSON ({exc})")]) from None


def checked(spec: FlowSpec) -> FlowSpec:
    """The flow if it has no problems; else FlowError listing every one, each naming its step."""
    found = problems(spec)
    if found:
        raise FlowError(found)
    return spec


def validate(body: bytes) -> Validation:
    """Every problem of a flow in JSON (bare or an export file): what validate answers."""
    try:
        found = problems(decode_flow(body))
    except FlowError as exc:
        found = exc.problems
    return Validation(ok=not found, problems=found)


async def import_flow(store: BotStore, account_id: int, body: bytes) -> Flow:
    """Add a bot from JSON (an export file or a bare flow), validated first: nothing is stored when it fails."""
    return await store.add(account_id, checked(decode_flow(body)))


async def export_flow(store: BotStore, account_id: int, flow_id: int) -> FlowExport | None:
    """The bot as an importable export file; None when the account has no such bot."""
    flow = await store.get(account_id, flow_id)
    return None if flow is None else FlowExport(flow=flow.spec)


async def set_enabled(store: BotStore, account_id: int, flow_id: int, enabled: bool) -> Flow | None:
    """Switch a bot on or off (its steps stay); None when the account has no such bot."""
    flow = await store.get(account_id, flow_id)
    if flow is None:
        return None
    if flow.spec.enabled == enabled:
        return flow
    return await store.update(account_id, flow_id, msgspec.structs.replace(flow.spec, enabled=enabled))
