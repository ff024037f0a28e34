"""Scene bibles: load, save with optimistic locking, versions, "as of" a scene, series.

A book's bible is its own record plus, when the book belongs to a series, the series' record
(``domain.bible.merge_series``).  Both are versioned the same way: a save names the version it
was made against, and is refused with :class:`StaleBibleError` if another save (another window,
an import, a sync) got there first — the caller gets both versions to show the author.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from studio.domain import bible as rules
from studio.domain.bible import BibleVersionInfo
from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.services.schemas import validate_bible
from studio.store.database import Database
from studio.store.repositories import bibles as repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo

Scope = Literal["story", "series"]
MAX_SERIES_NAME = 200


class StaleBibleError(StudioError):
    """A save made against a version that is no longer the latest."""

    def __init__(self, scope: Scope, base: int, latest: int, theirs: dict[str, Any],
                 yours: dict[str, Any]):
        self.scope, self.base, self.latest = scope, base, latest
        self.theirs, self.yours = theirs, yours
        what = "series bible" if scope == "series" else "scene bible"
        super().__init__(
            f"The {what} changed while you were editing: you edited version {base}, but "
            f"version {latest} has been saved since (another window, an import or a sync). "
            "Your change was not saved; compare both and apply yours again on the latest.")


@dataclass(frozen=True)
class SeriesInfo:
    uid: str
    name: str
    stories: int


@dataclass
class BibleState:
    """What the bible panel shows: the book's own record and the series' record it inherits."""

    story_version: int
    story_data: dict[str, Any]
    series: SeriesInfo | None = None
    series_version: int = 0
    series_data: dict[str, Any] = field(default_factory=dict)

    @property
    def effective(self) -> dict[str, Any]:
        return rules.merge_series(self.series_data if self.series else None, self.story_data)

    def version_of(self, scope: Scope) -> int:
        return self.series_version if scope == "series" else self.story_version

    def data_of(self, scope: Scope) -> dict[str, Any]:
        return self.series_data if scope == "series" else self.story_data


@dataclass(frozen=True)
class VersionEntry:
    number: int
    cause_segment: str | None
    summary: str
    created_at: datetime


def _series_info(s, row) -> SeriesInfo:
    return SeriesInfo(row.uid, row.name, len(repo.members(s, row.id)))


def _owner(s, story_id: int, scope: Scope) -> int:
    stories_repo.get(s, story_id)  # NotFoundError for a missing story
    if scope == "story":
        return story_id
    series = repo.series_of(s, story_id)
    if series is None:
        raise NotFoundError("This story is not part of a series.")
    return series.id


def _state(s, story_id: int) -> BibleState:
    stories_repo.get(s, story_id)
    number, data = repo.latest_data(s, "story", story_id)
    state = BibleState(number, data)
    series = repo.series_of(s, story_id)
    if series is not None:
        state.series = _series_info(s, series)
        state.series_version, state.series_data = repo.latest_data(s, "series", series.id)
    return state


def load(db: Database, story_id: int) -> BibleState:
    with db.session() as s:
        return _state(s, story_id)


def effective_bible(db: Database, story_id: int) -> dict[str, Any]:
    return load(db, story_id).effective


def save(db: Database, story_id: int, scope: Scope, base_version: int, data: dict[str, Any],
         cause_segment: str | None = None) -> BibleState:
    """Store ``data`` as the next version of the story's (or its series') bible.

    Refused — nothing stored — when ``data`` is invalid (ValidationError with path and reason)
    or when ``base_version`` is not the latest (StaleBibleError with both versions).
    """
    with db.session() as s:
        owner = _owner(s, story_id, scope)
        state = _state(s, story_id)
        if scope == "story":
            validate_bible(data, state.series_data if state.series else None)
        else:
            validate_bible(data)
            for member in repo.members(s, owner):
                # The series must stay valid under every book that inherits it.
                _, own = repo.latest_data(s, "story", member)
                try:
                    validate_bible(own, data)
                except ValidationError as exc:
                    title = stories_repo.get(s, member).title
                    raise ValidationError(
                        "Series bible", exc.path,
                        f"{exc.reason} — in the bible of “{title}”, which shares this series"
                    ) from None
        if cause_segment is not None and not isinstance(cause_segment, str):
            raise ValidationError("Scene bible", ["cause_segment"], "must be a segment id")
        latest, current = repo.latest_data(s, scope, owner)
        if latest != base_version:
            raise StaleBibleError(scope, base_version, latest, current, data)
        try:
            repo.add_version(s, scope, owner, latest + 1, data, cause_segment,
                             rules.summarise_change(current, data))
        except IntegrityError:
            # Another connection wrote latest + 1 between our read and our insert.
            s.rollback()
            with db.session() as s2:
                newest, theirs = repo.latest_data(s2, scope, owner)
            raise StaleBibleError(scope, base_version, newest, theirs, data) from None
        history.record(s, story_id, "bible", owner, "save",
                       {"scope": scope, "version": latest + 1, "cause": cause_segment})
        return _state(s, story_id)


def versions(db: Database, story_id: int, scope: Scope = "story") -> list[VersionEntry]:
    with db.session() as s:
        owner = _owner(s, story_id, scope)
        return [VersionEntry(r.number, r.cause_segment, r.summary, stories_repo.aware(r.created_at))
                for r in repo.list_versions(s, scope, owner)]


def version_data(db: Database, story_id: int, number: int,
                 scope: Scope = "story") -> dict[str, Any]:
    with db.session() as s:
        owner = _owner(s, story_id, scope)
        return json.loads(repo.get_version(s, scope, owner, number).data_json)


@dataclass(frozen=True)
class AsOf:
    """The bible as it stood at the end of a scene."""

    scene_uid: str
    data: dict[str, Any]
    story_version: int | None
    series_version: int | None


def as_of_scene(db: Database, story_id: int, scene_uid: str) -> AsOf:
    """The effective bible at the end of ``scene_uid``: the versions saved by then, with
    whatever the prose had not reached yet hidden (``domain.bible.as_of``)."""
    with db.session() as s:
        stories_repo.get(s, story_id)
        manuscript_repo.scene(s, story_id, scene_uid)
        order_rows = manuscript_repo.reading_order(s, story_id, with_text=False)
        order = {seg: i for i, (seg, _c, _sc, _t) in enumerate(order_rows)}
        position = -1
        for i, (_seg, _chap, scene, _t) in enumerate(order_rows):
            if scene == scene_uid:
                position = i
            elif position >= 0:
                break
        if position < 0:
            # An empty scene: the end of the nearest scene before it in the outline.
            uids = [sc.uid for ch in manuscript_repo.outline(s, story_id).chapters
                    for sc in ch.scenes]
            earlier = set(uids[:uids.index(scene_uid)])
            position = max((i for i, r in enumerate(order_rows) if r[2] in earlier), default=-1)

        def pick(kind: Scope, owner: int) -> tuple[int | None, dict[str, Any]]:
            infos = [BibleVersionInfo(r.number, r.cause_segment, r.summary, r.created_at)
                     for r in repo.list_versions(s, kind, owner)]
            number = rules.version_as_of(infos, order, position)
            if number is None:
                return None, {}
            return number, json.loads(repo.get_version(s, kind, owner, number).data_json)

        story_number, own = pick("story", story_id)
        series = repo.series_of(s, story_id)
        series_number, series_data = (pick("series", series.id) if series else (None, None))
        merged = rules.merge_series(series_data, own)
        return AsOf(scene_uid, rules.as_of(merged, order, position), story_number,
                    series_number)


# --- series -------------------------------------------------------------------------------

def _check_series_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Series", ["name"], "give the series a name")
    if len(name) > MAX_SERIES_NAME:
        raise ValidationError("Series", ["name"], f"at most {MAX_SERIES_NAME} characters")
    return name


def list_series(db: Database) -> list[SeriesInfo]:
    with db.session() as s:
        return [_series_info(s, r) for r in repo.all_series(s)]


def create_series(db: Database, story_id: int, name: str) -> BibleState:
    """Start a series with this story as its first book; its bible starts empty."""
    name = _check_series_name(name)
    with db.session() as s:
        stories_repo.get(s, story_id)
        row = repo.create_series(s, "series_" + secrets.token_hex(6), name)
        repo.set_series(s, story_id, row.id)
        history.record(s, story_id, "series", row.id, "create", {"name": name})
        return _state(s, story_id)


def join_series(db: Database, story_id: int, series_uid: str) -> BibleState:
    """Make the story a book of an existing series; refused if the two bibles clash."""
    with db.session() as s:
        stories_repo.get(s, story_id)
        row = repo.series_by_uid(s, series_uid)
        if row is None:
            raise NotFoundError("That series no longer exists.")
        _, series_data = repo.latest_data(s, "series", row.id)
        _, own = repo.latest_data(s, "story", story_id)
        try:
            validate_bible(own, series_data)
        except ValidationError as exc:
            raise ValidationError(
                "Series", exc.path,
                f"this book's bible clashes with the series “{row.name}”: {exc.reason}"
            ) from None
        repo.set_series(s, story_id, row.id)
        history.record(s, story_id, "series", row.id, "join", {"name": row.name})
        return _state(s, story_id)


def leave_series(db: Database, story_id: int) -> BibleState:
    """The story stops inheriting; the series keeps its bible for its other books.

    Relationships of the book's characters to series characters would dangle, so those are
    refused with the path of the first one.
    """
    with db.session() as s:
        series = repo.series_of(s, story_id)
        if series is None:
            return _state(s, story_id)
        _, own = repo.latest_data(s, "story", story_id)
        try:
            validate_bible(own)
        except ValidationError as exc:
            raise ValidationError(
                "Series", exc.path,
                f"this book still depends on the series bible: {exc.reason}") from None
        repo.set_series(s, story_id, None)
        history.record(s, story_id, "series", series.id, "leave", {"name": series.name})
        return _state(s, story_id)


def segment_places(db: Database, story_id: int) -> dict[str, tuple[str, str]]:
    """seg id → (scene uid, "2.1 Storm ¶3"): where a bible anchor or a finding points."""
    with db.session() as s:
        outline = manuscript_repo.outline(s, story_id)
        rows = manuscript_repo.reading_order(s, story_id, with_text=False)
    labels = {sc.uid: f"{ci + 1}.{si + 1} {sc.title}".strip()
              for ci, ch in enumerate(outline.chapters) for si, sc in enumerate(ch.scenes)}
    places: dict[str, tuple[str, str]] = {}
    paragraph = 0
    last_scene = None
    for seg, _chap, scene, _t in rows:
        paragraph = paragraph + 1 if scene == last_scene else 1
        last_scene = scene
        places[seg] = (scene, f"{labels.get(scene, '?')} ¶{paragraph}")
    return places
