"""What a narration or a roleplay reads of the story it refers to: paragraphs in reading order,
the bible's characters and the names they go by, and the emotions of each scene.

Narrations and roleplays *refer to* a story — the author's own or forked one (``story_id``),
or a marketplace version cached locally (``reference_version_id``) — and own nothing of it, so
the text is read afresh each time: an edited paragraph is heard as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.domain import bible as bible_rules
from studio.domain.errors import NotFoundError, ValidationError
from studio.domain.story_content import read_attrs
from studio.domain.voices import BUILTIN_TEMPLATES, VoiceTemplate
from studio.services.analysis_actions import SCENE_EMOTION_KEY, SCENE_VOICE_KEY
from studio.store.database import Database
from studio.store.repositories import marketplace as marketplace_repo
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import voice_templates as templates_repo


@dataclass(frozen=True)
class Paragraph:
    segment_uid: str
    chapter_uid: str
    chapter_title: str
    scene_uid: str
    scene_title: str
    text: str


@dataclass
class Source:
    """One read of a story (or cached reference version) for voice work."""

    story_id: int | None
    reference_version_id: int | None
    title: str
    paragraphs: list[Paragraph]
    characters: list[dict[str, Any]]
    scene_meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def names(self) -> dict[str, str]:
        return name_index(self.characters)

    def character_names(self) -> dict[str, str]:
        return {str(c.get("id")): str(c.get("name") or c.get("id")) for c in self.characters
                if c.get("id")}

    def paragraph(self, segment_uid: str) -> Paragraph:
        for p in self.paragraphs:
            if p.segment_uid == segment_uid:
                return p
        raise NotFoundError(f"There is no paragraph {segment_uid} in “{self.title}”.")


def check_target(story_id: Any, reference_version_id: Any, what: str) -> None:
    """Exactly one of a story and a cached reference version."""
    given = [v for v in (story_id, reference_version_id) if v is not None]
    if len(given) != 1:
        raise ValidationError(what, ["story_id"], "name either a story or a cached "
                              "marketplace version (exactly one of them)")
    for name, value in (("story_id", story_id), ("reference_version_id", reference_version_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationError(what, [name], "must be an id (a whole number)")


def target_title(db: Database, story_id: int | None, reference_version_id: int | None) -> str:
    """The title of what is referred to (and a NotFoundError when it is not there)."""
    with db.session() as s:
        if story_id is not None:
            return stories_repo.get(s, story_id).title
        version = marketplace_repo.reference_version_by_id(s, reference_version_id)
        story = marketplace_repo.reference_story_by_id(s, version.reference_story_id)
        return f"{story.title} (version {version.number})"


def name_index(characters: list[dict[str, Any]]) -> dict[str, str]:
    """Casefolded name, alias, and first or last name (when only one character has it) →
    character id: "…,” said Ada" finds Ada Quill."""
    index: dict[str, str] = {}
    parts: dict[str, set[str]] = {}
    for c in characters:
        cid = c.get("id")
        if not cid:
            continue
        for name in [c.get("name"), *(c.get("aliases") or [])]:
            if isinstance(name, str) and name.strip():
                index.setdefault(" ".join(name.split()).casefold(), cid)
        name = c.get("name")
        words = name.split() if isinstance(name, str) else []
        if len(words) > 1:
            for word in (words[0], words[-1]):
                parts.setdefault(word.casefold(), set()).add(cid)
    for word, ids in parts.items():
        if len(ids) == 1 and word not in index:
            index[word] = next(iter(ids))
    return index


def read(db: Database, story_id: int | None, reference_version_id: int | None) -> Source:
    """The paragraphs, characters and scene metadata of a story or a cached version."""
    from studio.services import publishing, reference_cache

    with db.session() as s:
        if story_id is not None:
            title = stories_repo.get(s, story_id).title
            content = publishing.collect_content(s, story_id, ("manuscript", "scene_bible"))
        else:
            row = marketplace_repo.reference_version_by_id(s, reference_version_id)
            ref = marketplace_repo.reference_story_by_id(s, row.reference_story_id)
            title = f"{ref.title} (version {row.number})"
            content = {"manuscript": reference_cache.manuscript_content(
                s, reference_cache.manifest_of(row)),
                "scene_bible": reference_cache.parts_of(row)["scene_bible"]}
    paragraphs, scene_meta = [], {}
    for chapter in (content.get("manuscript") or {}).get("chapters") or []:
        for scene in chapter.get("scenes") or []:
            scene_meta[scene["id"]] = read_attrs(scene, chapter=False)["metadata"]
            for seg in scene.get("segments") or []:
                text = str(seg.get("text") or "")
                if text.strip():
                    paragraphs.append(Paragraph(seg["id"], chapter["id"],
                                                str(chapter.get("title") or ""), scene["id"],
                                                str(scene.get("title") or ""), text))
    bible = content.get("scene_bible") or {}
    characters = [c for c in bible_rules.characters(bible) if isinstance(c, dict)]
    return Source(story_id, reference_version_id, title, paragraphs, characters, scene_meta)


def scene_emotions(db: Database, source: Source) -> dict[str, str]:
    """Each scene's emotion: the one the author set (scene metadata), else the dominant one
    of the story's stored analysis, if it has one."""
    out = {uid: str(meta[SCENE_EMOTION_KEY]) for uid, meta in source.scene_meta.items()
           if isinstance(meta.get(SCENE_EMOTION_KEY), str) and meta[SCENE_EMOTION_KEY]}
    if source.story_id is not None and len(out) < len(source.scene_meta):
        from studio.services import analysis

        stored = analysis.latest(db, source.story_id)
        scenes = ((stored.result.get("emotions") or {}).get("scenes") or []) if stored else []
        for scene in scenes:
            if isinstance(scene, dict) and isinstance(scene.get("dominant"), str) \
                    and scene.get("dominant"):
                out.setdefault(str(scene.get("scene")), scene["dominant"])
    return out


def scene_voice_notes(source: Source) -> dict[str, str]:
    """Templates the analysis panel noted for scenes (a template name or uid)."""
    return {uid: str(meta[SCENE_VOICE_KEY]) for uid, meta in source.scene_meta.items()
            if isinstance(meta.get(SCENE_VOICE_KEY), str) and meta[SCENE_VOICE_KEY]}


def character_emotions(db: Database, source: Source) -> dict[tuple[str, str], str]:
    """(character id, scene uid) → the character's primary emotion there (own stories only:
    a cached reference version carries no emotion states)."""
    if source.story_id is None:
        return {}
    from studio.services import emotions

    return {(st.character_id, st.scene_uid): st.primary
            for st in emotions.list_states(db, source.story_id)}


def templates(db: Database) -> dict[str, VoiceTemplate]:
    """Every voice template by uid — superseded and hidden ones too, since a narration that
    chose one keeps it — with the shipped set even before it is stored."""
    with db.session() as s:
        found = {}
        for row in templates_repo.all_rows(s):
            t = templates_repo.to_domain(row)
            found[t.uid] = t
    for t in BUILTIN_TEMPLATES:
        found.setdefault(t.uid, t)
    return found


def template_named(all_templates: dict[str, VoiceTemplate], ref: str) -> VoiceTemplate | None:
    """A template by uid, else the current (not superseded) one of that name."""
    if ref in all_templates:
        return all_templates[ref]
    key = ref.strip().casefold()
    for t in all_templates.values():
        if t.name.casefold() == key and not t.superseded_by:
            return t
    return None
