"""The offline provider: always present, needs no key and no network.

It offers the story analyser (run by ``studio.services.analysis``, not through this object)
and embeddings made by feature hashing of sublinear term frequencies of stemmed content words
(``studio.domain.similarity.tokens``): the cosine of two such vectors is a TF similarity, the
same family of measure the chapter graph's offline ``TfidfSimilarity`` uses.  It generates no
text, speech or images; asking it to raises ``Unsupported`` with a hint to add a provider.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any, Mapping, Sequence

from studio.domain.similarity import tokens
from studio.providers import errors as E
from studio.providers.base import (
    Capability, EmbeddingResult, ImagePreset, ImageResult, Message, ProviderConfig,
    ProviderKind, SpeechResult, TextResult, Usage, VoiceResult,
)

DIMENSIONS = 512
KIND_ID = "offline"


def _bucket(word: str) -> tuple[int, float]:
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, (1.0 if value >> 63 else -1.0)


def hashed_vector(text: str) -> list[float]:
    """A unit vector (or all zeros for a text without content words)."""
    vec = [0.0] * DIMENSIONS
    for word, count in Counter(tokens(text)).items():
        index, sign = _bucket(word)
        vec[index] += sign * (1.0 + math.log(count))
    norm = math.sqrt(sum(v * v for v in vec))
    return [round(v / norm, 6) for v in vec] if norm else vec


class OfflineProvider:
    def __init__(self, config: ProviderConfig, key: str | None = None):
        self.config = config

    def _no(self, what: str) -> E.Unsupported:
        return E.Unsupported(f"The offline provider cannot do {what}: add an AI provider in "
                             "Settings → AI providers (a hosted service or a local server such "
                             "as Ollama or LM Studio).")

    async def test_connection(self) -> str:
        return "The offline provider is always available."

    async def generate_text(self, messages: Sequence[Message], *, max_tokens: int = 512,
                            temperature: float = 0.8) -> TextResult:
        raise self._no("text generation")

    async def embed(self, texts: Sequence[str]) -> EmbeddingResult:
        return EmbeddingResult([hashed_vector(t) for t in texts],
                               Usage(Capability.EMBEDDINGS.value, "tf-hash-512"))

    async def speak(self, text: str, voice_id: str,
                    settings: Mapping[str, Any] | None = None) -> SpeechResult:
        raise self._no("speech")

    async def clone_voice(self, name: str, samples: Sequence[tuple[str, bytes, str]],
                          description: str = "") -> VoiceResult:
        raise self._no("voice cloning")

    async def generate_image(self, prompt: str, preset: ImagePreset) -> ImageResult:
        raise self._no("image generation")

    async def aclose(self) -> None:
        return None


KIND = ProviderKind(
    id=KIND_ID, label="Offline", needs_key=False,
    capabilities=frozenset({Capability.ANALYSIS, Capability.EMBEDDINGS}),
    settings=(), create=OfflineProvider,
    description="Built in, no network: the story analyser and word-based similarity.")

OFFLINE_CONFIG = ProviderConfig(kind=KIND_ID, name="Offline", settings={}, id=0)
