"""ElevenLabs: text to speech and instant voice cloning.

``POST /v1/text-to-speech/{voice_id}`` answers the audio itself (MP3 by default);
``POST /v1/voices/add`` (multipart: name, description, one ``files`` part per sample) answers
the new voice's id; ``GET /v1/voices`` and ``GET /v1/user`` make the connection test.  The key
goes only in the ``xi-api-key`` header.  Errors come as ``{"detail": {"status", "message"}}``;
``quota_exceeded`` arrives as a 401 but is not a wrong key, so it is told apart.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence
from urllib.parse import quote

import httpx

from studio.providers import errors as E
from studio.providers.base import (
    Capability, ProviderConfig, ProviderKind, Setting, SpeechResult, Usage, VoiceResult,
)
from studio.providers.http import DEFAULT_RETRIES, HttpProvider, service_message

KIND_ID = "elevenlabs"
DEFAULT_BASE_URL = "https://api.elevenlabs.io"
VOICE_SETTINGS = ("stability", "similarity_boost", "style", "use_speaker_boost", "speed")
FORMAT_MIME = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm",
               "ulaw": "audio/basic", "alaw": "audio/x-alaw-basic", "opus": "audio/ogg"}


def detail_status(response: httpx.Response) -> str:
    """ElevenLabs' ``detail.status`` (e.g. ``invalid_api_key``, ``quota_exceeded``)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    return str(detail.get("status") or "") if isinstance(detail, Mapping) else ""


def looks_like(mime: str, audio: bytes) -> bool:
    """A cheap check that the bytes are the audio the content type says."""
    if mime == "audio/mpeg":  # an ID3 tag or an MPEG frame sync
        return audio[:3] == b"ID3" or (len(audio) > 1 and audio[0] == 0xFF
                                       and audio[1] & 0xE0 == 0xE0)
    if mime in ("audio/wav", "audio/x-wav", "audio/wave"):
        return audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    if mime == "audio/ogg":
        return audio[:4] == b"OggS"
    return True


class ElevenLabsProvider(HttpProvider):
    service = "ElevenLabs"

    def __init__(self, config: ProviderConfig, key: str | None,
                 transport: httpx.AsyncBaseTransport | None = None):
        if not config.get("base_url"):
            config = ProviderConfig(config.kind, config.name,
                                    {**config.settings, "base_url": DEFAULT_BASE_URL}, config.id)
        super().__init__(config, key, transport)
        self.model_id = str(config.get("model_id", "eleven_multilingual_v2"))
        self.output_format = str(config.get("output_format", "mp3_44100_128"))

    def auth_headers(self) -> dict[str, str]:
        return {"xi-api-key": self._key} if self._key else {}

    def _error_for(self, response: httpx.Response) -> E.ProviderError:
        status = detail_status(response)
        if status == "quota_exceeded":
            msg = service_message(response, self._key).rstrip(".")
            return E.Refused(f"{self.name()}: the account's character quota is used up "
                             f"({response.status_code}): {msg}.", response.status_code)
        return super()._error_for(response)

    # --- the calls ---

    async def test_connection(self) -> str:
        self._require_key()
        data = await self.request("GET", "/v1/voices")
        voices = data.get("voices") if isinstance(data, Mapping) else None
        if not isinstance(voices, list):
            raise self.bad("the voice list has no “voices” array")
        message = f"Connected: {len(voices)} voice{'s' if len(voices) != 1 else ''}"
        try:  # a key restricted to speech may not read the account: that is fine
            user = await self.request("GET", "/v1/user")
        except (E.AuthFailed, E.Refused):
            return message + "."
        sub = user.get("subscription") if isinstance(user, Mapping) else None
        if isinstance(sub, Mapping):
            used, limit = sub.get("character_count"), sub.get("character_limit")
            if all(isinstance(v, int) and not isinstance(v, bool) for v in (used, limit)):
                left = max(0, limit - used)
                message += f", {left:,} of {limit:,} characters left"
                if sub.get("tier"):
                    message += f" ({sub['tier']} plan)"
        return message + "."

    async def speak(self, text: str, voice_id: str,
                    settings: Mapping[str, Any] | None = None) -> SpeechResult:
        self._require_key()
        if not text.strip():
            raise E.Refused("There is no text to speak.", 400)
        if not voice_id.strip():
            raise E.Refused("Choose a voice first.", 400)
        body: dict[str, Any] = {"text": text, "model_id": self.model_id}
        voice = {k: settings[k] for k in VOICE_SETTINGS
                 if settings and settings.get(k) is not None}
        if voice:
            body["voice_settings"] = voice
        response = await self.request(
            "POST", f"/v1/text-to-speech/{quote(voice_id.strip(), safe='')}",
            params={"output_format": self.output_format}, json_body=body, response=True,
            headers={"Accept": "audio/*"})
        audio = response.content
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("", "application/octet-stream", "binary/octet-stream"):
            kind = FORMAT_MIME.get(self.output_format.split("_")[0], "application/octet-stream")
        if not kind.startswith("audio/"):
            raise self.bad(f"no audio came back (the answer was {kind or 'untyped'})")
        if not audio:
            raise self.bad("the audio is empty")
        if not looks_like(kind, audio):
            raise self.bad(f"the audio is not the {kind} it claims to be")
        chars = len(text)
        return SpeechResult(audio, kind, Usage(
            Capability.SPEECH.value, self.model_id, characters=chars,
            cost=chars * self.config.number("price_per_1k_characters", 0.3) / 1000))

    async def clone_voice(self, name: str, samples: Sequence[tuple[str, bytes, str]],
                          description: str = "") -> VoiceResult:
        self._require_key()
        if not name.strip():
            raise E.Refused("The new voice needs a name.", 400)
        if not samples:
            raise E.Refused("Voice cloning needs at least one audio sample.", 400)
        files = [("files", (filename, data, mime or "application/octet-stream"))
                 for filename, data, mime in samples]
        form = {"name": name.strip()}
        if description.strip():
            form["description"] = description.strip()
        data = await self.request("POST", "/v1/voices/add", data=form, files=files)
        voice_id = data.get("voice_id") if isinstance(data, Mapping) else None
        if not isinstance(voice_id, str) or not voice_id.strip():
            raise self.bad("no “voice_id” for the new voice")
        return VoiceResult(voice_id, Usage(Capability.VOICE_CLONE.value, "instant-voice-clone"))


def _create(config: ProviderConfig, key: str | None) -> ElevenLabsProvider:
    return ElevenLabsProvider(config, key)


SETTINGS = (
    Setting("base_url", "Base URL", "url", DEFAULT_BASE_URL, required=True,
            help="https://api.elevenlabs.io (or a regional endpoint such as "
                 "https://api.eu.residency.elevenlabs.io)"),
    Setting("model_id", "Model", "text", "eleven_multilingual_v2", required=True,
            help="The speech model, e.g. eleven_multilingual_v2, eleven_turbo_v2_5, "
                 "eleven_flash_v2_5"),
    Setting("output_format", "Audio format", "choice", "mp3_44100_128",
            choices=("mp3_44100_128", "mp3_44100_192", "mp3_44100_64", "mp3_22050_32"),
            help="codec_samplerate_bitrate; 192 kbps needs a paid plan"),
    Setting("price_per_1k_characters", "Price per 1,000 characters", "number", 0.3,
            help="For the cost estimate (your plan's price)"),
    Setting("timeout", "Timeout (seconds)", "number", 60),
    Setting("retries", "Retries", "int", DEFAULT_RETRIES,
            help="Retries after a timeout, a dropped connection, 429 or a 5xx error"),
)

KIND = ProviderKind(
    id=KIND_ID, label="ElevenLabs",
    capabilities=frozenset({Capability.SPEECH, Capability.VOICE_CLONE}),
    settings=SETTINGS, create=_create, needs_key=True, key_optional=False,
    description="Text to speech and voice cloning with ElevenLabs (needs an API key).")
