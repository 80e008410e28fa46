"""Token storage: keyring when a real backend exists, memory (said so) otherwise; settings round-trip."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked

from desktop.credentials import KeyringStore, MemoryStore, backend_is_usable, credential_key, open_credential_store
from desktop.integration.appid import APP_ID
from desktop.settings import Language, NotifyRule, Settings
from tests.gui.conftest import MemoryKeyring


def test_keyring_store_keeps_token_under_app_id_and_server_plus_email(memory_keyring: MemoryKeyring) -> None:
    store = open_credential_store(APP_ID, memory_keyring)
    assert isinstance(store, KeyringStore)
    assert store.persistent
    assert store.problem is None
    store.set_token("http://srv:8000/", "Ann@Example.com", "tok-1")
    assert memory_keyring.secrets == {(APP_ID, "http://srv:8000 ann@example.com"): "tok-1"}
    assert store.get_token("http://srv:8000", "ann@example.com") == "tok-1"
    store.delete_token("http://srv:8000", "ann@example.com")
    assert store.get_token("http://srv:8000", "ann@example.com") is None
    store.delete_token("http://srv:8000", "ann@example.com")  # forgetting twice is fine


def test_no_keyring_backend_means_memory_only_and_says_so() -> None:
    backends: list[KeyringBackend] = [fail.Keyring(), null.Keyring()]  # type: ignore[no-untyped-call]
    for backend in backends:
        assert not backend_is_usable(backend)
        store = open_credential_store(APP_ID, backend)
        assert isinstance(store, MemoryStore)
        assert not store.persistent
        assert store.problem is not None
        assert "memory" in store.problem
        store.set_token("http://a", "b@c", "t")
        assert store.get_token("http://a", "b@c") == "t"


class BrokenKeyring(MemoryKeyring):
    """A keyring that is present but refuses (locked collection, daemon gone)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")


def test_keyring_failing_at_runtime_falls_back_to_memory_with_a_reason() -> None:
    store = open_credential_store(APP_ID, BrokenKeyring())
    store.set_token("http://a", "b@c", "t")
    assert store.get_token("http://a", "b@c") == "t"
    assert not store.persistent
    assert store.problem is not None


def test_credential_key_ignores_trailing_slash_and_email_case() -> None:
    assert credential_key("http://x/", " A@B.c ") == credential_key("http://x", "a@b.c")


def test_settings_round_trip_and_bad_values_fall_back(settings: Settings) -> None:
    assert settings.notify_rule is NotifyRule.EVERY
    assert settings.language is Language.SYSTEM
    assert settings.sound is False
    settings.notify_rule = NotifyRule.CUSTOMERS
    settings.language = Language.GERMAN
    settings.sound = True
    settings.start_minimized = True
    settings.server_url = "https://chat.example.com"
    settings.sync()
    assert (settings.notify_rule, settings.language, settings.sound, settings.start_minimized) == (
        NotifyRule.CUSTOMERS,
        Language.GERMAN,
        True,
        True,
    )
    assert settings.server_url == "https://chat.example.com"
    settings._q.setValue("notifications/visitors", "bogus")
    assert settings.notify_rule is NotifyRule.EVERY
