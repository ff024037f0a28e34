"""One provider call, end to end: find the default provider of a capability, make it (its key
from the keyring), await the call, record its usage, close it.

``run_db(fn, *args)`` runs a blocking service function off the UI thread and returns an
awaitable (the desktop passes its runner; tests and the CLI pass ``inline``).  Nothing is
written when the call fails or is cancelled: usage is recorded only for a result.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, TypeVar

from studio.domain.errors import StudioError
from studio.providers import registry
from studio.providers.base import Capability, Provider, ProviderConfig
from studio.services import providers as provider_service
from studio.store.database import Database

R = TypeVar("R")
RunDb = Callable[..., Awaitable[Any]]


class NoProvider(StudioError):
    """No configured provider offers the capability."""


HOW_TO_ADD = ("Open Settings → AI providers (Ctrl+Alt+P) and add one: an OpenAI-compatible "
              "service (hosted, or a local server such as Ollama or LM Studio), ElevenLabs for "
              "voices, or an image service.")


async def inline(fn: Callable[..., Any], *args: Any) -> Any:
    """A ``run_db`` for tests and the CLI: the call in a worker thread."""
    return await asyncio.to_thread(fn, *args)


async def find(run_db: RunDb, db: Database, capability: Capability) -> ProviderConfig | None:
    found = await run_db(provider_service.provider_for, db, capability.value)
    return None if found is None else found[0]


async def call(run_db: RunDb, db: Database, capability: Capability,
               action: Callable[[Provider], Awaitable[R]], *, story_id: int | None = None,
               purpose: str = "", offline_ok: bool = True,
               provider_id: int | None = None) -> tuple[R, ProviderConfig]:
    """Await ``action(provider)`` on the default provider of ``capability``; returns the result
    and the configuration used.  ``offline_ok=False`` refuses the offline provider (for
    callers that have their own offline path).  ``provider_id``: that configured provider
    instead of the default (an image preset names the service it was tuned for)."""
    if provider_id:
        found = await run_db(_chosen, db, provider_id)
        if capability not in registry.capabilities(found[0]):
            raise NoProvider(f"{found[0].name} cannot do {capability.label.lower()}; choose "
                             "another provider (or the default) in the preset.")
    else:
        found = await run_db(provider_service.provider_for, db, capability.value)
    if found is None or (not offline_ok and found[0].id == 0):
        raise NoProvider(f"No provider for {capability.label.lower()} is set up. {HOW_TO_ADD}")
    config, key = found
    provider = registry.create(config, key)
    try:
        result = await action(provider)
    finally:
        await provider.aclose()
    usage = getattr(result, "usage", None)
    if usage is not None and config.id:
        await run_db(provider_service.record_usage, db, config, usage, story_id, purpose)
    return result, config


async def test(run_db: RunDb, db: Database, provider_id: int,
               key_override: str | None = None) -> str:
    """Test one provider's connection (with a key typed but not yet saved, if given)."""
    config = await run_db(provider_service.get_provider, db, provider_id)
    return await test_config(config, key_override if key_override else await run_db(
        _load_key, provider_id))


async def test_settings(run_db: RunDb, db: Database, config: ProviderConfig,
                        key_override: str | None = None) -> str:
    """Test settings as typed in the providers dialog, before they are saved: the key typed
    (if any), else the key stored for ``config.id`` (a provider being edited), else none."""
    key = key_override or (await run_db(_load_key, config.id) if config.id else None)
    return await test_config(config, key)


async def test_config(config: ProviderConfig, key: str | None) -> str:
    provider = registry.create(config, key)
    try:
        return await provider.test_connection()
    finally:
        await provider.aclose()


def _chosen(db: Database, provider_id: int) -> tuple[ProviderConfig, str | None]:
    """A configured provider by id, with its key (for a call that names its provider)."""
    config = provider_service.get_provider(db, provider_id)
    return config, provider_service.key_for(config)


def _load_key(provider_id: int) -> str | None:
    from studio.providers import keys

    return keys.load_key(provider_id) if provider_id else None
