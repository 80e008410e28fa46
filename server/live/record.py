"""A live visitor's state as named field groups, each encoded on its own for the shared presence.

Groups change independently (a page view touches ``page``, ``trail`` and ``activity``, an
agent's answer ``chat``), so two processes updating one visitor write different fields and do not
overwrite each other. The same groups name what a delta carries. Each group is a JSON object
without its default values, so a listed record (every group but the trail) is the groups'
bodies joined: snapshots are built from stored bytes without decoding them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from protocol.messages import Visitor

GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "visit": (
        "id",
        "first_seen_at",
        "visit_started_at",
        "visit_count",
        "country_code",
        "country",
        "city",
        "timezone",
        "language",
        "browser",
        "os",
        "device",
        "referrer",
    ),
    "identity": ("label", "name", "email", "phone", "custom", "customer"),
    "page": ("current_url", "current_title"),
    "trail": ("pages",),
    "activity": ("last_activity_at",),
    "online": ("online", "left_at"),
    "chat": ("chat_status", "in_chat", "chat_agent_id", "chat_agent_name", "unread", "auto_messaged"),
    "banned": ("banned",),
    "consent": ("session_only",),
    "bot": ("bot",),
}
"""Record field groups: each is stored as one presence field and changes as one unit."""

SERVER_GROUPS: Final = ("fired", "has_messages", "activity_sent_at", "ip_hashes")
"""Presence fields only the server reads."""

ALL: Final = frozenset(GROUPS)
LISTED: Final = tuple(group for group in GROUPS if group != "trail")
"""The groups of a record as agents list it (the trail is fetched on demand)."""

_encoder: Final = msgspec.json.Encoder()
_fired_decoder: Final = msgspec.json.Decoder(list[int])


def _group_struct(group: str, names: tuple[str, ...]) -> type[msgspec.Struct]:
    """A struct with the group's fields, typed as in ``Visitor`` (typed decoding is twice as fast)."""
    info = {f.name: f for f in msgspec.structs.fields(Visitor)}
    specs: list[tuple[str, Any, Any]] = []
    for name in names:
        f = info[name]
        if f.required:
            specs.append((name, f.type, msgspec.NODEFAULT))
        elif f.default_factory is not msgspec.NODEFAULT:
            specs.append((name, f.type, msgspec.field(default_factory=f.default_factory)))
        else:
            specs.append((name, f.type, f.default))
    return msgspec.defstruct(f"Group_{group}", specs, kw_only=True, omit_defaults=True, gc=False)


_GROUP_TYPES: Final = {group: _group_struct(group, names) for group, names in GROUPS.items()}
_GROUP_DECODERS: Final = {group: msgspec.json.Decoder(kind) for group, kind in _GROUP_TYPES.items()}
_asdict: Final = msgspec.structs.asdict


@dataclass(slots=True, eq=False)
class VisitorState:
    """One present visitor: the record agents see plus what only the server needs."""

    record: Visitor
    fired: set[int] = field(default_factory=set)
    """Rules that already fired for this visitor (the database has the final word)."""
    has_messages: bool | None = None
    """Whether the conversation has any message; None until known (saves a query per reconnect)."""
    activity_sent_at: float = 0.0
    """When an activity delta last went out for this visitor."""
    ip_hashes: tuple[str, ...] = ()
    """Keyed hashes of the addresses its pages came from this visit (a ban may cover them); never the addresses."""


def encode_groups(state: VisitorState, names: frozenset[str] | set[str]) -> dict[str, bytes]:
    """The named groups (record groups and server fields) of a visitor, encoded."""
    record = state.record
    out: dict[str, bytes] = {}
    for name in names:
        if name == "fired":
            out[name] = _encoder.encode(sorted(state.fired))
        elif name == "has_messages":
            out[name] = _encoder.encode(state.has_messages)
        elif name == "activity_sent_at":
            out[name] = _encoder.encode(state.activity_sent_at)
        elif name == "ip_hashes":
            out[name] = _encoder.encode(state.ip_hashes)
        else:
            out[name] = _encoder.encode(_GROUP_TYPES[name](**{attr: getattr(record, attr) for attr in GROUPS[name]}))
    return out


def encode_all(state: VisitorState) -> dict[str, bytes]:
    """Every field of a visitor, encoded (a new visitor's first store)."""
    return encode_groups(state, {*GROUPS, *SERVER_GROUPS})


def decode_state(fields: dict[str, bytes], *, trail: bool = True) -> VisitorState | None:
    """A visitor from its stored fields (without its pages unless ``trail``); None when incomplete."""
    if "visit" not in fields:
        return None
    values: dict[str, Any] = {}
    for name, decoder in _GROUP_DECODERS.items():
        raw = fields.get(name)
        if raw is not None and (trail or name != "trail"):
            values.update(_asdict(decoder.decode(raw)))
    values.setdefault("label", "")
    record = Visitor(**values)
    fired = fields.get("fired")
    has_messages = fields.get("has_messages")
    sent = fields.get("activity_sent_at")
    hashes = fields.get("ip_hashes")
    return VisitorState(
        record=record,
        fired=set(_fired_decoder.decode(fired)) if fired else set(),
        has_messages=msgspec.json.decode(has_messages, type=bool | None) if has_messages else None,
        activity_sent_at=msgspec.json.decode(sent, type=float) if sent else 0.0,
        ip_hashes=msgspec.json.decode(hashes, type=tuple[str, ...]) if hashes else (),
    )


def listed_json(fields: dict[str, bytes]) -> bytes | None:
    """A visitor's record as agents list it, as JSON, straight from its stored groups; None when incomplete."""
    if "visit" not in fields:
        return None
    parts = [raw[1:-1] for name in LISTED if (raw := fields.get(name)) is not None and len(raw) > 2]
    return b"{" + b",".join(parts) + b"}"


def copy_state(state: VisitorState) -> VisitorState:
    """A copy the live core may change (records are changed in place; their containers are replaced)."""
    return VisitorState(
        record=msgspec.structs.replace(state.record),
        fired=set(state.fired),
        has_messages=state.has_messages,
        activity_sent_at=state.activity_sent_at,
        ip_hashes=state.ip_hashes,
    )


Key = tuple[int, str]


class StateCache:
    """Decoded states of this process's visitors, reused while their stored fields are unchanged.

    Presence hands out encoded fields; decoding a record with its trail costs tens of
    microseconds. A state is decoded again only when a field differs from what this process
    last loaded or stored (another process changed it); equal bytes compare in one step.
    """

    def __init__(self) -> None:
        self._entries: dict[Key, tuple[dict[str, bytes], VisitorState]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def state(self, key: Key, fields: dict[str, bytes], *, keep: bool) -> VisitorState | None:
        """A state the caller may change; remembered (a copy) when ``keep``."""
        entry = self._entries.get(key)
        if entry is not None:
            known, cached = entry
            if known == fields:
                return copy_state(cached)
        state = decode_state(fields)
        if state is None or not keep:
            self._entries.pop(key, None)
            return state
        self._entries[key] = (fields, copy_state(state))
        return state

    def stored(self, key: Key, state: VisitorState, encoded: dict[str, bytes]) -> None:
        """This process stored ``encoded`` groups of ``state``: the cache now holds ``state`` itself.

        Not a copy (this runs on every event): the caller changes it further only to store it
        again, and drops the key (:meth:`forget`) when a store fails.
        """
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = ({**entry[0], **encoded}, state)

    def forget(self, key: Key) -> None:
        """Drop a visitor (it left, or has no tab on this process any more)."""
        self._entries.pop(key, None)
