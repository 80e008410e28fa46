"""The live subsystem: visitors, agents and deltas, as a pure core under an asyncio hub."""
