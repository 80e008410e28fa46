"""Bodies of the REST API (/api/v1) shared by the server and its clients."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from protocol.messages import AccountInfo, AgentInfo, Custom, Field
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
