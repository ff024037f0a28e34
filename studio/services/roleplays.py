"""Roleplay segments: a player takes one character of a story and voices their lines.

A roleplay *refers to* a story (or a cached marketplace version) and owns nothing of it, so
several people can each keep their own roleplay of the same story and character.  Its lines
are the character's quoted speech, in reading order: each paragraph whose attribution names
them (``studio.domain.voices.speaker_of``, through the bible's names and aliases), split into
its quoted lines (``dialogue_lines``).  Line rows are refreshed from the text whenever they are
read: a line whose text did not change keeps its voice, settings and recording even when it
moved; an edited line keeps its voice and settings but loses its recording (it no longer says
what was recorded).  Each line can be recorded by the player (stored as a voice sample) or
rendered by a voice, through the render cache narrations share.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from studio.domain.errors import NotFoundError, ValidationError
from studio.domain.voices import dialogue_lines, speaker_of
from studio.services import voice_renders, voice_sources
from studio.services.ai_calls import RunDb
from studio.services.voice_renders import RenderedAudio
from studio.store.database import Database
from studio.store.models_voice import Roleplay
from studio.store.repositories import roleplays as repo

UID_PREFIX = "rp_"
MAX_PLAYER = 200
PURPOSE = "roleplay"


@dataclass(frozen=True)
class RoleplayInfo:
    uid: str
    story_id: int | None
    reference_version_id: int | None
    character_id: str
    character_name: str
    player: str
    voice: dict[str, Any] | None      # the character's voice for lines without their own
    created_at: datetime


@dataclass(frozen=True)
class LineInfo:
    segment_uid: str
    line_index: int                   # which quoted line of the paragraph (0, 1, …)
    text: str
    chapter_uid: str
    scene_uid: str
    scene_title: str
    voice: dict[str, Any] | None      # the line's own voice (None: the roleplay's)
    settings: dict[str, Any] = field(default_factory=dict)
    sample_uid: str | None = None     # the player's recording, if any
    rendered: bool = False            # audio in its current voice and settings is cached


@dataclass(frozen=True)
class LineChoice:
    """A line's voice and settings before a change (for undo)."""

    voice: dict[str, Any] | None
    settings: dict[str, Any]


def _info(row: Roleplay) -> RoleplayInfo:
    voice = json.loads(row.voice_json or "{}") or None
    return RoleplayInfo(row.uid, row.story_id, row.reference_version_id, row.character_id,
                        row.character_name, row.player, voice, row.created_at)


def _row(s, uid: str) -> Roleplay:
    row = repo.by_uid(s, uid)
    if row is None:
        raise NotFoundError(f"There is no roleplay {uid}.")
    return row


def _check_player(player: Any) -> str:
    if not isinstance(player, str):
        raise ValidationError("Roleplay", ["player"], "must be text (who plays the role)")
    player = " ".join(player.split())
    if len(player) > MAX_PLAYER:
        raise ValidationError("Roleplay", ["player"], f"is longer than {MAX_PLAYER} characters")
    return player


def _voice(db: Database, voice: Any, where: str) -> dict[str, Any] | None:
    if voice is None:
        return None
    ref = voice_renders.check_voice(voice, where)
    voice_renders.check_voice_exists(db, ref, where)
    return ref


def create(db: Database, *, story_id: int | None = None, reference_version_id: int | None = None,
           character_id: str, player: str = "",
           voice: dict[str, Any] | None = None) -> RoleplayInfo:
    """A player's roleplay of a character of the story's bible (one per player, character and
    story: a second is refused, naming the first)."""
    voice_sources.check_target(story_id, reference_version_id, "Roleplay")
    player = _check_player(player)
    ref = _voice(db, voice, "Roleplay voice")
    source = voice_sources.read(db, story_id, reference_version_id)
    name = source.character_names().get(str(character_id))
    if name is None:
        raise ValidationError("Roleplay", ["character_id"], f"{character_id} is not a "
                              f"character of “{source.title}”'s scene bible")
    with db.session() as s:
        if repo.find(s, story_id, reference_version_id, character_id, player) is not None:
            who = f"{player} already has" if player else "There is already"
            raise ValidationError("Roleplay", ["player"], f"{who} a roleplay of {name} in "
                                  f"“{source.title}”; open it, or name another player")
        row = repo.add(s, uid=UID_PREFIX + secrets.token_hex(8), story_id=story_id,
                       reference_version_id=reference_version_id, character_id=character_id,
                       character_name=name, player=player,
                       voice_json=json.dumps(ref or {}, sort_keys=True))
        return _info(row)


def get(db: Database, uid: str) -> RoleplayInfo:
    with db.session() as s:
        return _info(_row(s, uid))


def list_for(db: Database, story_id: int | None = None,
             reference_version_id: int | None = None) -> list[RoleplayInfo]:
    with db.session() as s:
        return [_info(r) for r in repo.list_for(s, story_id, reference_version_id)]


def delete(db: Database, uid: str) -> None:
    """Forget the roleplay and its lines; the story, recordings (voice samples) and rendered
    audio stay."""
    with db.session() as s:
        repo.delete(s, _row(s, uid))


def set_voice(db: Database, uid: str, voice: dict[str, Any] | None) -> dict[str, Any] | None:
    """The character's voice for every line without its own; returns the previous one."""
    ref = _voice(db, voice, "Roleplay voice")
    with db.session() as s:
        row = _row(s, uid)
        old = json.loads(row.voice_json or "{}") or None
        row.voice_json = json.dumps(ref or {}, sort_keys=True)
        return old


# --- lines -----------------------------------------------------------------------------------

def _wanted(source: voice_sources.Source, character_id: str) -> list[tuple[Any, int, str]]:
    """(paragraph, line index, text) of the character's quoted lines, in reading order."""
    names = source.names()
    out = []
    for p in source.paragraphs:
        if speaker_of(p.text, names) == character_id:
            out += [(p, i, line) for i, line in enumerate(dialogue_lines(p.text))]
    return out


def _refresh(db: Database, uid: str) -> tuple[RoleplayInfo, list[tuple[Any, Any]]]:
    """Bring the line rows in line with the text; returns the roleplay and, per line in
    reading order, (paragraph, row fields)."""
    info = get(db, uid)
    source = voice_sources.read(db, info.story_id, info.reference_version_id)
    wanted = _wanted(source, info.character_id)
    with db.session() as s:
        row = _row(s, uid)
        old = repo.lines(s, row.id)
        by_segment: dict[str, list] = {}
        for line in old:
            by_segment.setdefault(line.segment_uid, []).append(line)
        used: set[int] = set()
        new: list[dict[str, Any]] = []
        for p, index, text in wanted:
            rows = by_segment.get(p.segment_uid, [])
            same = [r for r in rows if r.id not in used and r.text == text]
            same.sort(key=lambda r: r.line_index != index)  # the same place first
            if same:
                keep = same[0]
                fields = {"voice_json": keep.voice_json, "settings_json": keep.settings_json,
                          "sample_uid": keep.sample_uid, "render_key": keep.render_key}
            else:
                moved = [r for r in rows if r.id not in used and r.line_index == index
                         and not any(text2 == r.text for _p, _i, text2 in wanted
                                     if _p.segment_uid == p.segment_uid)]
                keep = moved[0] if moved else None
                fields = {"voice_json": keep.voice_json if keep else "{}",
                          "settings_json": keep.settings_json if keep else "{}",
                          "sample_uid": None, "render_key": None}
            if keep is not None:
                used.add(keep.id)
            new.append({"segment_uid": p.segment_uid, "line_index": index, "text": text,
                        **fields})
        current = [{"segment_uid": r.segment_uid, "line_index": r.line_index, "text": r.text,
                    "voice_json": r.voice_json, "settings_json": r.settings_json,
                    "sample_uid": r.sample_uid, "render_key": r.render_key} for r in old]
        if current != new:
            repo.replace_lines(s, row.id, old, new)
    return info, [(p, fields) for (p, _i, _t), fields in zip(wanted, new)]


def _line_voice(info: RoleplayInfo, fields: dict[str, Any]) -> dict[str, Any] | None:
    return json.loads(fields["voice_json"] or "{}") or info.voice


def lines(db: Database, uid: str) -> list[LineInfo]:
    """The character's lines in reading order (rows refreshed from the story's text)."""
    info, items = _refresh(db, uid)
    with db.session() as s:
        recorded = repo.existing_samples(s, [f["sample_uid"] for _p, f in items
                                             if f["sample_uid"]])
    configs = voice_renders.Configs(db)
    keys: list[str | None] = []
    for p, fields in items:
        keys.append(_key(db, info, fields, configs))
    have = voice_renders.present(db, [k for k in keys if k])
    return [LineInfo(p.segment_uid, f["line_index"], f["text"], p.chapter_uid, p.scene_uid,
                     p.scene_title, json.loads(f["voice_json"] or "{}") or None,
                     json.loads(f["settings_json"] or "{}"),
                     f["sample_uid"] if f["sample_uid"] in recorded else None,
                     bool(key and key in have))
            for (p, f), key in zip(items, keys)]


def _key(db: Database, info: RoleplayInfo, fields: dict[str, Any],
         configs: voice_renders.Configs) -> str | None:
    ref = _line_voice(info, fields)
    if ref is None:
        return None
    resolved = voice_renders.resolve(db, ref)
    config = configs.get(resolved.provider_id) if resolved.engine == "provider" else None
    settings = voice_renders.engine_settings(resolved.engine, None,
                                             json.loads(fields["settings_json"] or "{}"))
    return voice_renders.key_of(resolved, fields["text"], settings, config)


def _line(s, roleplay_id: int, segment_uid: str, line_index: int, title: str):
    line = repo.line(s, roleplay_id, segment_uid, line_index)
    if line is None:
        raise NotFoundError(f"{title} has no line {line_index + 1} in paragraph "
                            f"{segment_uid}.")
    return line


def set_line_voice(db: Database, uid: str, segment_uid: str, line_index: int,
                   voice: dict[str, Any] | None,
                   settings: dict[str, Any] | None = None) -> LineChoice:
    """A line's own voice (None: the roleplay's) and settings; returns the previous ones."""
    ref = _voice(db, voice, "Line voice")
    clean = voice_renders.check_settings(settings, "Line voice settings")
    info, _items = _refresh(db, uid)
    with db.session() as s:
        line = _line(s, _row(s, uid).id, segment_uid, line_index, info.character_name)
        old = LineChoice(json.loads(line.voice_json or "{}") or None,
                         json.loads(line.settings_json or "{}"))
        line.voice_json = json.dumps(ref or {}, sort_keys=True)
        line.settings_json = json.dumps(clean, sort_keys=True)
        return old


def record_line(db: Database, uid: str, segment_uid: str, line_index: int,
                wav_bytes: bytes) -> LineInfo:
    """Keep the player's recording of a line (as a voice sample: an unreadable recording is
    refused by ``voice_samples`` and nothing changes)."""
    from studio.services import voice_samples

    info, _items = _refresh(db, uid)
    with db.session() as s:
        line = _line(s, _row(s, uid).id, segment_uid, line_index, info.character_name)
        text = line.text
    label = f"{info.character_name}: {text}"[:200]
    sample = voice_samples.import_bytes(db, wav_bytes, f"{info.character_name} line.wav",
                                        label=label)
    with db.session() as s:
        line = _line(s, _row(s, uid).id, segment_uid, line_index, info.character_name)
        line.sample_uid = sample.uid
    return next(x for x in lines(db, uid)
                if x.segment_uid == segment_uid and x.line_index == line_index)


def clear_recording(db: Database, uid: str, segment_uid: str, line_index: int) -> str | None:
    """Unlink the line's recording (the sample itself stays); returns its uid (for undo)."""
    info = get(db, uid)
    with db.session() as s:
        line = _line(s, _row(s, uid).id, segment_uid, line_index, info.character_name)
        old, line.sample_uid = line.sample_uid, None
        return old


async def render_line(run_db: RunDb, db: Database, uid: str, segment_uid: str,
                      line_index: int) -> RenderedAudio:
    """A line's audio in its voice (from the shared render cache when it is there)."""
    info, items = await run_db(_refresh, db, uid)
    found = next((f for p, f in items
                  if p.segment_uid == segment_uid and f["line_index"] == line_index), None)
    if found is None:
        raise NotFoundError(f"{info.character_name} has no line {line_index + 1} in "
                            f"paragraph {segment_uid}.")
    ref = _line_voice(info, found)
    if ref is None:
        raise voice_renders.VoiceUnavailable(f"Choose a voice for {info.character_name} (or "
                                             "for this line) first.")
    resolved = await run_db(voice_renders.resolve, db, ref)
    settings = voice_renders.engine_settings(resolved.engine, None,
                                             json.loads(found["settings_json"] or "{}"))
    audio, key = await voice_renders.render(run_db, db, resolved, found["text"], settings,
                                            story_id=info.story_id, purpose=PURPOSE)
    await run_db(_set_render_key, db, uid, segment_uid, line_index, key)
    return audio


def _set_render_key(db: Database, uid: str, segment_uid: str, line_index: int,
                    key: str) -> None:
    with db.session() as s:
        line = repo.line(s, _row(s, uid).id, segment_uid, line_index)
        if line is not None:
            line.render_key = key
