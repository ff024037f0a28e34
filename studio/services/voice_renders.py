"""Voices as narrations and roleplays name them, and the shared cache of rendered audio.

A *voice reference* is a small dict stored with a narration or a roleplay line:

- ``{"kind": "provider", "voice_id": str, "provider_id": int | None}`` — a voice of a speech
  provider (an ElevenLabs voice id); ``provider_id`` None means the default speech provider;
- ``{"kind": "emotion_voice", "uid": str}`` — one of the author's cloned emotion voices, which
  resolves to the provider voice id the cloning gave (and the provider that made it);
- ``{"kind": "system"}`` — the operating system's offline text-to-speech.

An optional ``"name"`` (a label for lists) may ride along.  Rendered audio is cached by
``studio.domain.voices.render_key`` (text + voice + provider + model + settings) in
``<data_dir>/voice/renders/<key>.<ext>``, one row per key in ``voice_renders``: whoever asks for
the same text in the same voice with the same settings gets the same file, so a second
narration of a story — or a narration that was interrupted — pays only for what is new.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Mapping, TypeVar

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.domain.voices import VoiceParams, render_key
from studio.providers.base import Capability, ProviderConfig
from studio.services import providers as provider_service
from studio.services.ai_calls import NoProvider, RunDb, call
from studio.store.database import Database
from studio.store.repositories import narrations as repo

VOICE_KINDS = ("provider", "emotion_voice", "system")
SYSTEM_PROVIDER = "system"
RENDERS = ("voice", "renders")
MAX_VOICE_ID = 200
MAX_LABEL = 200
EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav",
              "audio/wave": "wav", "audio/ogg": "ogg", "audio/flac": "flac",
              "audio/basic": "ulaw", "audio/pcm": "pcm"}
# The ElevenLabs ``voice_settings`` a paragraph or a line may override, with their ranges.
SETTING_RANGES = {"stability": (0.0, 1.0), "similarity_boost": (0.0, 1.0),
                  "style": (0.0, 1.0), "speed": (0.7, 1.2)}
SETTING_FLAGS = ("use_speaker_boost",)

T = TypeVar("T")


class VoiceUnavailable(StudioError):
    """A voice that cannot speak now (an emotion voice still training, no system engine)."""


class Cancelled(StudioError):
    """The author cancelled while a voice was speaking; nothing of that piece was kept."""


@dataclass(frozen=True)
class RenderedAudio:
    path: Path
    mime: str
    cached: bool   # found in the render cache (no provider call was made)


@dataclass(frozen=True)
class Resolved:
    """What a voice reference means now: ``engine`` is "provider" or "system"."""

    engine: str
    voice_id: str = ""
    provider_id: int | None = None
    problem: str = ""   # why it cannot speak now ("" when it can)
    gone: bool = False  # an emotion voice that was removed (callers may fall back)


# --- voice references ------------------------------------------------------------------------

def check_voice(ref: Any, where: str = "Voice") -> dict[str, Any]:
    """A voice reference, validated and normalised (a clear ValidationError otherwise)."""
    if not isinstance(ref, Mapping):
        raise ValidationError(where, [], "must be a voice: {\"kind\": \"provider\" | "
                              "\"emotion_voice\" | \"system\", …}")
    kind = ref.get("kind")
    if kind not in VOICE_KINDS:
        raise ValidationError(where, ["kind"], f"must be one of {', '.join(VOICE_KINDS)}")
    allowed = {"provider": {"kind", "voice_id", "provider_id", "name"},
               "emotion_voice": {"kind", "uid", "name"}, "system": {"kind", "name"}}[kind]
    unknown = sorted(set(ref) - allowed)
    if unknown:
        raise ValidationError(where, [unknown[0]], f"is not a field of a {kind} voice")
    out: dict[str, Any] = {"kind": kind}
    if kind == "provider":
        voice_id = ref.get("voice_id")
        if not isinstance(voice_id, str) or not voice_id.strip():
            raise ValidationError(where, ["voice_id"], "is required (the provider's voice id)")
        if len(voice_id.strip()) > MAX_VOICE_ID:
            raise ValidationError(where, ["voice_id"], f"is longer than {MAX_VOICE_ID} "
                                  "characters")
        provider_id = ref.get("provider_id")
        if provider_id is not None and (isinstance(provider_id, bool)
                                        or not isinstance(provider_id, int) or provider_id < 1):
            raise ValidationError(where, ["provider_id"], "must be a configured provider's id "
                                  "or null (the default speech provider)")
        out.update(voice_id=voice_id.strip(), provider_id=provider_id)
    elif kind == "emotion_voice":
        uid = ref.get("uid")
        if not isinstance(uid, str) or not uid.strip():
            raise ValidationError(where, ["uid"], "is required (the emotion voice's id)")
        out["uid"] = uid.strip()
    if "name" in ref:
        name = ref["name"]
        if not isinstance(name, str) or len(name) > MAX_LABEL:
            raise ValidationError(where, ["name"], f"must be text of at most {MAX_LABEL} "
                                  "characters")
        if name.strip():
            out["name"] = " ".join(name.split())
    return out


def check_voice_exists(db: Database, ref: dict[str, Any], where: str = "Voice") -> None:
    """Refuse a reference to a provider or an emotion voice that is not there (a voice that
    exists but is still training is accepted: it will speak once ready)."""
    if ref["kind"] == "provider" and ref.get("provider_id"):
        try:
            config = provider_service.get_provider(db, ref["provider_id"])
        except NotFoundError:
            raise ValidationError(where, ["provider_id"], f"there is no provider "
                                  f"{ref['provider_id']}") from None
        from studio.providers import registry

        if Capability.SPEECH not in registry.capabilities(config):
            raise ValidationError(where, ["provider_id"], f"{config.name} cannot speak")
    elif ref["kind"] == "emotion_voice":
        with db.session() as s:
            if repo.emotion_voice(s, ref["uid"]) is None:
                raise ValidationError(where, ["uid"], f"there is no emotion voice {ref['uid']}")


def resolve_in(s, ref: Mapping[str, Any]) -> Resolved:
    """A reference's engine and provider voice id, inside the caller's session."""
    kind = ref.get("kind")
    if kind == "system":
        return Resolved("system", SYSTEM_PROVIDER)
    if kind == "provider":
        return Resolved("provider", str(ref.get("voice_id") or ""), ref.get("provider_id"))
    if kind == "emotion_voice":
        row = repo.emotion_voice(s, str(ref.get("uid") or ""))
        if row is None:
            return Resolved("provider", problem="The emotion voice was removed; choose "
                            "another voice.", gone=True)
        if row.status != "ready" or not row.provider_voice_id:
            state = {"training": "is still training", "failed": "failed to train"}.get(
                row.status, f"is {row.status}")
            return Resolved("provider", "", row.provider_id,
                            f"The emotion voice “{row.name}” {state}; choose another voice "
                            "or wait until it is ready.")
        return Resolved("provider", row.provider_voice_id, row.provider_id)
    return Resolved("provider", problem="No voice is chosen.")


def resolve(db: Database, ref: Mapping[str, Any]) -> Resolved:
    with db.session() as s:
        return resolve_in(s, ref)


# --- settings and keys ----------------------------------------------------------------------

def check_settings(settings: Any, where: str = "Voice settings") -> dict[str, Any]:
    """Per-paragraph or per-line overrides of the provider's voice settings."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise ValidationError(where, [], "must be an object")
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in SETTING_FLAGS:
            if not isinstance(value, bool):
                raise ValidationError(where, [key], "must be true or false")
            out[key] = value
        elif key in SETTING_RANGES:
            low, high = SETTING_RANGES[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= float(value) <= high:
                raise ValidationError(where, [key], f"must be a number from {low:g} to "
                                      f"{high:g}")
            out[key] = round(float(value), 3)
        else:
            raise ValidationError(where, [str(key)], "is not a voice setting (use "
                                  f"{', '.join([*SETTING_RANGES, *SETTING_FLAGS])})")
    return out


def engine_settings(engine: str, params: VoiceParams | None,
                    overrides: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine is asked for: a provider gets the template's provider settings with the
    overrides on top; the system voice gets the template's rate and pitch (its only knobs)."""
    if engine == "system":
        p = params or VoiceParams()
        rate = float(overrides.get("speed", p.rate))
        return {"rate": round(rate, 3), "pitch": p.pitch}
    return {**(params.provider_settings() if params else {}), **dict(overrides)}


def provider_fields(config: ProviderConfig | None) -> tuple[str, str]:
    """(provider, model) as render keys name them: the kind and the model + audio format, so
    two configurations of one service (two accounts, a renamed one) share renders."""
    if config is None:
        return SYSTEM_PROVIDER, ""
    model = str(config.get("model_id") or config.get("model") or "")
    fmt = str(config.get("output_format") or "")
    return config.kind, f"{model}/{fmt}" if fmt else model


def key_of(resolved: Resolved, text: str, settings: Mapping[str, Any],
           config: ProviderConfig | None) -> str | None:
    """The render key, or None when the voice cannot speak (its problem says why) or no
    provider is set up for it."""
    if resolved.problem or (resolved.engine == "provider" and config is None):
        return None
    provider, model = provider_fields(config if resolved.engine == "provider" else None)
    return render_key(text, resolved.voice_id, provider, model, settings)


def speech_config(db: Database, provider_id: int | None) -> ProviderConfig | None:
    """The configuration a provider voice speaks through (None: nothing can speak).  Read
    without failing on a locked keyring: a plan or a cache lookup needs no key."""
    if provider_id:
        try:
            return provider_service.get_provider(db, provider_id)
        except NotFoundError:
            return None
    try:
        found = provider_service.provider_for(db, Capability.SPEECH.value)
    except StudioError:
        found = None
        for info in provider_service.list_providers(db):
            if Capability.SPEECH.value in info.defaults:
                found = (info.config, None)
                break
    if found is None or not found[0].id:
        return None
    return found[0]


class Configs:
    """Speech configurations by provider id (None: the default), read once per operation."""

    def __init__(self, db: Database):
        self.db = db
        self._found: dict[int | None, ProviderConfig | None] = {}

    def get(self, provider_id: int | None) -> ProviderConfig | None:
        if provider_id not in self._found:
            self._found[provider_id] = speech_config(self.db, provider_id)
        return self._found[provider_id]


# --- the cache -------------------------------------------------------------------------------

def renders_dir(db: Database) -> Path:
    return db.data_dir.joinpath(*RENDERS)


def present(db: Database, keys: list[str]) -> dict[str, RenderedAudio]:
    """The keys whose render row exists and whose file is there with its recorded size."""
    folder = renders_dir(db)
    with db.session() as s:
        rows = repo.renders(s, keys)
    out = {}
    for key, row in rows.items():
        path = folder / row.file_name
        try:
            if path.stat().st_size == row.bytes_size:
                out[key] = RenderedAudio(path, row.mime, True)
        except OSError:
            continue
    return out


def find(db: Database, key: str) -> RenderedAudio | None:
    return present(db, [key]).get(key)


def checksum(db: Database, key: str) -> str | None:
    """The SHA-256 recorded for a render (to verify its file)."""
    with db.session() as s:
        row = repo.render(s, key)
        return None if row is None else row.sha256


def _write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside ``path``, synced, renamed over it: a crash or a full disk never
    leaves half an audio file under a key's name."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise StudioError(f"Could not write the audio file {path}: "
                          f"{exc.strerror or exc}.") from exc


def store(db: Database, key: str, data: bytes, mime: str, provider_name: str) -> RenderedAudio:
    """Keep rendered audio: the file first, then its row (a row never points at nothing)."""
    if not data:
        raise StudioError("The voice returned no audio; nothing was saved.")
    mime = mime.split(";")[0].strip().lower() or "application/octet-stream"
    name = f"{key}.{EXTENSIONS.get(mime, 'bin')}"
    path = renders_dir(db) / name
    _write_atomically(path, data)
    with db.session() as s:
        repo.put_render(s, key, name, mime, len(data), hashlib.sha256(data).hexdigest(),
                        provider_name[:200])
    return RenderedAudio(path, mime, False)


# --- speaking --------------------------------------------------------------------------------

def _system_speak(text: str, settings: Mapping[str, Any]) -> tuple[bytes, str]:
    """The system voice, in a worker thread (its engines run programs and wait for them).
    Template rate (a factor) and pitch (semitones) are clamped to what the engines take."""
    from studio.providers import system_tts

    problem = system_tts.available()
    if problem:
        raise VoiceUnavailable(problem)
    rate = max(0.5, min(2.0, float(settings.get("rate", 1.0) or 1.0)))
    pitch = max(-12.0, min(12.0, float(settings.get("pitch", 0.0) or 0.0)))
    return system_tts.speak_to_wav(text, rate=rate, pitch=pitch), "audio/wav"


async def until_cancelled(awaitable: Awaitable[T], cancel: asyncio.Event | None) -> T:
    """Await ``awaitable`` unless ``cancel`` is set first (then it is cancelled: an HTTP
    request in flight is dropped) and ``Cancelled`` is raised."""
    if cancel is None:
        return await awaitable
    if cancel.is_set():
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise Cancelled("Cancelled.")
    task = asyncio.ensure_future(awaitable)
    stop = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the call is abandoned
        pass
    raise Cancelled("Cancelled.")


async def speak(run_db: RunDb, db: Database, resolved: Resolved, text: str,
                settings: Mapping[str, Any], *, story_id: int | None, purpose: str,
                cancel: asyncio.Event | None = None) -> tuple[bytes, str, ProviderConfig | None]:
    """The audio of ``text`` in the resolved voice: (bytes, mime, provider configuration or
    None for the system voice).  Provider errors pass through with their messages."""
    if resolved.problem:
        raise VoiceUnavailable(resolved.problem)
    if resolved.engine == "system":
        data, mime = await until_cancelled(asyncio.to_thread(_system_speak, text, settings),
                                           cancel)
        return data, mime, None
    result, config = await until_cancelled(call(
        run_db, db, Capability.SPEECH,
        lambda p: p.speak(text, resolved.voice_id, dict(settings)),
        story_id=story_id, purpose=purpose, offline_ok=False,
        provider_id=resolved.provider_id), cancel)
    return result.audio, result.mime, config


async def render(run_db: RunDb, db: Database, resolved: Resolved, text: str,
                 settings: Mapping[str, Any], *, story_id: int | None, purpose: str,
                 config: ProviderConfig | None = None,
                 cancel: asyncio.Event | None = None) -> tuple[RenderedAudio, str]:
    """The cached render of ``text`` in that voice, or a new one (spoken, then kept); returns
    it with its key.  ``config``: the speech configuration already looked up, if any."""
    if resolved.problem:
        raise VoiceUnavailable(resolved.problem)
    if resolved.engine == "provider" and config is None:
        config = await run_db(speech_config, db, resolved.provider_id)
        if config is None:
            from studio.services.ai_calls import HOW_TO_ADD

            raise NoProvider(f"No provider for speech is set up. {HOW_TO_ADD}")
    key = key_of(resolved, text, settings, config)
    assert key is not None
    found = await run_db(find, db, key)
    if found is not None:
        return found, key
    data, mime, used = await speak(run_db, db, resolved, text, settings, story_id=story_id,
                                   purpose=purpose, cancel=cancel)
    # The configuration that answered names the key (the default may have changed meanwhile).
    key = key_of(resolved, text, settings, used) or key
    audio = await run_db(store, db, key, data, mime,
                         used.name if used is not None else "System voice")
    return audio, key
