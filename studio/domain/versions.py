"""Comparing story snapshots: what changed between two versions, in words and line by line.

A snapshot is a JSON-ready dict of *parts* (``story``, ``modules``, and whatever later features
register); each part is rendered to titled sections of plain text, and sections are compared
with difflib.  Rendering to text first is what makes the diff readable to an author instead of
a JSON patch.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from studio.domain.modules import MODULES, module_spec, render_output_text


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass
class SectionDiff:
    title: str
    changed: bool
    lines: list[DiffLine] = field(default_factory=list)
    added: int = 0
    removed: int = 0


def diff_text(old: str, new: str) -> SectionDiff:
    result = SectionDiff(title="", changed=old != new)
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.lines += [DiffLine("same", t) for t in old_lines[i1:i2]]
            continue
        removed = [DiffLine("removed", t) for t in old_lines[i1:i2]]
        added = [DiffLine("added", t) for t in new_lines[j1:j2]]
        result.lines += removed + added
        result.removed += len(removed)
        result.added += len(added)
    return result


def diff_sections(old: dict[str, str], new: dict[str, str]) -> list[SectionDiff]:
    """Section by section, in the order of ``new`` then sections only ``old`` had."""
    titles = list(new) + [t for t in old if t not in new]
    diffs = []
    for title in titles:
        d = diff_text(old.get(title, ""), new.get(title, ""))
        d.title = title
        diffs.append(d)
    return diffs


def render_story_part(story: dict[str, Any]) -> dict[str, str]:
    lines = [
        f"Title: {story.get('title', '')}",
        f"Logline: {story.get('logline', '')}",
        f"Genre: {story.get('genre', '')}",
        f"Complete: {'yes' if story.get('complete') else 'no'}",
    ]
    for key, value in sorted((story.get("metadata") or {}).items()):
        lines.append(f"{key}: {value!r}")
    return {"Story": "\n".join(lines)}


def render_modules_part(modules: dict[str, Any]) -> dict[str, str]:
    sections = {}
    for spec in MODULES:
        data = modules.get(spec.key) or {}
        notes = data.get("input", "")
        text = "Notes:\n" + "\n".join("  " + line for line in notes.splitlines())
        text += "\n" + render_output_text(spec.key, data.get("output") or {})
        sections[spec.title] = text
    return sections


def summarize_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """One line saying what a new version changed, e.g. “Idea Spark: logline, themes”."""
    if old is None:
        return "First version"
    parts: list[str] = []
    old_story, new_story = old.get("story", {}), new.get("story", {})
    story_changed = [k for k in ("title", "logline", "genre", "complete", "metadata")
                     if old_story.get(k) != new_story.get(k)]
    if story_changed:
        parts.append("Story: " + ", ".join(story_changed))
    old_modules, new_modules = old.get("modules", {}), new.get("modules", {})
    for spec in MODULES:
        a, b = old_modules.get(spec.key) or {}, new_modules.get(spec.key) or {}
        changed = []
        if a.get("input", "") != b.get("input", ""):
            changed.append("notes")
        ao, bo = a.get("output") or {}, b.get("output") or {}
        for key in list(dict.fromkeys(list(bo) + list(ao))):
            if ao.get(key) != bo.get(key):
                try:
                    changed.append(module_spec(spec.key).field(key).label.lower())
                except KeyError:
                    changed.append(key)
        if changed:
            parts.append(f"{spec.title}: " + ", ".join(changed))
    for key in sorted(set(old) | set(new)):
        if key not in ("story", "modules", "format", "format_version") and \
                old.get(key) != new.get(key):
            parts.append(key.replace("_", " ").capitalize())
    return "; ".join(parts) if parts else "No changes"
