"""The provider plug-in point: what a provider can do, what it needs, what a call returns.

A *kind* (``ProviderKind``) is a type of service the studio knows how to talk to (offline,
OpenAI-compatible, ElevenLabs, an image API…): it declares its capabilities and its settings.
A *configuration* (``ProviderConfig``) is one the author set up — a kind, a name, its settings
(base URL, model, prices…), never its key: keys live only in the OS keyring
(``studio.providers.keys``) and are handed to ``ProviderKind.create`` when a call is made.

Every call is a coroutine (awaited on the Qt loop through qasync), returns its result with a
``Usage`` (tokens, characters, images and an estimated cost from the configuration's prices),
and raises only ``studio.providers.errors``.  Cancelling the awaiting task cancels the call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence


class Capability(str, enum.Enum):
    TEXT = "text"               # chat/text generation
    EMBEDDINGS = "embeddings"   # text → vectors
    SPEECH = "speech"           # text to speech
    VOICE_CLONE = "voice_clone"  # a new voice from samples
    IMAGE = "image"             # text → image
    ANALYSIS = "analysis"       # the offline story analyser

    @property
    def label(self) -> str:
        return CAPABILITY_LABELS[self]


CAPABILITY_LABELS = {
    Capability.TEXT: "Text generation", Capability.EMBEDDINGS: "Embeddings",
    Capability.SPEECH: "Speech", Capability.VOICE_CLONE: "Voice cloning",
    Capability.IMAGE: "Images", Capability.ANALYSIS: "Story analysis",
}


@dataclass(frozen=True)
class Setting:
    """One setting a kind asks for; ``kind`` is text, url, number, int or choice."""

    key: str
    label: str
    kind: str = "text"
    default: Any = ""
    choices: tuple[str, ...] = ()
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class ProviderConfig:
    """One configured provider.  ``id`` is its row in the local database (None before save)."""

    kind: str
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.settings.get(key)
        return default if value in (None, "") else value

    def number(self, key: str, default: float = 0.0) -> float:
        try:
            return float(self.get(key, default))
        except (TypeError, ValueError):
            return default


@dataclass(frozen=True)
class Usage:
    """What one call consumed.  ``cost`` is an estimate in the configuration's currency (the
    prices the author entered; 0 for local servers and the offline provider)."""

    capability: str
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    characters: int = 0
    images: int = 0
    cost: float = 0.0


@dataclass(frozen=True)
class TextResult:
    text: str
    usage: Usage
    finish_reason: str = ""


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[list[float]]
    usage: Usage


@dataclass(frozen=True)
class SpeechResult:
    audio: bytes
    mime: str
    usage: Usage


@dataclass(frozen=True)
class VoiceResult:
    voice_id: str
    usage: Usage


@dataclass(frozen=True)
class ImageResult:
    images: list[bytes]
    mime: str
    usage: Usage
    seed: int | None = None


@dataclass(frozen=True)
class Lora:
    """A LoRA reference for image providers that accept them (Automatic1111 prompt syntax)."""

    name: str
    trigger_words: str = ""
    strength: float = 1.0


@dataclass(frozen=True)
class ImagePreset:
    """How to make a picture: provider, model, parameters, style words, optional LoRAs."""

    name: str
    provider_id: int | None = None
    model: str = ""
    width: int = 768
    height: int = 512
    steps: int = 25
    cfg_scale: float = 7.0
    sampler: str = ""
    seed: int | None = None
    style: str = ""             # style modifiers appended to every prompt
    negative: str = ""
    loras: tuple[Lora, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def prompt(self, text: str) -> str:
        """The prompt with the style modifiers and the LoRAs' trigger words."""
        parts = [text.strip(), self.style.strip(),
                 *(lora.trigger_words.strip() for lora in self.loras)]
        return ", ".join(p for p in parts if p)


Message = Mapping[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}


class Provider(Protocol):
    """A live provider (made by ``ProviderKind.create``).  Methods of capabilities the kind
    does not declare raise ``Unsupported``."""

    config: ProviderConfig

    async def test_connection(self) -> str: ...
    async def generate_text(self, messages: Sequence[Message], *, max_tokens: int = 512,
                            temperature: float = 0.8) -> TextResult: ...
    async def embed(self, texts: Sequence[str]) -> EmbeddingResult: ...
    async def speak(self, text: str, voice_id: str,
                    settings: Mapping[str, Any] | None = None) -> SpeechResult: ...
    async def clone_voice(self, name: str, samples: Sequence[tuple[str, bytes, str]],
                          description: str = "") -> VoiceResult: ...
    async def generate_image(self, prompt: str, preset: ImagePreset) -> ImageResult: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class ProviderKind:
    """A type of service: its id, name, capabilities, settings, and how to make one."""

    id: str
    label: str
    capabilities: frozenset[Capability]
    settings: tuple[Setting, ...]
    create: Callable[[ProviderConfig, str | None], Provider]
    needs_key: bool = True
    key_optional: bool = False  # local servers (Ollama, A1111) usually want no key
    description: str = ""

    def defaults(self) -> dict[str, Any]:
        return {s.key: s.default for s in self.settings}
