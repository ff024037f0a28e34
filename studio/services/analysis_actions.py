"""One-click actions on analysis results: add a found character to the scene bible, set a
scene's emotion, note a suggested voice template for a scene.

Each goes through the normal services (bible save with its optimistic lock, scene metadata
with its history), so each is undoable the same way as a manual edit: the returned value is
what the UI's undo command needs to put things back.
"""

from __future__ import annotations

import copy
from typing import Any

from studio.domain.bible import new_character_id
from studio.domain.emotions import EMOTIONS
from studio.domain.errors import ValidationError
from studio.domain.insights import suggest_voice_template
from studio.services import bible as bible_service
from studio.services import stories
from studio.store.database import Database

SCENE_EMOTION_KEY = "emotion"
SCENE_VOICE_KEY = "voice_template"


def add_character(db: Database, story_id: int, name: str,
                  aliases: list[str] | None = None) -> str:
    """Add a character to the story's own bible (a new version); returns its new id.  A
    character of that name already in the effective bible is refused with a clear message."""
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError("Character", ["name"], "is required")
    state = bible_service.load(db, story_id)
    known = {str(c.get("name", "")).casefold() for c in
             state.effective.get("characters") or []}
    if name.casefold() in known:
        raise ValidationError("Character", [name], "is already in the scene bible")
    data = copy.deepcopy(state.story_data)
    chars = list(data.get("characters") or [])
    ids = [str(c.get("id")) for c in state.effective.get("characters") or []]
    new_id = new_character_id(ids)
    clean = [a for a in dict.fromkeys(" ".join(a.split()) for a in aliases or [])
             if a and a.casefold() != name.casefold()]
    chars.append({"id": new_id, "name": name, "aliases": clean})
    data["characters"] = chars
    bible_service.save(db, story_id, "story", state.story_version, data)
    return new_id


def scene_notes(db: Database, story_id: int, scene_uid: str) -> dict[str, Any]:
    meta = stories.get_metadata(db, story_id, "scene", scene_uid)
    return {SCENE_EMOTION_KEY: meta.get(SCENE_EMOTION_KEY),
            SCENE_VOICE_KEY: meta.get(SCENE_VOICE_KEY)}


def set_scene_emotion(db: Database, story_id: int, scene_uid: str,
                      emotion: str | None) -> Any:
    """Set (None: clear) the scene's emotion; returns the previous value (for undo)."""
    if emotion is not None and emotion not in EMOTIONS:
        raise ValidationError("Scene emotion", [emotion], "is not a known emotion")
    old = stories.get_metadata(db, story_id, "scene", scene_uid).get(SCENE_EMOTION_KEY)
    stories.set_metadata(db, story_id, SCENE_EMOTION_KEY, emotion, owner="scene",
                         ref=scene_uid)
    return old


def set_scene_voice(db: Database, story_id: int, scene_uid: str,
                    emotion_or_template: str | None, is_template: bool = False) -> Any:
    """Note the voice template suggested for the scene's emotion (or the template itself);
    returns the previous value.  The voice issue's narrations read it as their default."""
    template = None
    if emotion_or_template:
        template = emotion_or_template if is_template else \
            suggest_voice_template(emotion_or_template)
    old = stories.get_metadata(db, story_id, "scene", scene_uid).get(SCENE_VOICE_KEY)
    stories.set_metadata(db, story_id, SCENE_VOICE_KEY, template, owner="scene",
                         ref=scene_uid)
    return old
