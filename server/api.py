"""The REST API under /api/v1: login, logout, identify, rules, history, export and erasure, account settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.response import Response

from protocol.api import (
    ApiError,
    AuditLine,
    Health,
    IdentifyRequest,
    LoginRequest,
    LoginResponse,
    RetentionSettings,
    RoleChange,
)
from protocol.codec import strip_controls
from protocol.messages import AccountInfo, AgentInfo, ChatMessage, ErrorCode
from protocol.rules import PROTOCOL_VERSION, capabilities_for
from server import __version__
from server.hub import RefusedError
from server.rules import AutoRule, RuleError, RuleSpec, validate
from server.security import digest, new_token, verify_password
from server.services import Services
from server.store import AgentRow

log = logging.getLogger(__name__)


class ApiRefusedError(Exception):
    """Ends a request with an ``ApiError`` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def api_failure_handler(_request: Request[Any, Any, Any], exc: ApiRefusedError) -> Response[ApiError]:
    """Render an :class:`ApiRefusedError`."""
    return Response(ApiError(code=exc.code, message=exc.message), status_code=exc.status)


def http_exception_handler(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[ApiError]:
    """Render Litestar's own errors (validation, 404, 405) as ``ApiError``."""
    if isinstance(exc, ValidationException):
        details = "; ".join(
            f"{e.get('key', '?')}: {e.get('message', '')}" for e in (exc.extra or []) if isinstance(e, dict)
        )
        message = f"the request is invalid ({details or exc.detail}); see /schema for the expected body"
        return Response(ApiError(code="bad_request", message=message), status_code=400)
    if isinstance(exc, NotFoundException):
        return Response(
            ApiError(code=ErrorCode.NOT_FOUND, message="no such resource; see /schema for the API"), status_code=404
        )
    code = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.FORBIDDEN}.get(exc.status_code, "http_error")
    return Response(ApiError(code=code, message=str(exc.detail)), status_code=exc.status_code)


def internal_error_handler(_request: Request[Any, Any, Any], exc: Exception) -> Response[ApiError]:
    """Log a bug and answer without details."""
    log.error("request failed", exc_info=exc)
    return Response(
        ApiError(code=ErrorCode.INTERNAL, message="the server failed; nothing was changed, try again"), status_code=500
    )


def services_of(state: State) -> Services:
    """The process's services."""
    services: Services = state["services"]
    return services


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated agent and its token's hash."""

    agent: AgentRow
    token_hash: str


async def _agent(request: Request[Any, Any, Any], services: Services) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiRefusedError(401, ErrorCode.UNAUTHORIZED, "send Authorization: Bearer TOKEN (from /api/v1/auth/login)")
    token_hash = digest(token.strip())
    agent = await services.store.agent_by_token(token_hash)
    if agent is None:
        raise ApiRefusedError(401, ErrorCode.UNAUTHORIZED, "the token is unknown or was revoked; sign in again")
    return Caller(agent=agent, token_hash=token_hash)


async def _admin(request: Request[Any, Any, Any], services: Services, what: str) -> Caller:
    """The calling agent, who must be an admin of their account."""
    caller = await _agent(request, services)
    if caller.agent.role != "admin":
        raise ApiRefusedError(
            403, ErrorCode.FORBIDDEN, f"{what} needs an admin of the account; your role is agent, ask an admin"
        )
    return caller


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on an account's data: its API key (the site's backend) or an admin agent."""

    account_id: int
    name: str
    agent_id: int | None


async def _key_or_admin(request: Request[Any, Any, Any], services: Services, what: str) -> Actor:
    api_key = request.headers.get("x-api-key")
    if api_key:
        row = await services.store.account_by_api_key(digest(api_key))
        if row is None:
            raise ApiRefusedError(
                401, ErrorCode.UNAUTHORIZED, "the API key is wrong; copy it from the account creation"
            )
        return Actor(account_id=row.id, name="API key", agent_id=None)
    caller = await _admin(request, services, what)
    return Actor(account_id=caller.agent.account_id, name=caller.agent.email, agent_id=caller.agent.id)


class HealthController(Controller):
    """Liveness."""

    path = "/api/v1/health"
    tags = ["health"]  # noqa: RUF012

    @get("/", summary="Health and versions")
    async def health(self) -> Health:
        """The server is up; which version and protocol it speaks."""
        return Health(status="ok", version=__version__, protocol=PROTOCOL_VERSION)


class AuthController(Controller):
    """Agent sign-in and sign-out."""

    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012

    @post("/login", status_code=200, summary="Sign in an agent")
    async def login(self, state: State, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]) -> LoginResponse:
        """Exchange e-mail and password for a revocable bearer token."""
        services = services_of(state)
        client = request.client.host if request.client else "?"
        target = "account:" + data.email.strip().lower()
        if services.logins.blocked(client) or services.logins.blocked(target):
            raise ApiRefusedError(
                429,
                ErrorCode.RATE_LIMITED,
                "too many failed sign-ins from your address or for this account; wait a minute and try again",
            )
        agent = await services.store.agent_by_email(data.email)
        ok = await asyncio.to_thread(verify_password, agent.password_hash if agent else None, data.password)
        account = await services.store.account(agent.account_id) if agent is not None and ok else None
        if agent is None or account is None:
            services.logins.failed(client)
            services.logins.failed(target)
            raise ApiRefusedError(401, ErrorCode.UNAUTHORIZED, "wrong e-mail or password; check both and try again")
        # Only the signed-in account's count is cleared: a success of one's own must not reset the
        # address's failures against someone else's account.
        services.logins.succeeded(target)
        token = new_token()
        await services.store.create_token(digest(token), agent.id)
        return LoginResponse(
            token=token,
            agent=AgentInfo(id=agent.id, email=agent.email, name=agent.name, role=agent.role),
            account=AccountInfo(id=account.id, name=account.name, plan=account.plan),
            capabilities=capabilities_for(account.plan),
        )

    @post("/logout", status_code=204, summary="Revoke the token and close its sockets")
    async def logout(self, state: State, request: Request[Any, Any, Any]) -> None:
        """Revoke the bearer token; every socket signed in with it closes."""
        services = services_of(state)
        caller = await _agent(request, services)
        await services.store.revoke_token(caller.token_hash)
        if services.hub is not None:
            services.hub.revoke(caller.token_hash)


class VisitorController(Controller):
    """Visitors: identify (site backend, API key) and conversation history (agents)."""

    path = "/api/v1/visitors"
    tags = ["visitors"]  # noqa: RUF012

    @post("/{visitor_id:str}/identify", status_code=204, summary="Identify a visitor (makes a customer)")
    async def identify(
        self,
        state: State,
        visitor_id: FromPath[str],
        data: JSONBody[IdentifyRequest],
        api_key: Annotated[str | None, HeaderParameter(name="X-Api-Key", required=False)] = None,
    ) -> None:
        """Store name, e-mail, phone and custom fields of a visitor, using the account's API key."""
        services = services_of(state)
        if not api_key:
            raise ApiRefusedError(401, ErrorCode.UNAUTHORIZED, "send the account's API key in the X-Api-Key header")
        row = await services.store.account_by_api_key(digest(api_key))
        if row is None:
            raise ApiRefusedError(
                401, ErrorCode.UNAUTHORIZED, "the API key is wrong; copy it from the account creation"
            )
        assert services.hub is not None
        account = await services.hub.account(row.id)
        clean = IdentifyRequest(
            name=strip_controls(data.name),
            email=strip_controls(data.email),
            phone=strip_controls(data.phone),
            custom={strip_controls(k): strip_controls(v) for k, v in data.custom.items()},
        )
        if account is None or not await services.hub.identify(account, visitor_id, clean):
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no visitor {visitor_id} in this account; check the id")

    @get("/{visitor_id:str}/messages", summary="A visitor's conversation history")
    async def messages(
        self, state: State, request: Request[Any, Any, Any], visitor_id: FromPath[str]
    ) -> list[ChatMessage]:
        """Every stored message of the conversation with a visitor of the caller's account."""
        services = services_of(state)
        caller = await _agent(request, services)
        assert services.hub is not None
        try:
            return await services.hub.history_of(caller.agent.account_id, visitor_id)
        except RefusedError as exc:
            raise ApiRefusedError(404, exc.code, exc.message) from None

    @get("/{visitor_id:str}/export", summary="Everything held about a visitor (right of access)")
    async def export(self, state: State, request: Request[Any, Any, Any], visitor_id: FromPath[str]) -> dict[str, Any]:
        """The visitor's record, every message, fired rules and live presence as JSON (API key or admin)."""
        services = services_of(state)
        actor = await _key_or_admin(request, services, "exporting a visitor's data")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        try:
            return await admin.export_visitor(
                services, actor.account_id, visitor_id, actor=actor.name, actor_id=actor.agent_id
            )
        except admin.AdminError as exc:
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, str(exc)) from None

    @delete("/{visitor_id:str}", status_code=204, summary="Erase a visitor (right to erasure)")
    async def erase(self, state: State, request: Request[Any, Any, Any], visitor_id: FromPath[str]) -> None:
        """Delete identity, messages, custom fields and presence; a ban keeps only the id (API key or admin)."""
        services = services_of(state)
        actor = await _key_or_admin(request, services, "erasing a visitor's data")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        try:
            await admin.erase_visitor(services, actor.account_id, visitor_id, actor=actor.name, actor_id=actor.agent_id)
        except admin.AdminError as exc:
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, str(exc)) from None


class AccountController(Controller):
    """The caller's account: retention (read by every agent, changed by admins), agents and roles, audit log."""

    path = "/api/v1/account"
    tags = ["account"]  # noqa: RUF012

    @get("/retention", summary="Retention settings")
    async def get_retention(self, state: State, request: Request[Any, Any, Any]) -> RetentionSettings:
        """How many days the account keeps departed visitors, messages and offline messages."""
        services = services_of(state)
        caller = await _agent(request, services)
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        kept = await admin.retention(services, caller.agent.account_id)
        return RetentionSettings(
            visitor_days=kept.visitor_days, message_days=kept.message_days, offline_days=kept.offline_days
        )

    @put("/retention", summary="Change retention settings (admins)")
    async def put_retention(
        self, state: State, request: Request[Any, Any, Any], data: JSONBody[RetentionSettings]
    ) -> RetentionSettings:
        """Set the days; what is older is deleted by the next retention run (hourly)."""
        services = services_of(state)
        caller = await _admin(request, services, "changing retention")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings
        from server.store import Retention  # noqa: PLC0415 - keeps the API's imports light

        await admin.set_retention(
            services,
            caller.agent.account_id,
            Retention(visitor_days=data.visitor_days, message_days=data.message_days, offline_days=data.offline_days),
            actor=caller.agent.email,
            actor_id=caller.agent.id,
        )
        return data

    @get("/audit", summary="Audit log (admins)")
    async def audit(
        self,
        state: State,
        request: Request[Any, Any, Any],
        limit: FromQuery[int] = 100,
        before: FromQuery[int | None] = None,
    ) -> list[AuditLine]:
        """Bans, unbans, erasures, exports, take-overs, role, plan and retention changes, newest first."""
        services = services_of(state)
        caller = await _admin(request, services, "reading the audit log")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        entries = await admin.audit_log(services, caller.agent.account_id, limit=limit, before_id=before)
        return [
            AuditLine(
                id=e.id,
                at=e.at,
                actor=e.actor,
                agent_id=e.agent_id,
                action=e.action,
                target=e.target,
                details=e.details,
            )
            for e in entries
        ]

    @get("/agents", summary="The account's agents and their roles")
    async def agents(self, state: State, request: Request[Any, Any, Any]) -> list[AgentInfo]:
        """Every agent of the caller's account."""
        services = services_of(state)
        caller = await _agent(request, services)
        return [
            AgentInfo(id=a.id, email=a.email, name=a.name, role=a.role)
            for a in await services.store.agents(caller.agent.account_id)
        ]

    @put("/agents/{agent_id:int}/role", summary="Change an agent's role (admins)")
    async def set_role(
        self, state: State, request: Request[Any, Any, Any], agent_id: FromPath[int], data: JSONBody[RoleChange]
    ) -> None:
        """Make an agent of the account an admin or a plain agent; their sockets reconnect to learn it."""
        services = services_of(state)
        caller = await _admin(request, services, "changing roles")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        try:
            await admin.set_role(
                services,
                caller.agent.account_id,
                agent_id,
                data.role,
                actor=caller.agent.email,
                actor_id=caller.agent.id,
            )
        except admin.AdminError as exc:
            raise ApiRefusedError(400, "invalid_role_change", str(exc)) from None


class RuleController(Controller):
    """Automatic-message rules of the caller's account."""

    path = "/api/v1/rules"
    tags = ["rules"]  # noqa: RUF012

    @get("/", summary="List rules")
    async def list_rules(self, state: State, request: Request[Any, Any, Any]) -> list[AutoRule]:
        """Every rule of the account."""
        services = services_of(state)
        caller = await _agent(request, services)
        return await services.store.rules(caller.agent.account_id)

    @post("/", status_code=201, summary="Add a rule")
    async def add_rule(self, state: State, request: Request[Any, Any, Any], data: JSONBody[RuleSpec]) -> AutoRule:
        """Add a rule (regular expressions are checked now; admins)."""
        services = services_of(state)
        caller = await _admin(request, services, "changing automatic-message rules")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        try:
            return await admin.add_rule(services, caller.agent.account_id, data)
        except RuleError as exc:
            raise ApiRefusedError(400, "invalid_rule", str(exc)) from None

    @put("/{rule_id:int}", summary="Replace a rule")
    async def update_rule(
        self, state: State, request: Request[Any, Any, Any], rule_id: FromPath[int], data: JSONBody[RuleSpec]
    ) -> AutoRule:
        """Replace a rule of the account (admins)."""
        services = services_of(state)
        caller = await _admin(request, services, "changing automatic-message rules")
        from server import admin  # noqa: PLC0415 - admin imports this module's siblings

        data = admin.clean_rule(data)
        try:
            validate(data)
        except RuleError as exc:
            raise ApiRefusedError(400, "invalid_rule", str(exc)) from None
        rule = await services.store.update_rule(caller.agent.account_id, rule_id, data)
        if rule is None:
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no rule {rule_id} in your account; list them first")
        await _rules_changed(services, caller.agent.account_id)
        return rule

    @delete("/{rule_id:int}", status_code=204, summary="Delete a rule")
    async def delete_rule(self, state: State, request: Request[Any, Any, Any], rule_id: FromPath[int]) -> None:
        """Delete a rule of the account (admins)."""
        services = services_of(state)
        caller = await _admin(request, services, "changing automatic-message rules")
        if not await services.store.delete_rule(caller.agent.account_id, rule_id):
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no rule {rule_id} in your account; list them first")
        await _rules_changed(services, caller.agent.account_id)


async def _rules_changed(services: Services, account_id: int) -> None:
    if services.hub is not None:
        services.hub.rules_changed(account_id, await services.store.rules(account_id))
