"""The chapter graph's part of a story snapshot: the graph, its chapter versions and the
playthroughs (with their progress and divergence logs), so versions, restore, diff and the JSON
export carry all of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from studio.domain.errors import ValidationError
from studio.services.snapshot import SnapshotPart, register_part
from studio.store.repositories import chapter_graphs as repo
from studio.store.repositories.stories import aware


def collect(session: Session, story_id: int) -> dict[str, Any]:
    plays = []
    for row in reversed(repo.playthroughs(session, story_id)):
        plays.append({"id": row.uid, "name": row.name, "state": json.loads(row.state_json),
                      "progress": json.loads(row.progress_json),
                      "turns": json.loads(row.turns_json), "log": repo.log(session, row),
                      "created_at": aware(row.created_at).isoformat()})
    return {"graph": repo.graph(session, story_id),
            "versions": repo.chapter_versions(session, story_id), "playthroughs": plays}


def validate(part: Any) -> None:
    from studio.services.chapter_graph import check

    if not isinstance(part, dict):
        raise ValidationError("Chapter graph", [], "must be an object")
    check(part.get("graph", {"chapters": []}), None)
    for i, v in enumerate(part.get("versions", [])):
        if not isinstance(v, dict) or not isinstance(v.get("number"), int) \
                or not isinstance(v.get("chapter"), str) or not isinstance(v.get("data"), dict):
            raise ValidationError("Chapter versions", [i], "is not a chapter version")
        try:
            datetime.fromisoformat(v["created_at"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError("Chapter versions", [i, "created_at"],
                                  "is not a date and time") from None
    for i, p in enumerate(part.get("playthroughs", [])):
        if not isinstance(p, dict) or not isinstance(p.get("id"), str) \
                or not isinstance(p.get("turns", []), list):
            raise ValidationError("Playthroughs", [i], "is not a playthrough")


def restore(session: Session, story_id: int, part: dict[str, Any]) -> None:
    from studio.domain.chapters import ChapterGraph

    graph = ChapterGraph.from_dict(part.get("graph") or {"chapters": []}).as_dict()
    repo.write_graph(session, story_id, graph)
    repo.replace_chapter_versions(session, story_id, part.get("versions", []))
    repo.delete_playthroughs(session, story_id)
    for p in part.get("playthroughs", []):
        row = repo.add_playthrough(session, story_id, p["id"], p.get("name", "Playthrough"),
                                   p.get("state", {}), p.get("progress", {}),
                                   p.get("turns", []))
        for entry in p.get("log", []):
            repo.add_log(session, row, {"turn": entry["turn"], "chapter": entry["chapter"],
                                        "score": entry["score"],
                                        "strategy": entry["strategy"],
                                        "breakdown": entry.get("breakdown", []),
                                        "reason": entry.get("reason", ""),
                                        "change": entry.get("change", "")})
    session.flush()


def render(part: dict[str, Any]) -> dict[str, str]:
    chapters = part.get("graph", {}).get("chapters", [])
    if not chapters:
        return {}
    numbers = {c["id"]: c["number"] for c in chapters}
    lines = []
    for c in sorted(chapters, key=lambda c: c["number"]):
        needs = ", ".join(str(numbers.get(p, "?")) for p in c.get("prerequisites", []))
        lines.append(f"{c['number']}. {c['title']} [{c.get('status', 'draft')}]"
                     + (f" — requires {needs}" if needs else ""))
        for t in c.get("triggers", []):
            label = f"{t.get('key')} = {t['value']}" if t["kind"] == "key" else t["value"]
            lines.append(f"    when {t['kind']}: {label}" + (" (critical)" if t.get("critical")
                                                              else ""))
        if c.get("summary"):
            lines.append("    " + c["summary"])
    sections = {"Chapter graph": "\n".join(lines)}
    plays = part.get("playthroughs", [])
    if plays:
        sections["Playthroughs"] = "\n".join(
            f"{p.get('name')}: {len(p.get('turns', []))} turns, "
            f"{len(p.get('log', []))} log entries" for p in plays)
    return sections


register_part(SnapshotPart("chapter_graph", collect, restore, render, validate))
