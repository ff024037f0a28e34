"""Which kinds of provider the studio knows, and how to make a live provider from a config.

Built-in kinds register themselves here when ``kinds()`` first runs (offline, OpenAI-compatible,
ElevenLabs, the image APIs); a plug-in adds its own with ``register``.  The offline provider is
always present (``OFFLINE_CONFIG``, id 0, never stored) and is the default for what it can do.
"""

from __future__ import annotations

import importlib

from studio.providers import errors as E
from studio.providers.base import Capability, Provider, ProviderConfig, ProviderKind
from studio.providers.offline import OFFLINE_CONFIG

BUILTIN_MODULES = ("studio.providers.offline", "studio.providers.openai_compat",
                   "studio.providers.elevenlabs", "studio.providers.images")

_kinds: dict[str, ProviderKind] = {}
_loaded = False


def register(kind: ProviderKind) -> None:
    _kinds[kind.id] = kind


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_MODULES:
        module = importlib.import_module(name)
        for kind in getattr(module, "KINDS", None) or (module.KIND,):
            _kinds.setdefault(kind.id, kind)


def kinds() -> list[ProviderKind]:
    _load()
    return list(_kinds.values())


def kind(kind_id: str) -> ProviderKind:
    _load()
    try:
        return _kinds[kind_id]
    except KeyError:
        raise E.Unsupported(f"Unknown provider type “{kind_id}” (a newer Story Studio may "
                            "know it).") from None


def capabilities(config: ProviderConfig) -> frozenset[Capability]:
    return kind(config.kind).capabilities


def create(config: ProviderConfig, key: str | None) -> Provider:
    """A live provider; a kind that needs a key and has none fails with ``KeyMissing``."""
    k = kind(config.kind)
    if k.needs_key and not k.key_optional and not key:
        raise E.KeyMissing(f"{config.name} needs an API key. Add it in Settings → AI "
                           "providers (it is kept in your system keyring).")
    return k.create(config, key)


__all__ = ["OFFLINE_CONFIG", "capabilities", "create", "kind", "kinds", "register"]
