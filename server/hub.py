"""Where the hub used to live: it is now ``server.live`` (a pure core under an asyncio adapter)."""

from server.live.core import RefusedError
from server.live.hub import AccountState, AgentConn, Hub, VisitorConn

__all__ = ["AccountState", "AgentConn", "Hub", "RefusedError", "VisitorConn"]
