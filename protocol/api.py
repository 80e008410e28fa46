"""Bodies of the REST API (/api/v1) shared by the server and its clients."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from protocol.messages import AccountInfo, AgentInfo, Custom, Field, Role
from protocol.rules import Capabilities

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class Health(msgspec.Struct, kw_only=True):
    """GET /api/v1/health: the server is up; which version and protocol it speaks."""

    status: Literal["ok"]
    version: str
    protocol: int


class LoginRequest(msgspec.Struct, kw_only=True):
    """POST /api/v1/auth/login."""

    email: Email
    password: Password


class LoginResponse(msgspec.Struct, kw_only=True):
    """A revocable bearer token for /ws/agent (sent in its ``auth`` frame) and the REST API."""

    token: str
    agent: AgentInfo
    account: AccountInfo
    capabilities: Capabilities


class ApiError(msgspec.Struct, kw_only=True):
    """Body of every 4xx/5xx answer: a machine code and a sentence saying what to do."""

    code: str
    message: str


class IdentifyRequest(msgspec.Struct, kw_only=True):
    """POST /api/v1/visitors/{visitor_id}/identify with the account's API key: makes a customer."""

    name: Field = ""
    email: Field = ""
    phone: Field = ""
    custom: Custom = msgspec.field(default_factory=dict)


Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class RetentionSettings(msgspec.Struct, kw_only=True):
    """GET/PUT /api/v1/account/retention: days an account keeps what it no longer needs (PUT: admins)."""

    visitor_days: Days = 90
    """Departed visitors' records, from their last visit (banned visitors are kept while banned)."""
    message_days: Days = 365
    """Chat messages, from when they were sent."""
    offline_days: Days = 90
    """Messages a visitor left while no agent was online."""


class AuditLine(msgspec.Struct, kw_only=True):
    """One line of GET /api/v1/account/audit (admins): who did what to whom, when."""

    id: int
    at: float
    actor: str
    agent_id: int | None = None
    action: str
    target: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class RoleChange(msgspec.Struct, kw_only=True):
    """PUT /api/v1/account/agents/{agent_id}/role (admins)."""

    role: Role
