"""Narrations: a story heard aloud — who speaks each paragraph, in which mood, and the audio.

A narration *refers to* a story (own or forked: ``story_id``) or a marketplace version cached
locally (``reference_version_id``) and owns nothing of it: deleting the narration leaves the
story as it was, and an edited paragraph is heard as it now reads.  It holds the narrator's
voice, a voice per character, and the author's choices for single paragraphs; every other
paragraph is *automatic*: the speaking character (found through the bible's names and
aliases) in their emotion in that scene, else the narrator in the scene's emotion
(``studio.domain.voices.suggest_voices``).

Rendering speaks each paragraph through the default speech provider (or the chosen one, or
the system's offline voice) and keeps the audio in the shared render cache, keyed by text +
voice + provider + model + settings (``voice_renders``).  A failure or a cancel stops the
render with a clear message and keeps what was rendered; the next render asks only for what
is missing.  Playlists, SSML and scripts are in ``narration_exports`` (re-exported here).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable

from studio.domain.emotions import EMOTIONS
from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.domain.voices import NARRATOR, SegmentVoice, VoiceTemplate, suggest_voices
from studio.providers.base import ProviderConfig
from studio.services import voice_renders, voice_sources
from studio.services.ai_calls import RunDb
from studio.services.voice_renders import RenderedAudio, Resolved
from studio.store.database import Database
from studio.store.models_voice import Narration
from studio.store.repositories import narrations as repo

UID_PREFIX = "nar_"
MAX_NAME = 200
# How the narration's voices are used: as chosen; with the author's emotion voices for the
# narrator's emotional paragraphs; or all through the system's offline voice (a free draft).
VOICE_TYPES = ("provider", "emotion_voices", "system")
PURPOSE = "narration"
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class NarrationInfo:
    uid: str
    name: str
    story_id: int | None
    reference_version_id: int | None
    narrator: dict[str, Any]
    voice_type: str
    voices: dict[str, dict[str, Any]]     # character id → voice reference
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SegmentChoice:
    """The author's choice for one paragraph (what ``set_segment`` returns for undo)."""

    voice: str
    template_uid: str | None
    emotion: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanRow:
    segment_uid: str
    chapter_uid: str
    chapter_title: str
    scene_uid: str
    scene_title: str
    text: str
    voice: str                        # "narrator" or a character id
    voice_name: str                   # "Narrator" or the character's name
    voice_ref: dict[str, Any] | None  # the voice reference it speaks with (None: none chosen)
    template_uid: str | None
    template_name: str
    emotion: str
    auto: bool                        # suggested (True) or the author's choice
    rendered: bool                    # audio with the current key is in the cache
    settings: dict[str, Any] = field(default_factory=dict)  # the paragraph's own overrides
    render_key: str | None = None
    problem: str = ""                 # why it cannot be rendered now ("" when it can)


@dataclass(frozen=True)
class RenderReport:
    rendered: int                     # newly spoken
    reused: int                       # found in the render cache
    failed_at: str | None             # the paragraph it stopped at (None: finished)
    message: str
    total: int = 0
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        return self.failed_at is None


@dataclass
class Planned:
    """A plan row with what rendering it needs (internal to narrations and their exports)."""

    row: PlanRow
    resolved: Resolved
    settings: dict[str, Any]          # what the engine is asked for
    config: ProviderConfig | None
    template: VoiceTemplate | None


# --- narrations ------------------------------------------------------------------------------

def _info(row: Narration) -> NarrationInfo:
    return NarrationInfo(row.uid, row.name, row.story_id, row.reference_version_id,
                         json.loads(row.narrator_json or "{}"), row.voice_type,
                         json.loads(row.voices_json or "{}"), row.created_at, row.updated_at)


def _row(s, uid: str) -> Narration:
    row = repo.by_uid(s, uid)
    if row is None:
        raise NotFoundError(f"There is no narration {uid}.")
    return row


def _check_name(name: Any) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError("Narration", ["name"], "is required")
    if len(name) > MAX_NAME:
        raise ValidationError("Narration", ["name"], f"is longer than {MAX_NAME} characters")
    return name


def _check_voice_type(voice_type: Any) -> str:
    if voice_type not in VOICE_TYPES:
        raise ValidationError("Narration", ["voice_type"],
                              f"must be one of {', '.join(VOICE_TYPES)}")
    return voice_type


def _voice(db: Database, voice: Any, where: str) -> dict[str, Any]:
    ref = voice_renders.check_voice(voice, where)
    voice_renders.check_voice_exists(db, ref, where)
    return ref


def create(db: Database, *, story_id: int | None = None, reference_version_id: int | None = None,
           name: str, narrator: dict[str, Any], voice_type: str = "provider") -> NarrationInfo:
    """A new narration of a story or of a cached marketplace version (exactly one)."""
    voice_sources.check_target(story_id, reference_version_id, "Narration")
    name = _check_name(name)
    voice_type = _check_voice_type(voice_type)
    ref = _voice(db, narrator, "Narrator voice")
    voice_sources.target_title(db, story_id, reference_version_id)  # it must be there
    with db.session() as s:
        row = repo.add(s, uid=UID_PREFIX + secrets.token_hex(8), story_id=story_id,
                       reference_version_id=reference_version_id, name=name,
                       narrator_json=json.dumps(ref, sort_keys=True), voice_type=voice_type,
                       voices_json="{}", settings_json="{}")
        return _info(row)


def get(db: Database, uid: str) -> NarrationInfo:
    with db.session() as s:
        return _info(_row(s, uid))


def list_for(db: Database, story_id: int | None = None,
             reference_version_id: int | None = None) -> list[NarrationInfo]:
    with db.session() as s:
        return [_info(r) for r in repo.list_for(s, story_id, reference_version_id)]


def delete(db: Database, uid: str) -> None:
    """Forget the narration and its choices; the story and the rendered audio stay (the
    render cache is shared: another narration may use the same files)."""
    with db.session() as s:
        repo.delete(s, _row(s, uid))


def rename(db: Database, uid: str, name: str) -> str:
    """Rename; returns the old name (for undo)."""
    name = _check_name(name)
    with db.session() as s:
        row = _row(s, uid)
        old, row.name = row.name, name
        repo.touch(row)
        return old


def set_narrator(db: Database, uid: str, voice: dict[str, Any]) -> dict[str, Any]:
    """Set the narrator's voice; returns the previous one (for undo)."""
    ref = _voice(db, voice, "Narrator voice")
    with db.session() as s:
        row = _row(s, uid)
        old = json.loads(row.narrator_json or "{}")
        row.narrator_json = json.dumps(ref, sort_keys=True)
        repo.touch(row)
        return old


def set_voice_type(db: Database, uid: str, voice_type: str) -> str:
    """Set how the voices are used (``VOICE_TYPES``); returns the previous one."""
    voice_type = _check_voice_type(voice_type)
    with db.session() as s:
        row = _row(s, uid)
        old, row.voice_type = row.voice_type, voice_type
        repo.touch(row)
        return old


def set_character_voice(db: Database, uid: str, character_id: str,
                        voice: dict[str, Any] | None) -> dict[str, Any] | None:
    """Give a character of the bible a voice (None: they speak in the narrator's voice);
    returns the previous one (for undo)."""
    info = get(db, uid)
    source = voice_sources.read(db, info.story_id, info.reference_version_id)
    if character_id not in source.character_names():
        raise ValidationError("Character voice", [str(character_id)],
                              f"is not a character of “{source.title}”'s scene bible")
    ref = None if voice is None else _voice(db, voice, "Character voice")
    with db.session() as s:
        row = _row(s, uid)
        voices = json.loads(row.voices_json or "{}")
        old = voices.pop(character_id, None)
        if ref is not None:
            voices[character_id] = ref
        row.voices_json = json.dumps(voices, sort_keys=True)
        repo.touch(row)
        return old


# --- the plan ------------------------------------------------------------------------------

def _choice(seg) -> SegmentChoice:
    return SegmentChoice(seg.voice, seg.template_uid, seg.emotion,
                         json.loads(seg.settings_json or "{}"))


def _fallback_template(suggestion: SegmentVoice, scene_emotion: str, note: str | None,
                       templates: dict[str, VoiceTemplate]) -> VoiceTemplate | None:
    """When no template voices the emotion itself: the template the analysis panel noted for
    the scene (if the paragraph carries the scene's emotion), else the built-in one that suits
    the emotion (``studio.domain.insights``)."""
    if not suggestion.emotion:
        return None
    if note and suggestion.emotion == scene_emotion:
        found = voice_sources.template_named(templates, note)
        if found is not None and not found.hidden:
            return found
    from studio.domain.insights import suggest_voice_template

    try:
        name = suggest_voice_template(suggestion.emotion)
    except ValueError:
        return None
    found = voice_sources.template_named(templates, name)
    return found if found is not None and not found.hidden else None


def _emotion_voice_ref(db: Database, emotion: str, cache: dict[str, Any]) -> dict | None:
    """The author's ready emotion voice for an emotion, as a voice reference (or None)."""
    if not emotion:
        return None
    if emotion not in cache:
        from studio.services import emotion_voices

        found = emotion_voices.voice_for_emotion(db, emotion)
        cache[emotion] = None if found is None else {"kind": "emotion_voice", "uid": found.uid}
    return cache[emotion]


def planned(db: Database, uid: str, chapter_uid: str | None = None
            ) -> tuple[NarrationInfo, voice_sources.Source, list[Planned]]:
    """The narration, what it reads, and each paragraph's plan with what rendering needs."""
    info = get(db, uid)
    source = voice_sources.read(db, info.story_id, info.reference_version_id)
    if chapter_uid is not None and not any(p.chapter_uid == chapter_uid
                                           for p in source.paragraphs):
        raise NotFoundError(f"There is no chapter {chapter_uid} with text in “{source.title}”.")
    paragraphs = [p for p in source.paragraphs
                  if chapter_uid is None or p.chapter_uid == chapter_uid]
    with db.session() as s:
        choices = {k: _choice(v) for k, v in repo.segments(s, _row(s, uid).id).items()}
    templates = voice_sources.templates(db)
    scene_emotions = voice_sources.scene_emotions(db, source)
    notes = voice_sources.scene_voice_notes(source)
    suggestions = suggest_voices(
        [(p.segment_uid, p.scene_uid, p.text) for p in paragraphs], source.names(),
        scene_emotions, voice_sources.character_emotions(db, source), list(templates.values()))
    names = source.character_names()
    configs = voice_renders.Configs(db)
    emotion_refs: dict[str, Any] = {}
    out: list[Planned] = []
    with db.session() as s:
        for p, auto in zip(paragraphs, suggestions):
            choice = choices.get(p.segment_uid)
            if choice is not None:
                voice, emotion, settings = choice.voice, choice.emotion, dict(choice.settings)
                template = templates.get(choice.template_uid) if choice.template_uid else None
            else:
                voice, emotion, settings = auto.voice, auto.emotion, {}
                template = templates.get(auto.template_uid) if auto.template_uid else \
                    _fallback_template(auto, scene_emotions.get(p.scene_uid, ""),
                                       notes.get(p.scene_uid), templates)
            ref = info.voices.get(voice) if voice != NARRATOR else None
            if ref is None:  # the narrator, or a character with no voice of their own
                ref = _emotion_voice_ref(db, emotion, emotion_refs) \
                    if info.voice_type == "emotion_voices" else None
                ref = ref or info.narrator or None
            if info.voice_type == "system":
                ref = {"kind": "system"}
            resolved = voice_renders.resolve_in(s, ref) if ref else \
                Resolved("provider", problem="Choose the narrator's voice first.")
            if resolved.gone and ref is not info.narrator and info.narrator:
                ref = info.narrator  # a removed emotion voice: the narrator reads instead
                resolved = voice_renders.resolve_in(s, ref)
            config = configs.get(resolved.provider_id) if resolved.engine == "provider" \
                and not resolved.problem else None
            problem = resolved.problem
            if not problem and resolved.engine == "provider" and config is None:
                problem = "The provider chosen for this voice is no longer set up; choose " \
                    "another voice." if resolved.provider_id else \
                    "No provider for speech is set up (Settings → AI providers)."
            engine_settings = voice_renders.engine_settings(
                resolved.engine, template.params if template else None, settings)
            key = None if problem else voice_renders.key_of(resolved, p.text, engine_settings,
                                                            config)
            row = PlanRow(p.segment_uid, p.chapter_uid, p.chapter_title, p.scene_uid,
                          p.scene_title, p.text, voice,
                          "Narrator" if voice == NARRATOR else names.get(voice, voice), ref,
                          template.uid if template else None, template.name if template else "",
                          emotion, choice is None, False, settings, key, problem)
            out.append(Planned(row, resolved, engine_settings, config, template))
    have = voice_renders.present(db, [x.row.render_key for x in out if x.row.render_key])
    for x in out:
        if x.row.render_key in have:
            x.row = replace(x.row, rendered=True)
    return info, source, out


def plan(db: Database, uid: str, chapter_uid: str | None = None) -> list[PlanRow]:
    """Each paragraph in reading order: who speaks it, in which template and emotion, whether
    that is the author's choice or the suggestion, and whether its audio is rendered."""
    return [x.row for x in planned(db, uid, chapter_uid)[2]]


# --- the author's choices --------------------------------------------------------------------

def set_segment(db: Database, uid: str, segment_uid: str, *, voice: str | None = None,
                template_uid: str | None = None, emotion: str | None = None,
                settings: dict[str, Any] | None = None) -> SegmentChoice | None:
    """Choose a paragraph's voice ("narrator" or a character id), template (``""``: none)
    emotion (``""``: none) and settings; what is not given keeps its current value (the
    suggestion's, for an automatic paragraph).  Returns the previous choice, None when the
    paragraph was automatic (undo: ``restore_segment``)."""
    info, source, rows = planned(db, uid)
    current = next((x.row for x in rows if x.row.segment_uid == segment_uid), None)
    if current is None:
        raise NotFoundError(f"There is no paragraph {segment_uid} in “{source.title}”.")
    if voice is not None and voice != NARRATOR and voice not in source.character_names():
        raise ValidationError("Paragraph voice", ["voice"], f"{voice} is neither the narrator "
                              "nor a character of the scene bible")
    templates = voice_sources.templates(db)
    if template_uid and template_uid not in templates:
        raise ValidationError("Paragraph voice", ["template_uid"],
                              f"there is no voice template {template_uid}")
    known = set(EMOTIONS) | {t.emotion for t in templates.values() if t.emotion}
    if emotion and emotion not in known:
        raise ValidationError("Paragraph voice", ["emotion"], f"“{emotion}” is not a known "
                              "emotion")
    clean = voice_renders.check_settings(settings, "Paragraph voice settings") \
        if settings is not None else None
    new = SegmentChoice(voice if voice is not None else current.voice,
                        (template_uid or None) if template_uid is not None
                        else current.template_uid,
                        emotion if emotion is not None else current.emotion,
                        clean if clean is not None else dict(current.settings))
    return _put(db, uid, segment_uid, new)


def _put(db: Database, uid: str, segment_uid: str,
         choice: SegmentChoice | None) -> SegmentChoice | None:
    with db.session() as s:
        row = _row(s, uid)
        old_row = repo.segment(s, row.id, segment_uid)
        old = None if old_row is None else _choice(old_row)
        if choice is None:
            repo.delete_segment(s, row.id, segment_uid)
        else:
            repo.put_segment(s, row.id, segment_uid, choice.voice, choice.template_uid,
                             choice.emotion, json.dumps(choice.settings, sort_keys=True))
        repo.touch(row)
        return old


def clear_segment(db: Database, uid: str, segment_uid: str) -> SegmentChoice | None:
    """Back to the automatic suggestion; returns the choice it replaced (for undo)."""
    get(db, uid)
    return _put(db, uid, segment_uid, None)


def restore_segment(db: Database, uid: str, segment_uid: str,
                    choice: SegmentChoice | None) -> SegmentChoice | None:
    """Put back what ``set_segment`` / ``clear_segment`` returned (None: automatic)."""
    get(db, uid)
    return _put(db, uid, segment_uid, choice)


# --- hearing it ------------------------------------------------------------------------------

async def preview(run_db: RunDb, db: Database, uid: str, segment_uid: str) -> RenderedAudio:
    """One paragraph's audio (from the cache when it was rendered with these settings)."""
    info, source, rows = await run_db(planned, db, uid)
    item = next((x for x in rows if x.row.segment_uid == segment_uid), None)
    if item is None:
        raise NotFoundError(f"There is no paragraph {segment_uid} in “{source.title}”.")
    if item.row.problem:
        raise voice_renders.VoiceUnavailable(item.row.problem)
    audio, _key = await voice_renders.render(run_db, db, item.resolved, item.row.text,
                                             item.settings, story_id=info.story_id,
                                             purpose=PURPOSE, config=item.config)
    return audio


async def render(run_db: RunDb, db: Database, uid: str, *, chapter_uid: str | None = None,
                 progress: Progress | None = None,
                 cancel: asyncio.Event | None = None) -> RenderReport:
    """Render every paragraph (of one chapter, if given) that is not in the cache yet.

    ``progress(done, total, segment_uid)`` after each paragraph.  A provider failure, a voice
    that cannot speak, or ``cancel`` stops it with a clear message: what was rendered stays,
    and the next call renders only what is missing."""
    info, _source, rows = await run_db(planned, db, uid, chapter_uid)
    total, rendered, reused = len(rows), 0, 0
    for done, item in enumerate(rows, start=1):
        row = item.row
        try:
            if cancel is not None and cancel.is_set():
                raise voice_renders.Cancelled("Cancelled.")
            if row.rendered:
                reused += 1
            else:
                if row.problem:
                    raise voice_renders.VoiceUnavailable(row.problem)
                audio, _key = await voice_renders.render(
                    run_db, db, item.resolved, row.text, item.settings,
                    story_id=info.story_id, purpose=PURPOSE, config=item.config,
                    cancel=cancel)
                if audio.cached:
                    reused += 1
                else:
                    rendered += 1
        except StudioError as exc:
            cancelled = isinstance(exc, voice_renders.Cancelled)
            kept = f"{rendered + reused} of {total} paragraphs are ready " \
                   f"({rendered} new, {reused} already rendered)"
            if cancelled:
                message = f"Cancelled at paragraph {done} of {total}; {kept}. Render again " \
                          "to continue where it stopped."
            else:
                message = f"Stopped at paragraph {done} of {total}: {exc} {kept}; render " \
                          "again to continue where it stopped."
            return RenderReport(rendered, reused, row.segment_uid, message, total, cancelled)
        if progress is not None:
            progress(done, total, row.segment_uid)
    message = f"All {total} paragraphs are rendered ({rendered} new, {reused} already " \
              "rendered)." if total else "There is no text to render."
    return RenderReport(rendered, reused, None, message, total, False)


# The exports live in their own module (file size); they belong to this API.
from studio.services.narration_exports import (  # noqa: E402
    RenderedFile, export_playlist, export_script, export_ssml, rendered_files,
)

__all__ = ["NarrationInfo", "PlanRow", "RenderReport", "RenderedAudio", "RenderedFile",
           "SegmentChoice", "VOICE_TYPES", "clear_segment", "create", "delete",
           "export_playlist", "export_script", "export_ssml", "get", "list_for", "plan",
           "planned", "preview", "rename", "render", "rendered_files", "restore_segment",
           "set_character_voice", "set_narrator", "set_segment", "set_voice_type"]
