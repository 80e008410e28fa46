"""uvicorn's websocket protocol, minus the handshake objects it keeps for a socket's whole life."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """Drops the parsed handshake request and response once the socket is accepted.

    uvicorn never reads them after the handshake; at 15,000 idle visitor sockets they are
    about 50 MiB of header dictionaries.
    """

    async def send(self, message: Any) -> None:
        """Send as uvicorn does, then forget the handshake."""
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
