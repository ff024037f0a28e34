"""Forking a cached marketplace version into a local story that refers to it.

A fork is a story like any other — it opens, edits, versions and exports through the usual
services — but it does not copy the prose: each of its scenes points at the reference scene's
blob (``scenes.shared_blob``) and has no segment rows until the author first edits it
(copy-on-write, in ``store.repositories.manuscript``).  Forking a 1M-word story therefore
writes one row per chapter and per scene and nothing per word.  Its modules, scene bible and
chapter graph are small and are copied (they are what the author reshapes first).

``story_links.source_version_id`` remembers the version forked: the merge base of every pull.
The story's metadata mirrors it (``marketplace_source``: server, story, version number), so
that every version snapshot records the base too: restoring a version saved before a pull
(``services.pulling``) brings the base back with the text, and the pull can be made again.
"""

from __future__ import annotations

import json

from studio.domain import bible as bible_rules
from studio.domain.errors import ValidationError
from studio.domain.story import UNTITLED, StoryFields, validate_story_fields
from studio.domain.story_content import (
    normalise_bible, normalise_graph, normalise_modules, read_attrs,
)
from studio.services import reference_cache
from studio.services.schemas import validate_bible, validate_module_output
from studio.store.database import Database
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import chapter_graphs as graphs_repo
from studio.store.repositories import history
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo

FORK_SUFFIX = " (fork)"
BASE_KEY = "marketplace_source"


def checked_parts(raw: dict) -> tuple[dict, dict, dict]:
    """A version's modules, scene bible and chapter graph in the form the studio stores,
    checked as a save would check them (a ValidationError names the first problem)."""
    from studio.services.chapter_graph import check

    modules = normalise_modules(raw.get("modules"))
    for key, module in modules.items():
        validate_module_output(key, module["output"])
    bible = normalise_bible(raw.get("scene_bible"))
    if bible:
        validate_bible(bible)
    try:
        graph = normalise_graph(raw.get("chapter_graph"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError("Chapter graph", [], f"is not a chapter graph ({exc})") from None
    if graph["chapters"]:
        check(graph, {c["id"] for c in bible_rules.characters(bible)})
    return modules, bible, graph


def fork_reference(db: Database, reference_version_id: int, title: str | None = None) -> int:
    """Create a local story from a cached version; returns the new story's id."""
    with db.session() as s:
        version = repo.reference_version_by_id(s, reference_version_id)
        ref = repo.reference_story_by_id(s, version.reference_story_id)
        modules, bible, graph = checked_parts(reference_cache.parts_of(version))
        detail = json.loads(ref.detail_json)
        title = title if title is not None else (ref.title or UNTITLED) + FORK_SUFFIX
        genre = detail.get("genre") if isinstance(detail.get("genre"), str) else ""
        logline = detail.get("description") if isinstance(detail.get("description"), str) \
            else ""
        fields = StoryFields(title=(title or UNTITLED)[:500], logline=logline, genre=genre)
        validate_story_fields(fields.as_dict())
        story = stories_repo.create(s, fields)

        for key, module in modules.items():
            row = stories_repo.module_row(s, story.id, key)
            row.input_text = module["input"]
            row.output_json = json.dumps(module["output"], ensure_ascii=False)
        if bible:
            bibles_repo.add_version(s, "story", story.id, 1, bible, None,
                                    f"forked from {ref.title or ref.public_id} "
                                    f"v{version.number}")
        graphs_repo.write_graph(s, story.id, graph)
        # Recorded even for an empty graph: the fork's graph is the reference's, not one
        # seeded from the manuscript on first open.
        history.record(s, story.id, "chapter_graph", story.id, "fork",
                       {"chapters": len(graph["chapters"])})

        add_shared_outline(s, story.id, reference_cache.manifest_of(version))

        set_base(s, story.id, version)
        history.record(s, story.id, "story", story.id, "fork",
                       {"title": story.title, "server": ref.server_url,
                        "source": ref.public_id, "version": version.number})
        return story.id


def add_shared_outline(s, story_id: int, manifest: dict) -> None:
    """Chapter and scene rows for a cached manifest, every scene sharing its blob."""
    for ch_pos, chapter in enumerate(manifest.get("chapters", [])):
        attrs = read_attrs(chapter, chapter=True)
        ch_row = repo.add_chapter(s, story_id, chapter["id"], ch_pos, attrs["title"],
                                  attrs["synopsis"], attrs["status"], attrs["word_target"])
        s.flush()
        if attrs["metadata"]:
            stories_repo.replace_metadata(s, story_id, "chapter", ch_row.id, attrs["metadata"])
        for sc_pos, scene in enumerate(chapter.get("scenes", [])):
            attrs = read_attrs(scene, chapter=False)
            sc_row = repo.add_scene(s, story_id, ch_row.id, scene["id"], sc_pos,
                                    attrs["title"], attrs["synopsis"], attrs["status"],
                                    scene.get("words", 0), scene["blob"], scene["blob"])
            if attrs["metadata"]:
                s.flush()
                stories_repo.replace_metadata(s, story_id, "scene", sc_row.id,
                                              attrs["metadata"])
    s.flush()


def set_base(s, story_id: int, version) -> None:
    """Make ``version`` (a cached ``ReferenceVersion``) the story's merge base."""
    ref = repo.reference_story_by_id(s, version.reference_story_id)
    link = repo.ensure_link(s, story_id, ref.server_url)
    link.source_version_id = version.id
    repo.touch_link(link)
    meta = stories_repo.get_metadata(s, "story", story_id)
    meta[BASE_KEY] = {"server": ref.server_url, "story": ref.public_id,
                      "version": version.number}
    stories_repo.replace_metadata(s, story_id, "story", story_id, meta)


def base_version(s, story_id: int):
    """The cached version the story merges against (None: not a fork).  The story's
    metadata wins over the link when a restore brought back an older base."""
    link = repo.link(s, story_id)
    if link is None or link.source_version_id is None:
        return None
    linked = repo.reference_version_by_id(s, link.source_version_id)
    mark = stories_repo.get_metadata(s, "story", story_id).get(BASE_KEY)
    if isinstance(mark, dict) and isinstance(mark.get("version"), int) \
            and mark["version"] != linked.number:
        ref = repo.reference_story_by_id(s, linked.reference_story_id)
        if (mark.get("server"), mark.get("story")) == (ref.server_url, ref.public_id):
            found = repo.reference_version(s, ref.id, mark["version"])
            if found is not None:
                return found
    return linked
