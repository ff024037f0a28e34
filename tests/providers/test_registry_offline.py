"""The registry of provider kinds, and the offline provider."""

from __future__ import annotations

import asyncio
import inspect
import math

import pytest

from studio.providers import errors as E
from studio.providers import registry
from studio.providers.base import Capability, ImagePreset, ProviderConfig, Provider
from studio.providers.http import HttpProvider
from studio.providers.offline import DIMENSIONS, OFFLINE_CONFIG, hashed_vector

ALL = {"offline", "openai", "elevenlabs", "openai_images", "a1111"}
PROTOCOL = [name for name, _ in inspect.getmembers(Provider, inspect.isfunction)
            if not name.startswith("_")]


def test_every_builtin_kind_is_registered_once():
    ids = [k.id for k in registry.kinds()]
    assert set(ids) == ALL and len(ids) == len(set(ids))


@pytest.mark.parametrize("kind_id", sorted(ALL))
def test_each_kind_is_well_formed(kind_id):
    kind = registry.kind(kind_id)
    assert kind.label and kind.description and kind.capabilities
    keys = [s.key for s in kind.settings]
    assert len(keys) == len(set(keys))
    for setting in kind.settings:
        assert setting.kind in ("text", "url", "number", "int", "choice"), setting
        assert setting.label
        if setting.kind == "choice":
            assert setting.default in setting.choices
    if kind_id != "offline":
        assert {"base_url", "timeout", "retries"} <= set(keys)


@pytest.mark.parametrize("kind_id, key", [
    ("offline", None), ("openai", None), ("openai", "sk-x-1234"), ("elevenlabs", "xi-1234"),
    ("openai_images", None), ("a1111", None)])
def test_create_makes_a_provider_with_the_whole_protocol(kind_id, key):
    kind = registry.kind(kind_id)
    provider = registry.create(ProviderConfig(kind_id, "Mine", kind.defaults()), key)
    try:
        assert provider.config.kind == kind_id
        for name in PROTOCOL:
            assert inspect.iscoroutinefunction(getattr(provider, name)), name
        if kind_id != "offline":
            assert isinstance(provider, HttpProvider)
            assert provider.base_url == kind.defaults()["base_url"].rstrip("/")
    finally:
        asyncio.run(provider.aclose())


def test_http_kinds_take_a_transport():
    from studio.providers.elevenlabs import ElevenLabsProvider
    from studio.providers.images import A1111Provider, OpenAIImagesProvider
    from studio.providers.openai_compat import OpenAICompatProvider
    for cls in (OpenAICompatProvider, ElevenLabsProvider, OpenAIImagesProvider, A1111Provider):
        assert list(inspect.signature(cls).parameters) == ["config", "key", "transport"]


def test_an_empty_base_url_falls_back_to_the_default():
    provider = registry.create(ProviderConfig("openai", "Blank", {"base_url": ""}), None)
    assert provider.base_url == "https://api.openai.com/v1"
    asyncio.run(provider.aclose())


def test_a_kind_that_needs_a_key_refuses_to_start_without_one():
    with pytest.raises(E.KeyMissing, match="Voices needs an API key"):
        registry.create(ProviderConfig("elevenlabs", "Voices", {}), "")


def test_an_unknown_kind():
    with pytest.raises(E.Unsupported, match="Unknown provider type"):
        registry.kind("hologram")


@pytest.mark.parametrize("kind_id, call", [
    ("elevenlabs", lambda p: p.generate_text([{"role": "user", "content": "hi"}])),
    ("openai", lambda p: p.speak("hi", "v")),
    ("a1111", lambda p: p.embed(["hi"])),
    ("openai_images", lambda p: p.clone_voice("n", [("a", b"x", "audio/mpeg")])),
])
def test_capabilities_a_kind_lacks_are_unsupported(kind_id, call):
    kind = registry.kind(kind_id)

    async def go():
        async with registry.create(ProviderConfig(kind_id, "Mine", kind.defaults()),
                                   "k-1234") as provider:
            await call(provider)

    with pytest.raises(E.Unsupported, match="Mine does not offer"):
        asyncio.run(go())


def test_capabilities_of_a_config():
    assert registry.capabilities(ProviderConfig("openai", "x")) == {Capability.TEXT,
                                                                    Capability.EMBEDDINGS}
    assert Capability.ANALYSIS in registry.capabilities(OFFLINE_CONFIG)


# --- the offline provider ---

def test_offline_embeddings_are_unit_vectors_that_match_similar_texts():
    provider = registry.create(OFFLINE_CONFIG, None)
    texts = ["The lighthouse keeper climbed the stairs.",
             "Climbing the lighthouse stairs, the keeper paused.",
             "Quarterly revenue grew in the enterprise segment."]
    result = asyncio.run(provider.embed(texts))
    a, b, c = result.vectors
    assert all(len(v) == DIMENSIONS for v in result.vectors)
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, abs_tol=1e-4) for v in (a, b, c))

    def cos(u, v):
        return math.fsum(x * y for x, y in zip(u, v))
    assert cos(a, b) > 0.5 > cos(a, c)
    assert result.usage.cost == 0 and result.usage.capability == "embeddings"
    assert hashed_vector("") == [0.0] * DIMENSIONS


def test_offline_does_no_network_work():
    provider = registry.create(OFFLINE_CONFIG, None)

    async def go():
        assert "always available" in await provider.test_connection()
        for coro in (provider.generate_text([{"role": "user", "content": "hi"}]),
                     provider.speak("hi", "v"), provider.clone_voice("n", []),
                     provider.generate_image("a cat", ImagePreset("p"))):
            with pytest.raises(E.Unsupported, match="Settings → AI providers"):
                await coro
        await provider.aclose()
    asyncio.run(go())
