"""Emotion voices: a voice per emotion, cloned by a voice provider (ElevenLabs by default)
from the author's own samples.  Not tied to any story; narrations use the ready voice of an
emotion (``voice_for_emotion``).

Training is a provider call that may take a while and may fail for reasons the author can
fix (a sample too short or too noisy, the quota used up, a wrong key, no provider set up), so
the row is stored first in status ``training`` — the panel shows it at once — and then ends
``ready`` with the provider's voice id or ``failed`` with the provider's message.  A failure
changes nothing else: samples, templates and other voices stay as they were.  A voice left
``training`` by an app that stopped mid-call is reported as failed ("interrupted"), and
re-training it starts over.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.providers.base import Capability
from studio.services import ai_calls
from studio.store.database import Database
from studio.store.models import utcnow
from studio.store.models_voice import EmotionVoice
from studio.store.repositories import emotion_voices as repo
from studio.store.repositories import voice_templates as templates_repo
from studio.store.repositories.stories import aware

TRAINING, READY, FAILED = "training", "ready", "failed"
PREFIX = "ev_"
MAX_NAME = 200
MAX_SAMPLES = 25  # ElevenLabs' instant cloning takes up to 25 files
EMOTION_RE = re.compile(r"^[a-z][a-z0-9 _-]{0,39}$")
INTERRUPTED = "Training was interrupted (Story Studio closed during it); re-train the voice."

# Voices being trained by this process: a "training" row not in here was left by an app that
# stopped mid-call.  Changed only on the event loop's thread (``train``/``retrain``).
_ACTIVE: set[str] = set()


@dataclass(frozen=True)
class EmotionVoiceInfo:
    uid: str
    name: str
    emotion: str
    template_uid: str | None
    provider_id: int | None      # the provider that holds the voice (a narration calls it)
    provider_name: str
    provider_voice_id: str | None
    status: str                  # training, ready, failed
    error: str
    sample_uids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def _info(row: EmotionVoice) -> EmotionVoiceInfo:
    try:
        uids = json.loads(row.sample_uids_json or "[]")
    except ValueError:
        uids = []
    status, error = row.status, row.error or ""
    if status == TRAINING and row.uid not in _ACTIVE:
        status, error = FAILED, INTERRUPTED
    return EmotionVoiceInfo(row.uid, row.name, row.emotion, row.template_uid, row.provider_id,
                            row.provider_name or "", row.provider_voice_id, status, error,
                            tuple(u for u in uids if isinstance(u, str)),
                            aware(row.created_at), aware(row.updated_at))


def _row(s, uid: str) -> EmotionVoice:
    row = repo.by_uid(s, uid) if isinstance(uid, str) else None
    if row is None:
        raise NotFoundError(f"There is no emotion voice {uid!r}.")
    return row


# --- reading --------------------------------------------------------------------------------

def list_voices(db: Database) -> list[EmotionVoiceInfo]:
    with db.session() as s:
        return [_info(r) for r in repo.all_rows(s)]


def get(db: Database, uid: str) -> EmotionVoiceInfo:
    with db.session() as s:
        return _info(_row(s, uid))


def voice_for_emotion(db: Database, emotion: str) -> EmotionVoiceInfo | None:
    """The author's ready voice for ``emotion`` (the most recently trained), or None."""
    if not isinstance(emotion, str) or not emotion.strip():
        return None
    with db.session() as s:
        row = repo.ready_for_emotion(s, " ".join(emotion.split()).lower())
        return None if row is None else _info(row)


# --- checking and storing -------------------------------------------------------------------

def _check(s, name: Any, emotion: Any, sample_uids: Any,
           template_uid: str | None) -> tuple[str, str, list[str]]:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise ValidationError("Emotion voice", ["name"], "is required")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ValidationError("Emotion voice", ["name"],
                              f"is longer than {MAX_NAME} characters")
    if template_uid is not None:
        templates_repo.ensure_builtins(s)  # a built-in may be chosen before any list
        template = templates_repo.by_uid(s, template_uid)
        if template is None:
            raise ValidationError("Emotion voice", ["template_uid"],
                                  f"there is no voice template {template_uid!r}")
        emotion = emotion or template.emotion
    emotion = " ".join(emotion.split()).lower() if isinstance(emotion, str) else emotion
    if not isinstance(emotion, str) or not EMOTION_RE.match(emotion):
        raise ValidationError("Emotion voice", ["emotion"], "choose the emotion it voices "
                              "(a word of at most 40 letters, digits, spaces, “-” or “_”)")
    if isinstance(sample_uids, str) or not isinstance(sample_uids, Sequence):
        raise ValidationError("Emotion voice", ["samples"], "must be a list of sample ids")
    uids = list(dict.fromkeys(sample_uids))
    if not uids:
        raise ValidationError("Emotion voice", ["samples"],
                              "choose at least one of your voice samples to train it from")
    if len(uids) > MAX_SAMPLES:
        raise ValidationError("Emotion voice", ["samples"],
                              f"at most {MAX_SAMPLES} samples can train one voice")
    from studio.store.repositories import voice_samples as samples_repo

    missing = [u for u in uids if not isinstance(u, str) or samples_repo.by_uid(s, u) is None]
    if missing:
        raise ValidationError("Emotion voice", ["samples"],
                              f"there is no voice sample {missing[0]!r}")
    return name, emotion, uids


def _begin(db: Database, uid: str, name: str, emotion: str, sample_uids: Sequence[str],
           template_uid: str | None) -> str:
    with db.session() as s:
        name, emotion, uids = _check(s, name, emotion, sample_uids, template_uid)
        now = utcnow()
        row = repo.add(s, EmotionVoice(
            uid=uid, name=name, emotion=emotion,
            template_uid=template_uid, provider_id=None, provider_name="",
            provider_voice_id=None, status=TRAINING, error="",
            sample_uids_json=json.dumps(uids), created_at=now, updated_at=now))
        return row.uid


def _restart(db: Database, uid: str, sample_uids: Sequence[str] | None) -> None:
    with db.session() as s:
        row = _row(s, uid)
        if sample_uids is not None:
            _, _, uids = _check(s, row.name, row.emotion, sample_uids, None)
            row.sample_uids_json = json.dumps(uids)
        row.status, row.error, row.updated_at = TRAINING, "", utcnow()


def _finish(db: Database, uid: str, status: str, error: str = "", voice_id: str | None = None,
            provider_id: int | None = None, provider_name: str | None = None) -> None:
    with db.session() as s:
        row = repo.by_uid(s, uid)
        if row is None:
            return
        row.status, row.error, row.updated_at = status, error, utcnow()
        if voice_id is not None:  # a failed re-train keeps the voice the provider still has
            row.provider_voice_id = voice_id
            row.provider_id = provider_id or None
            row.provider_name = provider_name or ""


def read_samples(db: Database, uids: Sequence[str]) -> list[tuple[str, bytes, str]]:
    """The samples' audio as ``(file name, bytes, mime)``, each verified against the checksum
    taken when it was imported (``voice_samples.sample_bytes``), so a file changed, damaged
    or lost since is named in the error instead of being sent to the provider."""
    from studio.formats import audio  # imported here: narrations read voices without audio
    from studio.services import voice_samples

    out = []
    for uid in uids:
        try:
            info = voice_samples.get(db, uid)
        except NotFoundError:
            raise StudioError(f"The voice sample {uid!r} was deleted; re-train the voice with "
                              "the samples you have now.") from None
        data = voice_samples.sample_bytes(db, uid)
        out.append((info.path.name, data,
                    audio.MIME.get(info.format.lower(), "application/octet-stream")))
    return out


# --- training -------------------------------------------------------------------------------

async def _train(run_db: ai_calls.RunDb, db: Database, uid: str) -> EmotionVoiceInfo:
    """Clone the voice of a row already marked ``training`` (and ``uid`` in ``_ACTIVE``, put
    there by the caller *before* the row said training, so no list ever reads it as
    interrupted); it ends ready or failed."""
    try:
        voice = await run_db(get, db, uid)
        try:
            samples = await run_db(read_samples, db, list(voice.sample_uids))
            description = f"Story Studio emotion voice: {voice.emotion}"
            result, config = await ai_calls.call(
                run_db, db, Capability.VOICE_CLONE,
                lambda p: p.clone_voice(voice.name, samples, description),
                purpose="voice clone", offline_ok=False)
        except StudioError as exc:  # provider errors, NoProvider, keyring, a lost file
            await run_db(_finish, db, uid, FAILED, str(exc))
        except asyncio.CancelledError:
            await asyncio.shield(run_db(_finish, db, uid, FAILED,
                                        "Training was cancelled; re-train the voice."))
            raise
        except Exception as exc:
            await run_db(_finish, db, uid, FAILED, f"Training failed unexpectedly: {exc}")
            raise
        else:
            await run_db(_finish, db, uid, READY, "", result.voice_id, config.id, config.name)
    finally:
        _ACTIVE.discard(uid)
    return await run_db(get, db, uid)


async def train(run_db: ai_calls.RunDb, db: Database, name: str, emotion: str,
                sample_uids: Sequence[str], template_uid: str | None = None
                ) -> EmotionVoiceInfo:
    """Train a new emotion voice from samples with the default voice-cloning provider.
    Bad input (no name, no samples, an unknown sample or template) raises a
    ``ValidationError`` and stores nothing; otherwise the voice is stored as ``training`` at
    once, and the returned voice is ``ready`` (with the provider's voice id) or ``failed``
    (with the provider's message, or how to set up a provider when there is none).
    ``emotion`` may be "" when ``template_uid`` names a template voicing one."""
    uid = PREFIX + secrets.token_hex(8)
    _ACTIVE.add(uid)
    try:
        await run_db(_begin, db, uid, name, emotion, sample_uids, template_uid)
    except BaseException:
        _ACTIVE.discard(uid)
        raise
    return await _train(run_db, db, uid)


async def retrain(run_db: ai_calls.RunDb, db: Database, uid: str,
                  sample_uids: Sequence[str] | None = None) -> EmotionVoiceInfo:
    """Train an existing voice again (after a failure, or with other samples:
    ``sample_uids``); a ready voice keeps its current provider voice until the new one is
    ready.  Refused while it is being trained."""
    if uid in _ACTIVE:
        raise StudioError("This voice is being trained already; wait for it to finish.")
    _ACTIVE.add(uid)
    try:
        await run_db(_restart, db, uid, sample_uids)
    except BaseException:
        _ACTIVE.discard(uid)
        raise
    return await _train(run_db, db, uid)


def remove(db: Database, uid: str) -> None:
    """Remove the voice from Story Studio.  The provider's copy is *not* deleted (remove it
    in the provider's own voice library if you want it gone there too); narrations that used
    it fall back to their suggested voices.  Refused while the voice is being trained."""
    if uid in _ACTIVE:
        raise StudioError("This voice is being trained; remove it when training has ended.")
    with db.session() as s:
        repo.remove(s, _row(s, uid))
