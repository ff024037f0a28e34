"""Lossless JSON export and import of a whole story, its version history included.

The file is the story's snapshot (every registered part) plus its versions, under a small
header naming the format.  Import validates everything before creating anything, so a bad file
leaves the library as it was.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from studio.config import resources_dir
from studio.domain.errors import ImportFormatError, ValidationError
from studio.domain.story import StoryDetail, StoryFields, UNTITLED
from studio.services import bible_history, manuscript_snapshot, snapshot
from studio.services.files import write_text_atomically
from studio.store.database import Database
from studio.store.models import Version
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo
from studio.store.repositories import versions as versions_repo

FORMAT = "story-studio.story"
FORMAT_VERSION = 1
SAMPLE_FILE = "lighthouse_keepers_daughter.story.json"


def export_story(db: Database, story_id: int) -> dict[str, Any]:
    with db.session() as s:
        data: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
        data.update(snapshot.take(s, story_id))
        data["versions"] = [
            {"number": info.number, "label": info.label, "summary": info.summary,
             "created_at": info.created_at.isoformat(), "restored_from": info.restored_from,
             "metadata": stories_repo.get_metadata(s, "version", info.id),
             "snapshot": snap}
            for info, snap in versions_repo.all_with_snapshots(s, story_id)
        ]
        # The manuscript's prose travels once per distinct scene text, whatever refers to it.
        wanted = manuscript_snapshot.referenced_blobs(data.get("manuscript"))
        for v in data["versions"]:
            wanted |= manuscript_snapshot.referenced_blobs(v["snapshot"].get("manuscript"))
        data["blobs"] = {h: json.loads(manuscript_repo.get_blob(s, h)) for h in sorted(wanted)}
        data.update(bible_history.export_part(s, story_id))
        return data


def _check_header(data: Any) -> None:
    if not isinstance(data, dict):
        raise ImportFormatError("This file does not hold a Story Studio story (no JSON object).")
    if data.get("format") != FORMAT:
        raise ImportFormatError(
            f"This file is not a Story Studio story (format {data.get('format')!r}, "
            f"expected {FORMAT!r}).")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ImportFormatError(
            f"This story file has format version {version!r}; this Story Studio reads up to "
            f"{FORMAT_VERSION}. Update Story Studio to import it.")
    if not isinstance(data.get("story"), dict):
        raise ImportFormatError("This story file has no “story” section.")


def _parse_time(value: Any, where: list[str | int]) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError("Versions", where, f"{value!r} is not a date and time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _check_versions(versions: Any) -> None:
    if not isinstance(versions, list):
        raise ValidationError("Versions", [], "must be a list")
    seen = set()
    for i, v in enumerate(versions):
        if not isinstance(v, dict) or not isinstance(v.get("number"), int) or v["number"] < 1:
            raise ValidationError("Versions", [i, "number"], "must be a positive whole number")
        if v["number"] in seen:
            raise ValidationError("Versions", [i, "number"], f"{v['number']} appears twice")
        seen.add(v["number"])
        _parse_time(v.get("created_at"), [i, "created_at"])
        if not isinstance(v.get("snapshot"), dict):
            raise ValidationError("Versions", [i, "snapshot"], "must be an object")
        if not isinstance(v.get("metadata", {}), dict):
            raise ValidationError("Versions", [i, "metadata"], "must be an object")
        snapshot.validate(v["snapshot"])


def _check_blobs(data: dict[str, Any]) -> dict[str, str]:
    """Every scene text the file refers to must be in it, and match its hash."""
    from studio.domain.manuscript import Segment, content_hash

    blobs = data.get("blobs", {})
    if not isinstance(blobs, dict):
        raise ValidationError("Manuscript", ["blobs"], "must map hashes to scene texts")
    wanted = manuscript_snapshot.referenced_blobs(data.get("manuscript"))
    for v in data.get("versions", []):
        wanted |= manuscript_snapshot.referenced_blobs(v["snapshot"].get("manuscript"))
    payloads = {}
    for digest in wanted:
        if digest not in blobs:
            raise ValidationError("Manuscript", ["blobs", digest[:12]],
                                  "a scene's text is missing from the file")
        try:
            segments = [Segment(d["id"], d["text"], int(d.get("gap", 0))) for d in blobs[digest]]
        except (TypeError, KeyError, ValueError):
            raise ValidationError("Manuscript", ["blobs", digest[:12]],
                                  "is not a list of segments") from None
        if content_hash(segments) != digest:
            raise ValidationError("Manuscript", ["blobs", digest[:12]],
                                  "does not match its hash (the file was altered)")
        payloads[digest] = json.dumps([seg.as_dict() for seg in segments],
                                      ensure_ascii=False, separators=(",", ":"))
    return payloads


def import_story(db: Database, data: Any) -> StoryDetail:
    _check_header(data)
    snapshot.validate(data)
    _check_versions(data.get("versions", []))
    payloads = _check_blobs(data)
    bible_history.check_part(data)
    story_part = data["story"]
    with db.session() as s:
        for digest, payload in payloads.items():
            manuscript_repo.put_blob(s, digest, payload)
        s.flush()
        story = stories_repo.create(s, StoryFields(title=story_part.get("title") or UNTITLED))
        # Bible history first, so that restoring the live bible finds it already current.
        bible_history.import_part(s, story.id, data)
        snapshot.apply(s, story.id, data)
        for v in data.get("versions", []):
            version = Version(story_id=story.id, number=v["number"], label=v.get("label", ""),
                              summary=v.get("summary", ""), restored_from=v.get("restored_from"),
                              created_at=_parse_time(v["created_at"], []),
                              snapshot_json=json.dumps(v["snapshot"], ensure_ascii=False,
                                                       sort_keys=True))
            s.add(version)
            s.flush()
            stories_repo.replace_metadata(s, story.id, "version", version.id,
                                          v.get("metadata") or {})
        if data.get("versions"):
            story.active_version = max(v["number"] for v in data["versions"])
        history.record(s, story.id, "story", story.id, "import",
                       {"title": story.title, "versions": len(data.get("versions", []))})
        s.flush()
        return stories_repo.detail(s, story.id)


def read_story_file(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFormatError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise ImportFormatError(f"{path} is not a UTF-8 text file.") from None
    except OSError as exc:
        raise ImportFormatError(f"{path} cannot be read: {exc.strerror}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).")


def import_file(db: Database, path: Path) -> StoryDetail:
    return import_story(db, read_story_file(path))


def write_json_atomically(path: Path, data: Any) -> None:
    write_text_atomically(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def export_file(db: Database, story_id: int, path: Path) -> None:
    write_json_atomically(path, export_story(db, story_id))


def sample_path() -> Path:
    return resources_dir() / "samples" / SAMPLE_FILE


def import_sample(db: Database) -> StoryDetail:
    return import_file(db, sample_path())


def ensure_sample_on_first_run(db: Database) -> StoryDetail | None:
    """Import the sample story into a library that has never held anything.

    "Never held anything" is judged by the edit history, not by the story count, so an author
    who deleted every story does not find the sample coming back.
    """
    from sqlalchemy import select

    from studio.store.models import EditHistory

    with db.session() as s:
        if s.scalar(select(EditHistory.id).limit(1)) is not None:
            return None
    return import_sample(db)
