"""What the UI asks of the server; the composition root implements it on top of the agent client."""

from __future__ import annotations

from typing import Protocol

from protocol.messages import ChatMessage


class ActionError(Exception):
    """The server refused or could not do an action; ``code`` is a protocol ErrorCode value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AgentActions(Protocol):
    """Requests the agent makes; each coroutine returns once the server answered or raises ActionError."""

    async def open_conversation(self, visitor_id: str) -> None:
        """Start or take over the conversation with a visitor."""
        ...

    async def send_message(self, visitor_id: str, message_id: str, text: str) -> None:
        """Send a chat message with a client-chosen id (queued while offline; a resend is a no-op)."""
        ...

    async def mark_read(self, visitor_id: str) -> None:
        """Mark the visitor's messages read."""
        ...

    async def close_conversation(self, visitor_id: str) -> None:
        """End the conversation."""
        ...

    async def ban(self, visitor_id: str, *, cover_ip: bool = False) -> None:
        """Ban a visitor (``cover_ip``: also refuse the addresses of their open pages for a while)."""
        ...

    async def unban(self, visitor_id: str) -> None:
        """Lift a ban."""
        ...

    async def history(self, visitor_id: str) -> list[ChatMessage]:
        """The stored conversation history."""
        ...

    async def erase_visitor(self, visitor_id: str) -> None:
        """Erase everything held about a visitor but what a ban needs (admins)."""
        ...

    async def export_visitor(self, visitor_id: str) -> bytes:
        """Everything held about a visitor as the server's JSON document (admins)."""
        ...

    def send_typing(self, visitor_id: str, typing: bool) -> None:
        """Tell the visitor the agent is (no longer) typing."""
        ...
