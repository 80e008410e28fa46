"""Password hashing (argon2id), tokens and keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("frontdesk-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; spends the same time when there is no such agent."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A new random bearer token (only its hash is stored)."""
    return secrets.token_urlsafe(32)


def new_account_key() -> str:
    """A public account key for the widget's ``data-account``."""
    return "acc_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


def new_api_key() -> str:
    """A secret API key for the identify API (only its hash is stored)."""
    return "key_" + secrets.token_urlsafe(24)


def new_visitor_id() -> str:
    """A new visitor id that matches the protocol's id pattern."""
    return "v" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (token or API key), as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def ip_hash(key: str, address: str) -> str:
    """A keyed hash (HMAC-SHA-256) of an IP address: recognises it again without keeping it."""
    return hmac.new(key.encode(), address.strip().lower().encode(), hashlib.sha256).hexdigest()
