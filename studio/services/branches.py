"""Local what-if branches of a story: create, list (the family), rename, delete, compare, size.

A branch is a story of its own — the editor, bible, chapter graph, versions and exports work on
it unchanged — plus a ``story_branches`` row naming its family's main story (trunk), the story
it was made from (parent) and the parent's version it was made from (the merge base).

Creating one costs a row per chapter and per scene, nothing per word: it is made from a version
snapshot of the parent (a given one, or one saved now — which stores blobs only for the scenes
changed since the last version), and its scenes point at that version's blobs
(``scenes.shared_blob``) until they are first edited: the copy-on-write local forks use.  Every
other part of the snapshot — modules, scene bible and emotions (so character states can differ
per branch), chapter graph, custom fields, story metadata — is copied through the snapshot
machinery (``services.snapshot``), so parts added later come along without this module
changing.

Merging a branch back (all chapters or only some) is ``services.branch_merge``, re-exported
here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studio.domain.branches import (
    MAIN_NAME, BranchError, BranchInfo, ChapterDiff, FamilyMember, SceneDiff, check_description,
    check_name, compare_outlines,
)
from studio.domain.errors import NotFoundError
from studio.domain.manuscript import count_words, join_segments
from studio.domain.story import StoryFields
from studio.services import publishing, snapshot
from studio.store.database import Database
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import branches as repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import marketplace as outline_rows
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo
from studio.store.repositories.stories import aware

__all__ = [
    "BranchError", "BranchInfo", "FamilyMember", "SceneDiff", "ChapterDiff", "BranchMergePlan",
    "family", "branch_info", "create_branch", "rename_branch", "delete_branch", "compare",
    "plan_merge", "apply_merge", "branch_storage",
]


# --- reading -----------------------------------------------------------------------------------

def _chapter_title(s: Session, story_id: int, uid: str | None) -> str | None:
    if not uid:
        return None
    try:
        return manuscript_repo.chapter(s, story_id, uid).title
    except NotFoundError:
        return None


def info_of(s: Session, row) -> BranchInfo:
    """The UI's view of a ``story_branches`` row."""
    return BranchInfo(row.story_id, row.trunk_id, row.parent_id, row.name, row.description,
                      row.base_version, row.branch_chapter,
                      _chapter_title(s, row.story_id, row.branch_chapter),
                      aware(row.created_at), aware(row.merged_at))


def branch_info(db: Database, story_id: int) -> BranchInfo | None:
    """The branch facts of ``story_id``; None for a main story."""
    with db.session() as s:
        row = repo.get(s, story_id)
        return info_of(s, row) if row is not None else None


def family(db: Database, story_id: int) -> list[FamilyMember]:
    """The family ``story_id`` belongs to (given its main story or any branch): the main story
    first, named "Main", then its live branches in the order they were made."""
    with db.session() as s:
        stories_repo.get(s, story_id)
        trunk = repo.trunk_of(s, story_id)
        members = [FamilyMember(trunk, MAIN_NAME, True, None)]
        members += [FamilyMember(row.story_id, row.name, False, info_of(s, row))
                    for row in repo.of_trunk(s, trunk)]
        return members


def _taken_names(s: Session, trunk: int, but: int | None = None) -> list[str]:
    return [row.name for row in repo.of_trunk(s, trunk) if row.story_id != but]


# --- creating ----------------------------------------------------------------------------------

def create_branch(db: Database, story_id: int, name: str, description: str = "", *,
                  version: int | None = None, chapter_uid: str | None = None) -> BranchInfo:
    """Branch ``story_id`` at its version ``version`` (None: a version is saved now, labelled
    "Branch point: <name>").  ``chapter_uid`` is the chapter "Branch from here" was used on
    (kept for the switcher and the compare view; the whole story is shared either way).
    A branch of a branch belongs to the same family (its trunk is the main story).

    Refused with BranchError — nothing written — for a missing or duplicate name, a version
    or chapter that does not exist."""
    description = check_description(description)
    with db.session() as s:
        parent = stories_repo.get(s, story_id)
        trunk = repo.trunk_of(s, story_id)
        name = check_name(name, _taken_names(s, trunk))
        if version is None:
            version = publishing.save_version_in(s, story_id, f"Branch point: {name}")
        try:
            snap = versions_repo.snapshot(s, story_id, int(version))
        except (NotFoundError, TypeError, ValueError):
            raise BranchError(f"“{parent.title}” has no version {version} to branch from."
                              ) from None
        manuscript = snap.get("manuscript") or {"chapters": []}
        if chapter_uid is not None and chapter_uid not in {
                ch["id"] for ch in manuscript.get("chapters", [])}:
            raise BranchError(f"The chapter to branch from is not in version {version} of "
                              f"“{parent.title}”.")
        snapshot.validate(snap)
        branch = stories_repo.create(s, StoryFields(title=parent.title))
        series = bibles_repo.series_of(s, story_id)
        if series is not None:  # the branch's bible inherits what the book's does
            bibles_repo.set_series(s, branch.id, series.id)
        for part in snapshot.registered_parts():
            if part.name != "manuscript" and part.name in snap:
                part.restore(s, branch.id, snap[part.name])
        _add_shared_manuscript(s, story_id, branch.id, manuscript)
        row = repo.add(s, branch.id, trunk, story_id, name, description, int(version),
                       chapter_uid)
        history.record(s, story_id, "story", story_id, "branch",
                       {"branch": branch.id, "name": name, "version": int(version),
                        "chapter": chapter_uid})
        history.record(s, branch.id, "story", branch.id, "branched",
                       {"from": story_id, "title": parent.title, "name": name,
                        "version": int(version), "chapter": chapter_uid})
        s.flush()
        return info_of(s, row)


def _add_shared_manuscript(s: Session, parent_id: int, story_id: int,
                           manuscript: dict[str, Any]) -> None:
    """Chapter and scene rows for a snapshot's manuscript, each scene sharing its blob (no
    segment rows).  Word counts come from the parent's rows where the text is the same (the
    usual case), else from the blob."""
    story = stories_repo.get(s, story_id)
    story.word_target = manuscript.get("word_target")
    story.language = manuscript.get("language") or "en"
    known = {row.uid: (row.content_hash, row.words)
             for row in outline_rows.scenes_by_uid(s, parent_id).values()}
    for ch_pos, ch in enumerate(manuscript.get("chapters", [])):
        ch_row = outline_rows.add_chapter(s, story_id, ch["id"], ch_pos, ch.get("title", ""),
                                          ch.get("synopsis", ""), ch.get("status", "draft"),
                                          ch.get("word_target"))
        s.flush()
        if ch.get("metadata"):
            stories_repo.replace_metadata(s, story_id, "chapter", ch_row.id, ch["metadata"])
        for sc_pos, sc in enumerate(ch.get("scenes", [])):
            digest = sc["content"]
            digest_then, words = known.get(sc["id"], (None, 0))
            if digest_then != digest:
                words = sum(count_words(seg.text)
                            for seg in manuscript_repo.blob_segments(s, digest))
            sc_row = outline_rows.add_scene(s, story_id, ch_row.id, sc["id"], sc_pos,
                                            sc.get("title", ""), sc.get("synopsis", ""),
                                            sc.get("status", "draft"), words, digest, digest)
            if sc.get("metadata"):
                s.flush()
                stories_repo.replace_metadata(s, story_id, "scene", sc_row.id, sc["metadata"])
    s.flush()


# --- renaming, deleting ------------------------------------------------------------------------

def _branch_row(s: Session, story_id: int):
    stories_repo.get(s, story_id)
    row = repo.get(s, story_id)
    if row is None:
        raise BranchError("This is the main story, not a branch.")
    return row


def rename_branch(db: Database, story_id: int, name: str, description: str) -> BranchInfo:
    description = check_description(description)
    with db.session() as s:
        row = _branch_row(s, story_id)
        name = check_name(name, _taken_names(s, row.trunk_id, but=story_id))
        change = {k: {"old": getattr(row, k), "new": v}
                  for k, v in (("name", name), ("description", description))
                  if getattr(row, k) != v}
        if change:
            row.name, row.description = name, description
            history.record(s, story_id, "branch", story_id, "update", change)
        return info_of(s, row)


def delete_branch(db: Database, story_id: int) -> None:
    """Move a branch to the trash (``services.stories.delete_story``: it can be brought back).
    The main story is deleted from the library instead, with its branches."""
    from studio.services import stories

    with db.session() as s:
        stories_repo.get(s, story_id)
        if repo.get(s, story_id) is None:
            raise BranchError("The main story cannot be deleted as a branch; delete it from "
                              "the library (its branches go with it).")
    stories.delete_story(db, story_id)


# --- comparing ---------------------------------------------------------------------------------

def _light_outline(s: Session, story_id: int) -> list[dict[str, Any]]:
    """Chapters and scenes without prose: ``{"id", "title", "scenes": [{"id", "title",
    "words", "digest", "row"}]}``."""
    out = []
    for ch in manuscript_repo.live_chapters(s, story_id):
        out.append({"id": ch.uid, "title": ch.title, "scenes": [
            {"id": sc.uid, "title": sc.title, "words": sc.words,
             "digest": sc.content_hash or sc.shared_blob or "", "row": sc.id}
            for sc in manuscript_repo.live_scenes(s, ch.id)]})
    return out


def compare(db: Database, a_id: int, b_id: int) -> list[ChapterDiff]:
    """Two stories (usually two members of a family) chapter by chapter, with the text of
    each scene on both sides.  A scene whose stored content is the same on both sides is read
    once."""
    with db.session() as s:
        stories_repo.get(s, a_id)
        stories_repo.get(s, b_id)
        a, b = _light_outline(s, a_id), _light_outline(s, b_id)

        def text_of(_side: str, scene: dict[str, Any]) -> str:
            return join_segments(manuscript_repo.segments_of(s, scene["row"]))

        return compare_outlines(a, b, text_of)


# --- storage -----------------------------------------------------------------------------------

def branch_storage(db: Database, branch_id: int) -> dict[str, Any]:
    """What the story's own rows hold: ``total`` bytes (values: text by length, numbers as 8
    bytes; SQLite's page and index overhead comes on top), ``rows``, per table ``tables``, and
    how many scenes still share their blob.  Blobs are not counted: they are shared by content
    (a branch's scenes point at the parent's version's blobs)."""
    with db.session() as s:
        stories_repo.get(s, branch_id)
        tables = repo.row_bytes(s, branch_id)
        return {"story_id": branch_id,
                "total": sum(t["bytes"] for t in tables.values()),
                "rows": sum(t["rows"] for t in tables.values()),
                "tables": tables, **repo.scene_sharing(s, branch_id)}


# Merging lives in its own module (it is the larger half); its names are part of this API.
from studio.services.branch_merge import BranchMergePlan, apply_merge, plan_merge  # noqa: E402
