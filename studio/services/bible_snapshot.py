"""The scene bible's part of a story snapshot: the book's own bible and its emotions.

A series bible is not part of a book's snapshot: restoring book 2 to last week must not rewind
the cast that books 1 and 3 share.  Restore never rewrites bible history; it saves the restored
record as the next bible version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from studio.domain import bible as rules
from studio.domain.emotions import parse_state
from studio.domain.errors import ValidationError
from studio.services.schemas import bible_problems, validate_bible
from studio.services.snapshot import SnapshotPart, register_part
from studio.store.repositories import bibles as repo


def collect(session: Session, story_id: int) -> dict[str, Any]:
    _, data = repo.latest_data(session, "story", story_id)
    return {"data": data, "emotions": repo.emotions(session, story_id)}


def validate(part: Any) -> None:
    if not isinstance(part, dict):
        raise ValidationError("Scene bible", [], "must be an object")
    data = part.get("data", {})
    problems = [p for p in bible_problems(data)
                # A book's relationships may point at series characters: checked on restore.
                if "no character has the id" not in p[1]]
    if problems:
        path, reason = problems[0]
        raise ValidationError("Scene bible", [p for p in path.split("/") if p], reason)
    emotions = part.get("emotions", [])
    if not isinstance(emotions, list):
        raise ValidationError("Emotions", [], "must be a list")
    seen = set()
    for i, item in enumerate(emotions):
        try:
            state = parse_state(item)
        except ValidationError as exc:
            raise ValidationError("Emotions", [i, *exc.path], exc.reason) from None
        if (state.character_id, state.scene_uid) in seen:
            raise ValidationError("Emotions", [i], "a second state for the same character "
                                  "and scene")
        seen.add((state.character_id, state.scene_uid))


def restore(session: Session, story_id: int, part: dict[str, Any]) -> None:
    data = part.get("data", {})
    number, current = repo.latest_data(session, "story", story_id)
    if data != current:
        series = repo.series_of(session, story_id)
        inherited = repo.latest_data(session, "series", series.id)[1] if series else None
        validate_bible(data, inherited)
        repo.add_version(session, "story", story_id, number + 1, data, None,
                         "restored: " + rules.summarise_change(current, data))
    repo.replace_emotions(session, story_id,
                          [parse_state(e).as_dict() for e in part.get("emotions", [])])


def _join(items: list[str]) -> str:
    return ", ".join(i for i in items if i)


def render(part: dict[str, Any]) -> dict[str, str]:
    data = part.get("data") or {}
    sections: dict[str, str] = {}
    names = {c["id"]: c["name"] for c in rules.characters(data)}
    lines = []
    for c in rules.characters(data):
        head = c["name"] + (f" (also {_join(c.get('aliases', []))})" if c.get("aliases") else "")
        if not c.get("active", True):
            head += " — inactive" + (f": {c['inactive_reason']}" if c.get("inactive_reason")
                                     else "")
        lines.append(head)
        if c.get("description"):
            lines.append("  " + c["description"])
        if c.get("traits"):
            lines.append("  traits: " + _join(c["traits"]))
        for r in c.get("relationships", []):
            lines.append(f"  {r['type']} of {names.get(r['target'], r['target'])}")
    if lines:
        sections["Bible: characters"] = "\n".join(lines)
    setting = data.get("setting") or {}
    lines = [f"{k.replace('_', ' ')}: {setting[k]}" for k in ("primary_location", "time_period")
             if setting.get(k)]
    lines += [f"rule: {r}" for r in setting.get("world_rules", [])]
    lines += [f"{loc['name']}: {loc.get('description', '')}".rstrip(": ")
              for loc in setting.get("locations", [])]
    if lines:
        sections["Bible: setting"] = "\n".join(lines)
    timeline = data.get("timeline") or {}
    lines = ([f"now: {timeline['current_point']}"] if timeline.get("current_point") else [])
    lines += [f"{i + 1}. {e['event']}" + (f" → {_join(e.get('consequences', []))}"
                                          if e.get("consequences") else "")
              for i, e in enumerate(timeline.get("events", []))]
    if lines:
        sections["Bible: timeline"] = "\n".join(lines)
    lines = [f"[{t.get('status', 'active')}] {t['description']}"
             for t in rules.threads(data)]
    if lines:
        sections["Bible: plot threads"] = "\n".join(lines)
    style = data.get("style_guide") or {}
    lines = [f"{k.replace('_', ' ')}: {v}" for k, v in style.items() if v]
    if lines:
        sections["Bible: style guide"] = "\n".join(lines)
    lines = []
    for e in part.get("emotions", []):
        who = names.get(e["character_id"], e["character_id"])
        lines.append(f"{who} in {e['scene_uid']}: {e['primary']} {e['intensity']}")
    if lines:
        sections["Emotions"] = "\n".join(lines)
    return sections


register_part(SnapshotPart("bible", collect, restore, render, validate))
