"""REST API of bots under /api/v1/bots: list, read, create, replace, delete, validate, import, export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.response import Response

from protocol.bots.flow import Flow, FlowExport, FlowRefused, FlowSpec, Validation
from protocol.bots.validate import FlowError
from protocol.messages import ErrorCode
from server.api import ApiRefusedError, Caller, _agent, services_of
from server.bots import manage
from server.bots.store import BotStore
from server.services import Services
from server.store import AgentRow


def require_admin(agent: AgentRow) -> None:
    """Refuse an agent who is not an admin of the account."""
    if agent.role != "admin":
        raise ApiRefusedError(
            403, ErrorCode.FORBIDDEN, "only an admin of the account can change bots; ask an admin to do it"
        )


async def _editor(request: Request[Any, Any, Any], services: Services) -> Caller:
    """The calling agent, when it may change bots: an admin of an account whose plan has bots."""
    caller = await _agent(request, services)
    require_admin(caller.agent)
    refusal = manage.plan_refusal(await services.store.account(caller.agent.account_id))
    if refusal is not None:
        raise ApiRefusedError(403, ErrorCode.PLAN_REQUIRED, refusal)
    return caller


def flow_error_handler(_request: Request[Any, Any, Any], exc: FlowError) -> Response[FlowRefused]:
    """A flow that cannot be saved: every problem, each naming its step."""
    return Response(FlowRefused(message=str(exc), problems=exc.problems), status_code=400)


FLOW_BODY: Final = RequestBody(
    content={
        "application/json": OpenAPIMediaType(
            schema=Schema(
                one_of=[
                    Reference(ref="#/components/schemas/FlowSpec"),
                    Reference(ref="#/components/schemas/FlowExport"),
                ]
            )
        )
    },
    description="A flow: bare, or an export file as GET /api/v1/bots/{flow_id}/export gives it",
    required=True,
)
"""The body of validate and import, which read it raw (a flow with problems is an answer, not a refusal)."""


@dataclass
class FlowBodyOperation(Operation):
    """The OpenAPI operation of validate and import: their request body is a flow or an export file."""

    def __post_init__(self) -> None:
        self.request_body = FLOW_BODY


REFUSED = {400: ResponseSpec(data_container=FlowRefused, description="The flow has problems; each names its step")}


def _changed(services: Services, account_id: int) -> None:
    # Every process reads the flows again at once (the control channel carries it to the others).
    if services.hub is not None:
        services.hub.flows_changed(account_id)


def _missing(flow_id: int) -> ApiRefusedError:
    return ApiRefusedError(404, ErrorCode.NOT_FOUND, f"no bot {flow_id} in your account; list them first")


class BotController(Controller):
    """Chatbot flows of the caller's account (changes: admins of STANDARD and PRO accounts)."""

    path = "/api/v1/bots"
    tags = ["bots"]  # noqa: RUF012
    exception_handlers = {FlowError: flow_error_handler}  # noqa: RUF012

    @get("/", summary="List bots")
    async def list_flows(self, state: State, request: Request[Any, Any, Any]) -> list[Flow]:
        """Every bot of the account."""
        services = services_of(state)
        caller = await _agent(request, services)
        return await BotStore(services.engine).flows(caller.agent.account_id)

    @get("/{flow_id:int}", summary="Read a bot")
    async def get_flow(self, state: State, request: Request[Any, Any, Any], flow_id: FromPath[int]) -> Flow:
        """One bot of the account."""
        services = services_of(state)
        caller = await _agent(request, services)
        flow = await BotStore(services.engine).get(caller.agent.account_id, flow_id)
        if flow is None:
            raise _missing(flow_id)
        return flow

    @post("/", status_code=201, summary="Add a bot", responses=REFUSED)
    async def add_flow(self, state: State, request: Request[Any, Any, Any], data: JSONBody[FlowSpec]) -> Flow:
        """Add a bot (validated first: the answer lists every problem)."""
        services = services_of(state)
        caller = await _editor(request, services)
        flow = await BotStore(services.engine).add(caller.agent.account_id, manage.checked(data))
        _changed(services, caller.agent.account_id)
        return flow

    @put("/{flow_id:int}", summary="Replace a bot", responses=REFUSED)
    async def update_flow(
        self, state: State, request: Request[Any, Any, Any], flow_id: FromPath[int], data: JSONBody[FlowSpec]
    ) -> Flow:
        """Replace a bot of the account; runs in progress continue with the new steps."""
        services = services_of(state)
        caller = await _editor(request, services)
        flow = await BotStore(services.engine).update(caller.agent.account_id, flow_id, manage.checked(data))
        if flow is None:
            raise _missing(flow_id)
        _changed(services, caller.agent.account_id)
        return flow

    @delete("/{flow_id:int}", status_code=204, summary="Delete a bot")
    async def delete_flow(self, state: State, request: Request[Any, Any, Any], flow_id: FromPath[int]) -> None:
        """Delete a bot of the account (allowed on any plan, so a downgraded account can clean up)."""
        services = services_of(state)
        caller = await _agent(request, services)
        require_admin(caller.agent)
        if not await BotStore(services.engine).delete(caller.agent.account_id, flow_id):
            raise _missing(flow_id)
        _changed(services, caller.agent.account_id)

    @post("/validate", status_code=200, summary="Check a flow without saving it", operation_class=FlowBodyOperation)
    async def validate_flow(self, state: State, request: Request[Any, Any, Any]) -> Validation:
        """Every problem of a flow (bare or an export file), each naming its step."""
        services = services_of(state)
        await _agent(request, services)
        # The raw body: a schema error is one of the problems listed, not a refusal of the request.
        return manage.validate(await request.body())

    @post(
        "/import",
        status_code=201,
        summary="Add a bot from an export file",
        responses=REFUSED,
        operation_class=FlowBodyOperation,
    )
    async def import_flow(self, state: State, request: Request[Any, Any, Any]) -> Flow:
        """Add a bot from JSON (an export file or a bare flow), validated first."""
        services = services_of(state)
        caller = await _editor(request, services)
        flow = await manage.import_flow(BotStore(services.engine), caller.agent.account_id, await request.body())
        _changed(services, caller.agent.account_id)
        return flow

    @get("/{flow_id:int}/export", summary="Export a bot as a JSON file")
    async def export_flow(
        self, state: State, request: Request[Any, Any, Any], flow_id: FromPath[int]
    ) -> Response[FlowExport]:
        """The bot as an importable JSON file."""
        services = services_of(state)
        caller = await _agent(request, services)
        exported = await manage.export_flow(BotStore(services.engine), caller.agent.account_id, flow_id)
        if exported is None:
            raise _missing(flow_id)
        filename = f"bot-{flow_id}.json"
        return Response(exported, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
