"""Character emotions per scene: record, remove, and read back as arcs across the manuscript."""

from __future__ import annotations

from dataclasses import dataclass

from studio.domain import bible as bible_rules
from studio.domain.emotions import ArcStep, EmotionState, arc, parse_state
from studio.domain.errors import ValidationError
from studio.services import bible as bible_service
from studio.store.database import Database
from studio.store.repositories import bibles as repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo


def list_states(db: Database, story_id: int) -> list[EmotionState]:
    with db.session() as s:
        return [parse_state(d) for d in repo.emotions(s, story_id)]


def set_state(db: Database, story_id: int, data: dict) -> dict | None:
    """Record a character's state in a scene; return the state it replaced (for undo).

    The character must be in the bible the book sees and the scene in the manuscript.
    """
    state = parse_state(data)
    known = {c["id"] for c in bible_rules.characters(bible_service.effective_bible(db, story_id))}
    if state.character_id not in known:
        raise ValidationError("Emotion", ["character_id"],
                              f"no character {state.character_id} in the scene bible")
    with db.session() as s:
        manuscript_repo.scene(s, story_id, state.scene_uid)
        old = repo.put_emotion(s, story_id, state.as_dict())
        history.record(s, story_id, "emotion", story_id, "set",
                       {"character": state.character_id, "scene": state.scene_uid,
                        "old": old})
        return old


def delete_state(db: Database, story_id: int, character_id: str, scene_uid: str) -> dict | None:
    with db.session() as s:
        old = repo.delete_emotion(s, story_id, character_id, scene_uid)
        if old is not None:
            history.record(s, story_id, "emotion", story_id, "delete",
                           {"character": character_id, "scene": scene_uid, "old": old})
        return old


@dataclass(frozen=True)
class Arcs:
    """Scenes in reading order as (uid, label) and each character's arc, by character id."""

    scenes: list[tuple[str, str]]
    names: dict[str, str]
    arcs: dict[str, list[ArcStep]]


def arcs(db: Database, story_id: int) -> Arcs:
    effective = bible_service.effective_bible(db, story_id)
    with db.session() as s:
        outline = manuscript_repo.outline(s, story_id)
        states = [parse_state(d) for d in repo.emotions(s, story_id)]
    scenes = [(sc.uid, f"{ci + 1}.{si + 1} {sc.title}".strip())
              for ci, ch in enumerate(outline.chapters) for si, sc in enumerate(ch.scenes)]
    order = [uid for uid, _ in scenes]
    names = {c["id"]: c["name"] for c in bible_rules.characters(effective)}
    result = {cid: arc(cid, order, states) for cid in names}
    return Arcs(scenes, names, {cid: steps for cid, steps in result.items() if steps})
