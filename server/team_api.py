"""The team layer's REST API: canned responses and the account's team settings."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from protocol.messages import CannedResponse, CannedResponseSpec, ErrorCode
from server.api import ApiRefusedError, Caller, _agent, services_of
from server.services import Services
from server.team_store import DuplicateShortcutError, TeamStore


class TeamSettings(msgspec.Struct, kw_only=True):
    """An account's team settings."""

    unanswered_alert_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)]
    """After how many seconds an unanswered chat alerts every online agent again."""


def _team(services: Services) -> TeamStore:
    return TeamStore(services.engine)


def _require_admin(caller: Caller) -> None:
    """Canned responses and team settings are an admin's to change."""
    if caller.agent.role != "admin":
        raise ApiRefusedError(403, ErrorCode.FORBIDDEN, "only an admin of the account may change this")


async def _changed(services: Services, account_id: int) -> None:
    if services.hub is not None:
        await services.hub.team.canned_changed(account_id)


class CannedController(Controller):
    """Canned responses shared by the caller's account."""

    path = "/api/v1/canned"
    tags = ["team"]  # noqa: RUF012

    @get("/", summary="List canned responses")
    async def list_canned(self, state: State, request: Request[Any, Any, Any]) -> list[CannedResponse]:
        """Every canned response of the account, by shortcut and language."""
        services = services_of(state)
        caller = await _agent(request, services)
        return await _team(services).canned(caller.agent.account_id)

    @post("/", status_code=201, summary="Add a canned response")
    async def add_canned(
        self, state: State, request: Request[Any, Any, Any], data: JSONBody[CannedResponseSpec]
    ) -> CannedResponse:
        """Add one; ``{visitor_name}`` and ``{agent_name}`` are filled in when an agent inserts it."""
        services = services_of(state)
        caller = await _agent(request, services)
        _require_admin(caller)
        try:
            saved = await _team(services).save_canned(caller.agent.account_id, data)
        except DuplicateShortcutError as exc:
            raise ApiRefusedError(409, "duplicate", str(exc)) from None
        assert saved is not None
        await _changed(services, caller.agent.account_id)
        return saved

    @put("/{response_id:int}", summary="Replace a canned response")
    async def update_canned(
        self,
        state: State,
        request: Request[Any, Any, Any],
        response_id: FromPath[int],
        data: JSONBody[CannedResponseSpec],
    ) -> CannedResponse:
        """Replace one of the account's canned responses."""
        services = services_of(state)
        caller = await _agent(request, services)
        _require_admin(caller)
        try:
            saved = await _team(services).save_canned(caller.agent.account_id, data, response_id)
        except DuplicateShortcutError as exc:
            raise ApiRefusedError(409, "duplicate", str(exc)) from None
        if saved is None:
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no canned response {response_id} in your account")
        await _changed(services, caller.agent.account_id)
        return saved

    @delete("/{response_id:int}", status_code=204, summary="Delete a canned response")
    async def delete_canned(self, state: State, request: Request[Any, Any, Any], response_id: FromPath[int]) -> None:
        """Delete one of the account's canned responses."""
        services = services_of(state)
        caller = await _agent(request, services)
        _require_admin(caller)
        if not await _team(services).delete_canned(caller.agent.account_id, response_id):
            raise ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no canned response {response_id} in your account")
        await _changed(services, caller.agent.account_id)


class TeamSettingsController(Controller):
    """The caller's account's team settings."""

    path = "/api/v1/team/settings"
    tags = ["team"]  # noqa: RUF012

    @get("/", summary="Team settings")
    async def get_settings(self, state: State, request: Request[Any, Any, Any]) -> TeamSettings:
        """The account's team settings."""
        services = services_of(state)
        caller = await _agent(request, services)
        seconds = await _team(services).unanswered_alert_seconds(caller.agent.account_id)
        return TeamSettings(unanswered_alert_seconds=seconds)

    @put("/", summary="Change team settings")
    async def put_settings(
        self, state: State, request: Request[Any, Any, Any], data: JSONBody[TeamSettings]
    ) -> TeamSettings:
        """Change the account's team settings (new unanswered chats use them)."""
        services = services_of(state)
        caller = await _agent(request, services)
        _require_admin(caller)
        await _team(services).set_unanswered_alert_seconds(caller.agent.account_id, data.unanswered_alert_seconds)
        return data
