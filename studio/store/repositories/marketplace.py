"""The local side of the marketplace in the database: cached reference stories and versions,
story links, the outline rows of local forks, and read access to outbox entries.

(Writing the outbox is ``studio.store.repositories.outbox``'s job; this module only reads an
entry so the marketplace services can build what the sync layer sends.)
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError
from studio.store.models import (
    Chapter, OutboxEntry, ReferenceStory, ReferenceVersion, Scene, SegmentRow, StoryLink, utcnow,
)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str)


# --- reference stories and versions --------------------------------------------------------

def reference_story(session: Session, server_url: str, public_id: str) -> ReferenceStory | None:
    return session.scalar(select(ReferenceStory).where(ReferenceStory.server_url == server_url,
                                                       ReferenceStory.public_id == public_id))


def upsert_reference_story(session: Session, server_url: str, public_id: str,
                           **fields: Any) -> ReferenceStory:
    """Create or update the cached story; ``fields`` are column values (``detail`` → JSON)."""
    row = reference_story(session, server_url, public_id)
    if row is None:
        row = ReferenceStory(server_url=server_url, public_id=public_id, title="", owner="",
                             licence="", latest_version=0, detail_json="{}")
        session.add(row)
    if "detail" in fields:
        row.detail_json = dumps(fields.pop("detail"))
    for key, value in fields.items():
        setattr(row, key, value)
    row.fetched_at = utcnow()
    session.flush()
    return row


def reference_story_by_id(session: Session, row_id: int) -> ReferenceStory:
    row = session.get(ReferenceStory, row_id)
    if row is None:
        raise NotFoundError(f"There is no cached marketplace story with id {row_id}.")
    return row


def all_reference_stories(session: Session) -> list[ReferenceStory]:
    return list(session.scalars(select(ReferenceStory).order_by(ReferenceStory.title,
                                                                ReferenceStory.id)))


def reference_version(session: Session, reference_story_id: int,
                      number: int) -> ReferenceVersion | None:
    return session.scalar(select(ReferenceVersion).where(
        ReferenceVersion.reference_story_id == reference_story_id,
        ReferenceVersion.number == number))


def reference_version_by_id(session: Session, version_id: int) -> ReferenceVersion:
    row = session.get(ReferenceVersion, version_id)
    if row is None:
        raise NotFoundError(f"There is no cached marketplace version with id {version_id}.")
    return row


def add_reference_version(session: Session, reference_story_id: int, number: int,
                          changelog: str, manifest: dict, modules: dict, scene_bible: dict,
                          chapter_graph: dict, words: int) -> ReferenceVersion:
    row = ReferenceVersion(reference_story_id=reference_story_id, number=number,
                           changelog=changelog, manifest_json=dumps(manifest),
                           modules_json=dumps(modules), scene_bible_json=dumps(scene_bible),
                           chapter_graph_json=dumps(chapter_graph), words=words,
                           fetched_at=utcnow())
    session.add(row)
    session.flush()
    return row


def versions_of(session: Session, reference_story_id: int) -> list[ReferenceVersion]:
    """A cached story's versions, oldest first (manifests stay unloaded until read)."""
    return list(session.scalars(select(ReferenceVersion).where(
        ReferenceVersion.reference_story_id == reference_story_id)
        .order_by(ReferenceVersion.number)))


def cached_numbers(session: Session) -> dict[int, list[int]]:
    """reference story row id → the numbers of its cached versions (ascending)."""
    out: dict[int, list[int]] = {}
    for story_id, number in session.execute(
            select(ReferenceVersion.reference_story_id, ReferenceVersion.number)
            .order_by(ReferenceVersion.reference_story_id, ReferenceVersion.number)):
        out.setdefault(story_id, []).append(number)
    return out


# --- story links ---------------------------------------------------------------------------

def link(session: Session, story_id: int) -> StoryLink | None:
    return session.get(StoryLink, story_id)


def ensure_link(session: Session, story_id: int, server_url: str) -> StoryLink:
    row = session.get(StoryLink, story_id)
    if row is None:
        now = utcnow()
        row = StoryLink(story_id=story_id, server_url=server_url, created_at=now,
                        updated_at=now)
        session.add(row)
        session.flush()
    return row


def touch_link(row: StoryLink) -> None:
    row.updated_at = utcnow()


# --- outline rows of forks and pulls --------------------------------------------------------

def add_chapter(session: Session, story_id: int, uid: str, position: int, title: str,
                synopsis: str = "", status: str = "draft",
                word_target: int | None = None) -> Chapter:
    now = utcnow()
    row = Chapter(story_id=story_id, uid=uid, position=position, title=title, synopsis=synopsis,
                  status=status, word_target=word_target, created_at=now, updated_at=now)
    session.add(row)
    return row


def add_scene(session: Session, story_id: int, chapter_id: int, uid: str, position: int,
              title: str, synopsis: str = "", status: str = "draft", words: int = 0,
              content_hash: str = "", shared_blob: str | None = None) -> Scene:
    """A scene row; with ``shared_blob`` it reads that blob until its first edit (no rows)."""
    now = utcnow()
    row = Scene(story_id=story_id, chapter_id=chapter_id, uid=uid, position=position,
                title=title, synopsis=synopsis, status=status, words=words,
                content_hash=content_hash, shared_blob=shared_blob, created_at=now,
                updated_at=now)
    session.add(row)
    return row


def chapters_by_uid(session: Session, story_id: int) -> dict[str, Chapter]:
    """Every chapter row of the story, deleted ones included."""
    return {c.uid: c for c in session.scalars(select(Chapter).where(Chapter.story_id == story_id))}


def scenes_by_uid(session: Session, story_id: int) -> dict[str, Scene]:
    """Every scene row of the story, deleted ones included."""
    return {s.uid: s for s in session.scalars(select(Scene).where(Scene.story_id == story_id))}


def segment_places(session: Session, story_id: int) -> list[tuple[str, int]]:
    """(segment uid, scene row id) of every segment row of the story, deleted scenes' too."""
    return [tuple(r) for r in session.execute(
        select(SegmentRow.uid, SegmentRow.scene_id).where(SegmentRow.story_id == story_id))]


def delete_segment_rows(session: Session, story_id: int, uids: Iterable[str]) -> None:
    uids = list(uids)
    for i in range(0, len(uids), 900):
        session.execute(delete(SegmentRow).where(SegmentRow.story_id == story_id,
                                                 SegmentRow.uid.in_(uids[i:i + 900])))


def has_segment_rows(session: Session, scene_id: int) -> bool:
    return session.scalar(select(SegmentRow.id).where(SegmentRow.scene_id == scene_id)
                          .limit(1)) is not None


def segment_row_count(session: Session, story_id: int) -> int:
    return session.scalar(select(func.count(SegmentRow.id))
                          .where(SegmentRow.story_id == story_id)) or 0


def share_scene(row: Scene, digest: str, words: int) -> None:
    """Point a scene that has no segment rows at a stored blob (copy-on-write again)."""
    row.shared_blob = digest
    row.content_hash = digest
    row.words = words
    row.updated_at = utcnow()


# --- the outbox, read only -----------------------------------------------------------------

def outbox_entry(session: Session, entry_id: int) -> OutboxEntry:
    row = session.get(OutboxEntry, entry_id)
    if row is None:
        raise NotFoundError(f"There is no outbox entry {entry_id}.")
    return row


def outbox_payload(row: OutboxEntry) -> dict[str, Any]:
    return json.loads(row.payload_json or "{}")


def freeze_payload(row: OutboxEntry, values: dict[str, Any]) -> dict[str, Any]:
    """Add what an entry's first send fixed (e.g. the version snapshot it publishes) to its
    payload, so every retry sends the same request; returns the new payload."""
    data = outbox_payload(row)
    data.update(values)
    row.payload_json = json.dumps(data, ensure_ascii=False, sort_keys=True)
    row.updated_at = utcnow()
    return data


def waiting_entries(session: Session, story_id: int, kinds: Iterable[str]) -> int:
    """Outbox entries of the story, of ``kinds``, not landed yet (pending or sending)."""
    return session.scalar(select(func.count(OutboxEntry.id)).where(
        OutboxEntry.story_id == story_id, OutboxEntry.kind.in_(list(kinds)),
        OutboxEntry.state.in_(("pending", "sending")))) or 0


def signed_in_user(session: Session, server_url: str) -> str | None:
    from studio.store.models import MarketplaceServer

    return session.scalar(select(MarketplaceServer.username)
                          .where(MarketplaceServer.url == server_url))


def blob_exists(session: Session, digest: str) -> bool:
    from studio.store.models import TextBlob

    return session.get(TextBlob, digest) is not None
