"""Network layer of the desktop app: REST sign-in and the reconnecting agent websocket client (asyncio)."""
