"""Where the desktop app keeps login tokens: the system keyring, or memory when there is none."""

from __future__ import annotations

import logging
from typing import Protocol

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

_UNUSABLE_BACKENDS = (
    "keyring.backends.fail.",
    "keyring.backends.null.",
    # A plaintext file on disk is exactly what we promise never to write.
    "keyrings.alt.file.",
)


class CredentialStore(Protocol):
    """Keeps one bearer token per (server URL, e-mail); never a password."""

    @property
    def persistent(self) -> bool:
        """Whether a token survives a restart of the app."""
        ...

    @property
    def problem(self) -> str | None:
        """Why tokens are not kept across restarts, for the user; None when they are."""
        ...

    def get_token(self, server_url: str, email: str) -> str | None:
        """The stored token, or None."""
        ...

    def set_token(self, server_url: str, email: str, token: str) -> None:
        """Remember a token."""
        ...

    def delete_token(self, server_url: str, email: str) -> None:
        """Forget a token (no error when there is none)."""
        ...


def credential_key(server_url: str, email: str) -> str:
    """The keyring user name of one login: the server URL and the e-mail address."""
    return f"{server_url.rstrip('/')} {email.strip().lower()}"


class MemoryStore:
    """Tokens kept in memory only, lost on exit."""

    def __init__(self, problem: str | None = None) -> None:
        self._tokens: dict[str, str] = {}
        self._problem = problem

    @property
    def persistent(self) -> bool:
        """Never: memory dies with the process."""
        return False

    @property
    def problem(self) -> str | None:
        """Why the memory store is in use."""
        return self._problem

    def get_token(self, server_url: str, email: str) -> str | None:
        """The token of this session, if any."""
        return self._tokens.get(credential_key(server_url, email))

    def set_token(self, server_url: str, email: str, token: str) -> None:
        """Keep the token until exit."""
        self._tokens[credential_key(server_url, email)] = token

    def delete_token(self, server_url: str, email: str) -> None:
        """Drop the token."""
        self._tokens.pop(credential_key(server_url, email), None)


class KeyringStore:
    """Tokens in the system keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""

    def __init__(self, backend: KeyringBackend, service: str) -> None:
        self._backend = backend
        self._service = service
        # Falls back to memory for the rest of the run when the keyring breaks (locked, daemon gone).
        self._fallback: MemoryStore | None = None

    @property
    def persistent(self) -> bool:
        """True until the keyring failed once."""
        return self._fallback is None

    @property
    def problem(self) -> str | None:
        """Why the keyring is not used any more, if it failed."""
        return None if self._fallback is None else self._fallback.problem

    def _fail(self, exc: Exception) -> MemoryStore:
        log.warning("system keyring failed (%s); keeping the login token in memory only", type(exc).__name__)
        self._fallback = MemoryStore(
            "The system keyring did not answer; your login is kept in memory only and asked again next start."
        )
        return self._fallback

    def get_token(self, server_url: str, email: str) -> str | None:
        """The stored token, or None (also when the keyring fails)."""
        if self._fallback is not None:
            return self._fallback.get_token(server_url, email)
        try:
            return self._backend.get_password(self._service, credential_key(server_url, email))
        except (KeyringError, OSError) as exc:
            return self._fail(exc).get_token(server_url, email)

    def set_token(self, server_url: str, email: str, token: str) -> None:
        """Store the token in the keyring (or in memory if the keyring refuses)."""
        if self._fallback is None:
            try:
                self._backend.set_password(self._service, credential_key(server_url, email), token)
                return
            except (KeyringError, OSError) as exc:
                self._fail(exc)
        assert self._fallback is not None
        self._fallback.set_token(server_url, email, token)

    def delete_token(self, server_url: str, email: str) -> None:
        """Remove the token from the keyring."""
        if self._fallback is not None:
            self._fallback.delete_token(server_url, email)
            return
        try:
            self._backend.delete_password(self._service, credential_key(server_url, email))
        except PasswordDeleteError:
            pass  # nothing stored: already forgotten
        except (KeyringError, OSError) as exc:
            self._fail(exc)


def backend_is_usable(backend: KeyringBackend) -> bool:
    """Whether a keyring backend really stores secrets safely (not fail/null/plaintext, not an empty chain)."""
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name.startswith(_UNUSABLE_BACKENDS):
        return False
    if name.startswith("keyring.backends.chainer."):
        chained = getattr(backend, "backends", [])
        return any(backend_is_usable(b) for b in chained)
    return True


def open_credential_store(service: str, backend: KeyringBackend | None = None) -> CredentialStore:
    """The keyring store when a usable backend exists, else a memory store saying why."""
    if backend is None:
        backend = keyring.get_keyring()
    if backend_is_usable(backend):
        return KeyringStore(backend, service)
    return MemoryStore(
        "No system keyring is available (such as GNOME Keyring or KWallet); your login is kept in memory only "
        "and asked again next start."
    )
